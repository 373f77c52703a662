"""``jensen_shannon``: the Jensen-Shannon distance (Evidently's ``jensenshannon``).

With ``M = (P + Q) / 2`` the mixture of the baseline's and the window's binned shares,

    ``JS = sqrt((KL(P || M) + KL(Q || M)) / 2)``,

natural logarithm, so the distance lies between 0 and ``sqrt(ln 2)`` (about 0.833). It is
``scipy.spatial.distance.jensenshannon(p, q)`` itself.

* Numeric features: Evidently's common histogram, one bin per value when the baseline holds at
  most 20 distinct values, else Sturges bins over both sides' range
  (see :mod:`vigil.checks.drift.binning`).
* Categorical features: one bin per category of either side.

Drift when ``value >= threshold`` (Evidently's rule), default threshold 0.1. ``auto`` picks it
for strings and few-valued numeric columns when the reference holds more than 1000 rows.
"""

from __future__ import annotations

import numpy as np

from vigil.checks.drift.binning import align_counts, common_histogram
from vigil.checks.drift.distributions import CategoricalDistribution, NumericDistribution
from vigil.checks.drift.registry import DriftMethod, register

__all__ = [
    "JENSEN_SHANNON",
    "jensen_shannon_categorical",
    "jensen_shannon_distance",
    "jensen_shannon_numerical",
]


def jensen_shannon_distance(p: np.ndarray, q: np.ndarray) -> float:
    """``scipy.spatial.distance.jensenshannon(p, q)``, natural log (range 0..sqrt(ln 2))."""
    from scipy import spatial  # imported lazily: scipy costs ~0.7 s at start-up

    return float(spatial.distance.jensenshannon(p, q))


def jensen_shannon_numerical(baseline: NumericDistribution, current: NumericDistribution) -> float:
    """Jensen-Shannon distance of two non-empty numeric distributions on common bins.

    >>> a = NumericDistribution.from_values([1.0] * 30 + [2.0] * 50 + [3.0] * 20)
    >>> b = NumericDistribution.from_values([1.0] * 10 + [2.0] * 50 + [4.0] * 40)
    >>> round(jensen_shannon_numerical(a, b), 6)  # jensenshannon([.3, .5, .2, 0], [.1, .5, 0, .4])
    0.483846
    """
    return jensen_shannon_distance(*common_histogram(baseline, current))


def jensen_shannon_categorical(
    baseline: CategoricalDistribution, current: CategoricalDistribution
) -> float:
    """Jensen-Shannon distance of two non-empty categorical distributions.

    Examples
    --------
    Disjoint categories are as far apart as can be, ``sqrt(ln 2)``:

    >>> a = CategoricalDistribution({"a": 5})
    >>> v = jensen_shannon_categorical(a, CategoricalDistribution({"b": 5}))
    >>> round(v, 6), round(float(np.sqrt(np.log(2))), 6)
    (0.832555, 0.832555)
    >>> JENSEN_SHANNON.is_drifted(v, JENSEN_SHANNON.default_threshold)
    True
    """
    _, ca, cb = align_counts(baseline.counts, current.counts)
    return jensen_shannon_distance(ca / ca.sum(), cb / cb.sum())


JENSEN_SHANNON = register(
    DriftMethod(
        name="jensen_shannon",
        applies_to=("numerical", "categorical"),
        default_threshold=0.1,
        drift_if=">=",
        description="scipy's Jensen-Shannon distance (natural log) on Evidently's bins",
        origin="evidently",
        numerical=jensen_shannon_numerical,
        categorical=jensen_shannon_categorical,
    )
)
