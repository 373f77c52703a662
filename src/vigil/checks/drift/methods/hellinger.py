"""``hellinger``: the Hellinger distance (Evidently's ``hellinger``).

For binned shares ``p`` (baseline) and ``q`` (window),

    ``H = sqrt(sum_i (sqrt p_i - sqrt q_i)^2 / 2) = sqrt(1 - sum_i sqrt(p_i q_i))``,

between 0 (same shares) and 1 (no bin in common). The bins are ``jensen_shannon``'s: Evidently's
common histogram for numeric features (one bin per value for at most 20 distinct baseline
values, else Sturges bins; see :mod:`vigil.checks.drift.binning`) and one bin per category for
categorical ones. scipy has no Hellinger distance; the examples check the figure by hand.

Drift when ``value >= threshold`` (Evidently's rule), default threshold 0.1.
"""

from __future__ import annotations

import numpy as np

from vigil.checks.drift.binning import align_counts, common_histogram
from vigil.checks.drift.distributions import CategoricalDistribution, NumericDistribution
from vigil.checks.drift.registry import DriftMethod, register

__all__ = [
    "HELLINGER",
    "hellinger_categorical",
    "hellinger_distance",
    "hellinger_numerical",
]


def hellinger_distance(p: np.ndarray, q: np.ndarray) -> float:
    """``sqrt(sum((sqrt p - sqrt q)^2) / 2)`` of two share vectors (range 0..1).

    >>> hellinger_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    1.0
    """
    return float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))


def hellinger_numerical(baseline: NumericDistribution, current: NumericDistribution) -> float:
    """Hellinger distance of two non-empty numeric distributions on common bins.

    >>> a = NumericDistribution.from_values([1.0, 1.0, 2.0, 2.0])
    >>> round(hellinger_numerical(a, NumericDistribution.from_values([1.0, 2.0, 2.0, 2.0])), 6)
    0.184592
    """
    return hellinger_distance(*common_histogram(baseline, current))


def hellinger_categorical(
    baseline: CategoricalDistribution, current: CategoricalDistribution
) -> float:
    """Hellinger distance of two non-empty categorical distributions.

    Examples
    --------
    Shares ``(1/4, 3/4)`` and ``(3/4, 1/4)``: by hand ``sqrt(1 - 2 sqrt(3/16)) = 0.3660...``.

    >>> a = CategoricalDistribution({"a": 1, "b": 3})
    >>> v = hellinger_categorical(a, CategoricalDistribution({"a": 3, "b": 1}))
    >>> round(v, 6), round(float(np.sqrt(1 - 2 * np.sqrt(3 / 16))), 6)
    (0.366025, 0.366025)
    >>> HELLINGER.is_drifted(v, HELLINGER.default_threshold)
    True
    """
    _, ca, cb = align_counts(baseline.counts, current.counts)
    return hellinger_distance(ca / ca.sum(), cb / cb.sum())


HELLINGER = register(
    DriftMethod(
        name="hellinger",
        applies_to=("numerical", "categorical"),
        default_threshold=0.1,
        drift_if=">=",
        description="Hellinger distance on the same bins",
        origin="evidently",
        numerical=hellinger_numerical,
        categorical=hellinger_categorical,
    )
)
