"""``z_test``: the two-proportion Z-test (Evidently's ``z``), for binary features.

Each side is reduced to the share of items that are not its first category (in sorted order
over both sides' categories): ``p1`` of the ``n`` baseline items, ``p2`` of the ``m`` window
items. With ``P = (p1 n + p2 m) / (n + m)`` the pooled share,

    ``z = (p1 - p2) / sqrt(P (1 - P) (1/n + 1/m))``,  ``p-value = 2 * norm.sf(|z|)``.

A single category overall (``P`` is 0 or 1) gives p = 1. For two categories ``z**2`` is
Pearson's chi-square of the 2 x 2 table, so the p-value equals ``chi_squared``'s. A numeric
feature is compared as categories, one per distinct value, named by the value's ``repr`` (so
"first" is first as text: ``'10.0'`` before ``'9.0'``; with two values either gives one p).

Drift when ``p < threshold``, default threshold 0.05. ``auto`` picks it for a reference of at
most 1000 rows holding at most 2 distinct values.
"""

from __future__ import annotations

import numpy as np

from vigil.checks.drift.binning import align_counts, as_categories
from vigil.checks.drift.distributions import CategoricalDistribution, NumericDistribution
from vigil.checks.drift.registry import DriftMethod, register

__all__ = ["Z_TEST", "z_test_categorical", "z_test_numerical", "z_test_pvalue"]


def z_test_pvalue(ca: np.ndarray, cb: np.ndarray) -> float:
    """Two-proportion Z-test p-value of two count vectors over the same categories."""
    from scipy import stats  # imported lazily: scipy.stats costs ~0.7 s

    n, m = float(ca.sum()), float(cb.sum())
    p1, p2 = (n - ca[0]) / n, (m - cb[0]) / m
    pooled = (p1 * n + p2 * m) / (n + m)
    var = pooled * (1.0 - pooled) * (1.0 / n + 1.0 / m)
    if var <= 0:
        return 1.0
    return float(2.0 * stats.norm.sf(abs(p1 - p2) / np.sqrt(var)))


def z_test_categorical(
    baseline: CategoricalDistribution, current: CategoricalDistribution
) -> float:
    """The ``z_test`` p-value of two non-empty categorical distributions.

    Examples
    --------
    ``p1 = 0.30``, ``p2 = 0.55``, pooled 0.425: ``z = -3.5760...``, and the figure equals
    ``scipy.stats.chi2_contingency([[70, 30], [45, 55]], correction=False).pvalue``:

    >>> a = CategoricalDistribution({"no": 70, "yes": 30})
    >>> p = z_test_categorical(a, CategoricalDistribution({"no": 45, "yes": 55}))
    >>> f"{p:.6e}", Z_TEST.is_drifted(p, Z_TEST.default_threshold)
    ('3.489014e-04', True)
    """
    _, ca, cb = align_counts(baseline.counts, current.counts)
    return z_test_pvalue(ca, cb)


def z_test_numerical(baseline: NumericDistribution, current: NumericDistribution) -> float:
    """The ``z_test`` p-value of two non-empty numeric distributions, one category per value.

    >>> a = NumericDistribution.from_values([0.0] * 70 + [1.0] * 30)
    >>> f"{z_test_numerical(a, NumericDistribution.from_values([0.0] * 45 + [1.0] * 55)):.6e}"
    '3.489014e-04'
    """
    return z_test_categorical(as_categories(baseline), as_categories(current))


Z_TEST = register(
    DriftMethod(
        name="z_test",
        applies_to=("numerical", "categorical"),
        default_threshold=0.05,
        drift_if="<",
        description="two-proportion Z-test (binary features)",
        origin="evidently",
        numerical=z_test_numerical,
        categorical=z_test_categorical,
    )
)
