"""``ks``: the two-sample Kolmogorov-Smirnov test (Evidently's ``ks``), as a p-value.

The statistic is SageMaker's ``Simple`` distance ``D = max_x |F_base(x) - F_cur(x)|``; the
p-value is the probability of a ``D`` at least as large when both samples come from one
continuous distribution.

* Raw data (every weight 1): ``scipy.stats.ks_2samp(a, b).pvalue`` itself (exact distribution
  up to 10,000 items per side, asymptotic above, as scipy decides; scipy's warning when its
  exact computation falls back to asymptotic is silenced).
* Weighted items (a KLL sketch): scipy's asymptotic branch, ``kstwo.sf(D, round(n m / (n + m)))``
  with ``n, m`` the total weights.

Drift when ``p < threshold``, default threshold 0.05. ``auto`` picks ``ks`` for a numeric
column with more than 5 distinct values and a reference of at most 1000 rows.
"""

from __future__ import annotations

import warnings

import numpy as np

from vigil.checks.drift.distributions import NumericDistribution
from vigil.checks.drift.methods.simple import ks_statistic
from vigil.checks.drift.registry import DriftMethod, register

__all__ = ["KS", "ks", "ks_pvalue"]

FloatArray = np.ndarray


def _all_ones(*weights: FloatArray) -> bool:
    return all(bool(np.all(w == 1.0)) for w in weights)


def ks_pvalue(a: FloatArray, wa: FloatArray, b: FloatArray, wb: FloatArray) -> float:
    """Two-sided two-sample KS p-value of sorted items ``a``, ``b`` with weights ``wa``, ``wb``."""
    from scipy import stats  # imported lazily: scipy.stats costs ~0.7 s

    if _all_ones(wa, wb):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "ks_2samp: Exact", RuntimeWarning)
            return float(stats.ks_2samp(a, b).pvalue)
    n, m = float(wa.sum()), float(wb.sum())
    en = max(1.0, float(np.round(n * m / (n + m))))
    return float(np.clip(stats.kstwo.sf(ks_statistic(a, wa, b, wb), en), 0.0, 1.0))


def ks(baseline: NumericDistribution, current: NumericDistribution) -> float:
    """The ``ks`` p-value of two non-empty numeric distributions.

    Examples
    --------
    Raw data: the figure is ``scipy.stats.ks_2samp(a, b).pvalue`` (exact, D = 0.5).

    >>> a = NumericDistribution.from_values([1.0, 2.0, 3.0, 4.0])
    >>> b = NumericDistribution.from_values([3.0, 4.0, 5.0, 6.0])
    >>> p = ks(a, b)
    >>> round(p, 4), KS.is_drifted(p, KS.default_threshold)
    (0.7714, False)

    Weighted items, two of weight 2 a side: ``D = 0.5``, ``scipy.stats.kstwo.sf(0.5, 2)``.

    >>> w = NumericDistribution(np.array([1.0, 3.0]), np.array([2.0, 2.0]))
    >>> round(ks(w, NumericDistribution(np.array([3.0, 5.0]), np.array([2.0, 2.0]))), 4)
    0.5
    """
    return ks_pvalue(baseline.values, baseline.weights, current.values, current.weights)


KS = register(
    DriftMethod(
        name="ks",
        applies_to=("numerical",),
        default_threshold=0.05,
        drift_if="<",
        description="two-sample KS p-value (scipy's exact or asymptotic distribution)",
        origin="evidently",
        numerical=ks,
    )
)
