"""SageMaker's ``ChiSquared``: Deequ's goodness-of-fit test of the window against the baseline.

SageMaker Model Monitor's second categorical method (Deequ 2.0,
``Distance.categoricalChiSquareTest``): Pearson's chi-square goodness-of-fit p-value of the
window's counts against the counts the baseline's shares predict, after small buckets are merged.
Not Evidently's ``chi_squared`` (:mod:`vigil.checks.drift.methods.chi_squared`), which tests the
2 x K contingency table of both sides.

Deequ's rule, tie-broken by name:

1. Only the baseline's categories (count > 0) take part; current counts of categories the
   baseline never saw are ignored. ``m'`` = current count over the baseline's categories and
   ``expected(k) = baseline share(k) * m'``.
2. While at least 2 buckets remain and too many are small, merge the bucket with the smallest
   expected count (ties: first name) into the next smallest (it keeps that bucket's name),
   summing observed and expected. "Too many": with 2 buckets, any expected < 10 (Cochran);
   with K > 2 buckets, more than ``floor(0.2 K)`` expected < 5 (Yates).

Fewer than 2 buckets left gives NaN (never drifted). Drift when ``p < threshold``, default 0.1.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from vigil.checks.drift.distributions import CategoricalDistribution
from vigil.checks.drift.registry import DriftMethod, register

__all__ = ["CHISQUARED", "chisquared", "sagemaker_chisquare_buckets"]

# Deequ 2.0 chi-square regrouping constants (Distance.scala).
_YATES_ABS, _YATES_PERC, _COCHRAN_ABS = 5.0, 0.2, 10.0


def sagemaker_chisquare_buckets(
    baseline: Mapping[str, float], current: Mapping[str, float]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Labels, observed and expected counts after Deequ's regrouping (the module docstring)."""
    base = {k: float(v) for k, v in baseline.items() if v > 0}
    m_in = sum(float(current.get(k, 0.0)) for k in base)
    total = sum(base.values())
    expected = {k: v / total * m_in for k, v in base.items()}
    observed = {k: float(current.get(k, 0.0)) for k in base}
    while len(expected) >= 2:
        k = len(expected)
        limit, allowed = (_COCHRAN_ABS, 0) if k == 2 else (_YATES_ABS, int(_YATES_PERC * k))
        if sum(1 for v in expected.values() if v < limit) <= allowed:
            break
        order = sorted(expected, key=lambda c: (expected[c], c))
        small, second = order[0], order[1]
        expected[second] += expected.pop(small)
        observed[second] += observed.pop(small)
    labels = sorted(expected)
    return (
        labels,
        np.array([observed[k] for k in labels], dtype=np.float64),
        np.array([expected[k] for k in labels], dtype=np.float64),
    )


def chisquared(baseline: CategoricalDistribution, current: CategoricalDistribution) -> float:
    """SageMaker's ``ChiSquared`` p-value of two non-empty categorical distributions.

    Examples
    --------
    No bucket is small, so nothing merges; the figure is
    ``scipy.stats.chisquare([150, 50], [180, 20]).pvalue``:

    >>> a = CategoricalDistribution({"x": 90, "y": 10})
    >>> p = chisquared(a, CategoricalDistribution({"x": 150, "y": 50}))
    >>> f"{p:.6e}", CHISQUARED.is_drifted(p, CHISQUARED.default_threshold)
    ('1.537460e-12', True)

    An expected count of 2 < 10 merges the two buckets into one: nothing left to test.

    >>> chisquared(a, CategoricalDistribution({"x": 15, "y": 5}))
    nan
    """
    from scipy import stats  # imported lazily: scipy.stats costs ~0.7 s

    _, obs, exp = sagemaker_chisquare_buckets(baseline.counts, current.counts)
    if obs.size < 2 or obs.sum() <= 0:
        return float("nan")
    return float(stats.chisquare(obs, exp).pvalue)


CHISQUARED = register(
    DriftMethod(
        name="ChiSquared",
        applies_to=("categorical",),
        default_threshold=0.1,
        drift_if="<",
        description=(
            "Deequ's goodness-of-fit p-value of current counts against baseline shares, small "
            "buckets merged"
        ),
        origin="sagemaker",
        categorical=chisquared,
    )
)
