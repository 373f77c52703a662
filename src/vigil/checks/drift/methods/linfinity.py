"""SageMaker's ``LInfinity``: the largest difference of category shares.

SageMaker Model Monitor's default method for categorical features (Deequ 2.0,
``Distance.categoricalDistance`` with ``LInfinityMethod``):

    ``linf = max_k |p_base(k) - p_cur(k)|``

over the union of both sides' categories, so a category only the window has counts with its
whole share. When the constraints' comparison method is ``Robust`` SageMaker applies the same
correction as for numeric features, ``max(0, linf - 1.8 sqrt((n + m) / (n m)))``.

Drift when ``value > threshold`` (SageMaker's rule), default threshold 0.1.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from vigil.checks.drift.binning import align_counts
from vigil.checks.drift.distributions import CategoricalDistribution
from vigil.checks.drift.methods.robust import robust_linf
from vigil.checks.drift.registry import DriftMethod, register

__all__ = ["LINFINITY", "linf_categorical", "linfinity", "linfinity_robust"]


def linf_categorical(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """``max_k |p_a(k) - p_b(k)|`` over the union of categories of two count mappings.

    >>> linf_categorical({"a": 10}, {"a": 6, "z": 4})  # brute force: |1 - 0.6| = |0 - 0.4|
    0.4
    """
    _, ca, cb = align_counts(a, b)
    return float(np.max(np.abs(ca / ca.sum() - cb / cb.sum())))


def linfinity(baseline: CategoricalDistribution, current: CategoricalDistribution) -> float:
    """SageMaker's ``LInfinity`` distance of two non-empty categorical distributions.

    Examples
    --------
    >>> a = CategoricalDistribution({"a": 3, "b": 1})
    >>> b = CategoricalDistribution({"a": 1, "b": 3})
    >>> linfinity(a, b)  # brute force: |3/4 - 1/4|
    0.5
    >>> LINFINITY.is_drifted(linfinity(a, b), LINFINITY.default_threshold)
    True
    """
    return linf_categorical(baseline.counts, current.counts)


def linfinity_robust(baseline: CategoricalDistribution, current: CategoricalDistribution) -> float:
    """``LInfinity`` with SageMaker's Robust correction (the constraints ask for Robust).

    >>> a = CategoricalDistribution({"a": 300, "b": 100})
    >>> b = CategoricalDistribution({"a": 100, "b": 300})
    >>> linfinity_robust(a, b)  # 0.5 - 1.8 * sqrt(800 / 160000)
    0.37272077938642145
    """
    return robust_linf(linfinity(baseline, current), baseline.n, current.n)


LINFINITY = register(
    DriftMethod(
        name="LInfinity",
        applies_to=("categorical",),
        default_threshold=0.1,
        drift_if=">",
        description=(
            "max over categories of |p_base - p_cur| (Robust-corrected when the comparison "
            "method is Robust)"
        ),
        origin="sagemaker",
        categorical=linfinity,
        categorical_robust=linfinity_robust,
    )
)
