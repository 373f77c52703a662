"""SageMaker's ``Simple``: the L-infinity distance between two numeric distributions.

SageMaker Model Monitor (Deequ 2.0, ``Distance.numericalDistance`` without the correction for a
low number of samples) compares the baseline's KLL sketch with the window's by the largest
difference of their cumulative distribution functions, which is the two-sample
Kolmogorov-Smirnov statistic:

    ``linf_simple = max_x |F_base(x) - F_cur(x)|``

with ``F(x)`` the weight of the items ``<= x`` over the total weight, and ``x`` running over the
items of both sides. On raw data (every weight 1) it is ``scipy.stats.ks_2samp(a, b).statistic``;
on sketch items each ``F`` is within the sketch's rank error of the data's.

Drift when ``value > threshold`` (SageMaker's rule), default threshold 0.1.
"""

from __future__ import annotations

import numpy as np

from vigil.checks.drift.distributions import NumericDistribution
from vigil.checks.drift.registry import DriftMethod, register

__all__ = ["SIMPLE", "ks_statistic", "simple"]

FloatArray = np.ndarray


def _cdf_at(values: FloatArray, weights: FloatArray, points: FloatArray) -> FloatArray:
    cum = np.concatenate(([0.0], np.cumsum(weights)))
    shares: FloatArray = cum[np.searchsorted(values, points, side="right")] / cum[-1]
    return shares


def ks_statistic(a: FloatArray, wa: FloatArray, b: FloatArray, wb: FloatArray) -> float:
    """``max_x |F_a(x) - F_b(x)|`` over the union of both sorted item sets, weights ``wa``, ``wb``.

    >>> ones = np.ones(4)
    >>> ks_statistic(np.array([1.0, 2, 3, 4]), ones, np.array([3.0, 4, 5, 6]), ones)
    0.5
    """
    points = np.concatenate((a, b))
    return float(np.max(np.abs(_cdf_at(a, wa, points) - _cdf_at(b, wb, points))))


def simple(baseline: NumericDistribution, current: NumericDistribution) -> float:
    """SageMaker's ``Simple`` distance of two non-empty numeric distributions.

    Examples
    --------
    >>> a = NumericDistribution.from_values([1.0, 2.0, 2.0, 3.0, 5.0])
    >>> b = NumericDistribution.from_values([2.0, 4.0, 6.0, 7.0])
    >>> simple(a, b)  # scipy.stats.ks_2samp(a, b).statistic: 0.55
    0.55
    >>> SIMPLE.is_drifted(simple(a, b), SIMPLE.default_threshold)
    True

    The same on sketch-like weighted items: ``[1, 2]`` twice each is ``[1, 1, 2, 2]``.

    >>> w = NumericDistribution(np.array([1.0, 2.0]), np.array([2.0, 2.0]))
    >>> simple(w, NumericDistribution.from_values([1.0, 1.0, 2.0, 2.0]))
    0.0
    """
    return ks_statistic(baseline.values, baseline.weights, current.values, current.weights)


SIMPLE = register(
    DriftMethod(
        name="Simple",
        applies_to=("numerical",),
        default_threshold=0.1,
        drift_if=">",
        description=(
            "SageMaker's L-infinity: max over both sketches' items of |F_base(x) - F_cur(x)| "
            "(the two-sample KS statistic)"
        ),
        origin="sagemaker",
        numerical=simple,
    )
)
