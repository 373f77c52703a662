"""SageMaker's ``Robust``: the L-infinity distance less its expected sampling noise.

SageMaker Model Monitor's default comparison method (Deequ 2.0, ``Distance.numericalDistance``
with ``correctForLowNumberOfSamples``) subtracts from the ``Simple`` distance the critical value
of the two-sample Kolmogorov-Smirnov test at Deequ's ``c(alpha) = 1.8`` (alpha about 0.003), so
that two small samples of one distribution do not look drifted:

    ``linf_robust = max(0, linf_simple - c(alpha) sqrt((n + m) / (n m)))``

with ``n`` and ``m`` the total weights (the numbers of items) of both sides. The same
correction applies to ``LInfinity`` when the constraints' comparison method is Robust.

Drift when ``value > threshold`` (SageMaker's rule), default threshold 0.1.
"""

from __future__ import annotations

import numpy as np

from vigil.checks.drift.distributions import NumericDistribution
from vigil.checks.drift.methods.simple import simple
from vigil.checks.drift.registry import DriftMethod, register

__all__ = ["ROBUST", "SAGEMAKER_C_ALPHA", "robust", "robust_linf"]

SAGEMAKER_C_ALPHA = 1.8
"""Deequ's default ``c(alpha)`` for the robust L-infinity correction (alpha about 0.003)."""


def robust_linf(linf: float, n: float, m: float, c_alpha: float = SAGEMAKER_C_ALPHA) -> float:
    """Deequ's ``linf_robust = max(0, linf - c_alpha * sqrt((n + m) / (n m)))``.

    >>> robust_linf(0.5, 100, 100)  # 0.5 - 1.8 * sqrt(200 / 10000) = 0.5 - 0.2545584412...
    0.2454415587728429
    >>> robust_linf(0.5, 4, 4)  # the correction exceeds the distance: clamped at 0
    0.0
    """
    return max(0.0, linf - c_alpha * float(np.sqrt((n + m) / (n * m))))


def robust(baseline: NumericDistribution, current: NumericDistribution) -> float:
    """SageMaker's ``Robust`` distance of two non-empty numeric distributions.

    Examples
    --------
    Two shifted ranges of 100 values: ``Simple`` is 0.5 (``scipy.stats.ks_2samp``'s statistic).

    >>> a = NumericDistribution.from_values(np.arange(100.0))
    >>> b = NumericDistribution.from_values(np.arange(50.0, 150.0))
    >>> robust(a, b)
    0.2454415587728429
    >>> ROBUST.is_drifted(robust(a, b), ROBUST.default_threshold)
    True
    """
    return robust_linf(simple(baseline, current), baseline.n, current.n)


ROBUST = register(
    DriftMethod(
        name="Robust",
        applies_to=("numerical",),
        default_threshold=0.1,
        drift_if=">",
        description="max(0, Simple - 1.8 sqrt((n+m)/(nm)))",
        origin="sagemaker",
        numerical=robust,
    )
)
