"""``psi``: the population stability index (Evidently's ``psi``).

The PSI of a baseline with shares ``p`` and a window with shares ``q`` over the same bins is

    ``psi = sum_i (q_i - p_i) ln(q_i / p_i)``,

the symmetrised Kullback-Leibler divergence of the two binned distributions. A zero share is
replaced by ``1e-4`` (zeros only, no renormalisation), so that a bin only one side has counts
with a large but finite term.

* Numeric features: 10 bins at the baseline's inverted-CDF deciles (right-closed, the outer two
  open to -inf / +inf, see :mod:`vigil.checks.drift.binning`).
* Categorical features: one bin per category of either side.

Drift when ``value >= threshold`` (Evidently's rule), default threshold 0.1; a common reading is
"below 0.1 stable, 0.1 to 0.25 some change, above 0.25 a significant shift".
"""

from __future__ import annotations

import numpy as np

from vigil.checks.drift.binning import align_counts, quantile_bins
from vigil.checks.drift.distributions import CategoricalDistribution, NumericDistribution
from vigil.checks.drift.registry import DriftMethod, register

__all__ = ["PSI", "PSI_EPSILON", "psi_categorical", "psi_numerical", "psi_of_counts"]

PSI_EPSILON = 1e-4
"""Share given to an empty bin or absent category in PSI (zeros only, no renormalisation)."""


def psi_of_counts(
    base_counts: np.ndarray, cur_counts: np.ndarray, eps: float = PSI_EPSILON
) -> float:
    """``sum((q - p) ln(q / p))`` on the shares of two count vectors, zero shares set to ``eps``.

    >>> round(psi_of_counts(np.array([50.0, 50.0]), np.array([25.0, 75.0])), 6)
    0.274653
    """
    p = base_counts / base_counts.sum()
    q = cur_counts / cur_counts.sum()
    p = np.where(p == 0, eps, p)
    q = np.where(q == 0, eps, q)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_numerical(baseline: NumericDistribution, current: NumericDistribution) -> float:
    """PSI of two non-empty numeric distributions on the baseline's decile bins.

    >>> a = NumericDistribution.from_values(np.arange(100.0))
    >>> round(psi_numerical(a, a), 6)
    0.0
    """
    return psi_of_counts(*quantile_bins(baseline, current))


def psi_categorical(baseline: CategoricalDistribution, current: CategoricalDistribution) -> float:
    """PSI of two non-empty categorical distributions, one bin per category.

    Examples
    --------
    Brute force: shares ``p = (0.5, 0.5)``, ``q = (0.25, 0.75)``, so
    ``0.25 ln 1.5 - 0.25 ln 0.5 = 0.25 ln 3``:

    >>> a = CategoricalDistribution({"a": 50, "b": 50})
    >>> v = psi_categorical(a, CategoricalDistribution({"a": 25, "b": 75}))
    >>> round(v, 6), PSI.is_drifted(v, PSI.default_threshold)
    (0.274653, True)
    """
    _, ca, cb = align_counts(baseline.counts, current.counts)
    return psi_of_counts(ca, cb)


PSI = register(
    DriftMethod(
        name="psi",
        applies_to=("numerical", "categorical"),
        default_threshold=0.1,
        drift_if=">=",
        description=(
            "population stability index on 10 baseline-decile bins (categories for strings), "
            "empty bins 1e-4"
        ),
        origin="evidently",
        numerical=psi_numerical,
        categorical=psi_categorical,
    )
)
