"""``wasserstein``: the normalised Wasserstein-1 distance (Evidently's ``wasserstein``).

The Wasserstein-1 (earth mover's) distance between two one-dimensional distributions is the
area between their cumulative distribution functions,

    ``W = integral |F_base(x) - F_cur(x)| dx``,

the least total mass times distance that turns one into the other. As Evidently, Vigil divides
it by the baseline's standard deviation (population form, floored at 0.001) so that one
threshold serves features of any scale:

    ``wasserstein = W / max(std_base, 0.001)``

``W`` is ``scipy.stats.wasserstein_distance`` (with the items' weights for a sketch).

Drift when ``value >= threshold`` (Evidently's rule), default threshold 0.1. ``auto`` picks
``wasserstein`` for a numeric column with more than 5 distinct values and a reference of more
than 1000 rows.
"""

from __future__ import annotations

import numpy as np

from vigil.checks.drift.distributions import NumericDistribution, weighted_std
from vigil.checks.drift.registry import DriftMethod, register

__all__ = ["WASSERSTEIN", "WASSERSTEIN_MIN_STD", "wasserstein", "wasserstein_normed"]

WASSERSTEIN_MIN_STD = 0.001
"""Floor of the baseline std that normalises the Wasserstein distance (Evidently's value)."""

FloatArray = np.ndarray


def wasserstein_normed(a: FloatArray, wa: FloatArray, b: FloatArray, wb: FloatArray) -> float:
    """``wasserstein_distance(a, b, wa, wb) / max(std_a, 0.001)`` (Evidently's normed form)."""
    from scipy import stats  # imported lazily: scipy.stats costs ~0.7 s

    raw = bool(np.all(wa == 1.0)) and bool(np.all(wb == 1.0))
    w = stats.wasserstein_distance(a, b, None if raw else wa, None if raw else wb)
    return float(w / max(weighted_std(a, wa), WASSERSTEIN_MIN_STD))


def wasserstein(baseline: NumericDistribution, current: NumericDistribution) -> float:
    """The normalised Wasserstein distance of two non-empty numeric distributions.

    Examples
    --------
    Moving every value by 1 costs ``W = 1``; the baseline's std is
    ``numpy.std([1, 2, 3, 4]) = sqrt(1.25)``, so the figure is ``1 / sqrt(1.25)``:

    >>> a = NumericDistribution.from_values([1.0, 2.0, 3.0, 4.0])
    >>> b = NumericDistribution.from_values([2.0, 3.0, 4.0, 5.0])
    >>> v = wasserstein(a, b)
    >>> round(v, 6), WASSERSTEIN.is_drifted(v, WASSERSTEIN.default_threshold)
    (0.894427, True)

    A constant baseline is divided by the floor, 0.001:

    >>> c = NumericDistribution.from_values([5.0, 5.0, 5.0])
    >>> round(wasserstein(c, NumericDistribution.from_values([5.0, 5.0, 6.0])), 6)
    333.333333
    """
    return wasserstein_normed(baseline.values, baseline.weights, current.values, current.weights)


WASSERSTEIN = register(
    DriftMethod(
        name="wasserstein",
        applies_to=("numerical",),
        default_threshold=0.1,
        drift_if=">=",
        description="Wasserstein-1 distance divided by the baseline's standard deviation",
        origin="evidently",
        numerical=wasserstein,
    )
)
