"""``auto``: Evidently's size-aware default, resolved to one registered method per feature.

Evidently's ``get_default_stattest``, with ``distinct`` the number of distinct values of both
sides together (by default counted from the items; a profile may pass its own count):

=====================  ====================================  ==================================
reference rows         numeric, more than 5 distinct values  other (strings, few-valued numeric)
=====================  ====================================  ==================================
at most 1000           ``ks``                                ``chi_squared`` if more than 2
                                                             distinct values, else ``z_test``
more than 1000         ``wasserstein``                       ``jensen_shannon``
=====================  ====================================  ==================================

A numeric column with at most 5 distinct values is compared as categories (one per value).
The picked method comes from the registry, with its default threshold and its rule; an explicit
threshold given with ``auto`` applies to the picked method. ``auto`` has no figure of its own.
"""

from __future__ import annotations

import numpy as np

from vigil.checks.drift.binning import as_categories
from vigil.checks.drift.distributions import (
    CategoricalDistribution,
    Distribution,
    NumericDistribution,
)
from vigil.checks.drift.registry import DriftMethod, get_method, register

__all__ = ["AUTO", "AUTO_FEW_VALUES", "AUTO_SMALL_REFERENCE", "choose", "distinct_values"]

AUTO_SMALL_REFERENCE = 1000
"""A reference of at most this many rows (total weight) is small."""

AUTO_FEW_VALUES = 5
"""A numeric column with at most this many distinct values is compared as categories."""


def distinct_values(baseline: Distribution, current: Distribution) -> int:
    """Distinct values (or categories) with weight > 0 on either side.

    >>> a, b = CategoricalDistribution({"a": 1, "b": 0}), CategoricalDistribution({"c": 2})
    >>> distinct_values(a, b)
    2
    """
    if isinstance(baseline, NumericDistribution) and isinstance(current, NumericDistribution):
        both = np.concatenate(
            (baseline.values[baseline.weights > 0], current.values[current.weights > 0])
        )
        # return_counts: np.unique's plain path imports numpy.ma (~10 ms) for one check
        return int(np.unique(both, return_counts=True)[0].size)
    assert isinstance(baseline, CategoricalDistribution)
    assert isinstance(current, CategoricalDistribution)
    return len({k for c in (baseline.counts, current.counts) for k, v in c.items() if v > 0})


def choose(
    baseline: Distribution, current: Distribution, distinct_count: int | None = None
) -> tuple[DriftMethod, Distribution, Distribution]:
    """The registered method Evidently's rule picks, and the two sides to give it.

    Examples
    --------
    Four values a side, a small reference: ``ks``, whose p-value is
    ``scipy.stats.ks_2samp([1, 2, 3, 4], [3, 4, 5, 6]).pvalue``.

    >>> x = NumericDistribution.from_values([1.0, 2.0, 3.0, 4.0])
    >>> y = NumericDistribution.from_values([3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    >>> method, a, b = choose(x, y)
    >>> method is get_method("ks"), round(method.compute(a, b), 4)
    (True, 0.181)

    Three values only: compared as categories, one per value, with ``chi_squared``.

    >>> few = NumericDistribution.from_values([0.0, 1.0, 1.0, 2.0])
    >>> method, a, b = choose(few, NumericDistribution.from_values([0.0, 2.0, 2.0]))
    >>> method.name, a.counts
    ('chi_squared', {'0.0': 1.0, '1.0': 2.0, '2.0': 1.0})
    """
    distinct = distinct_values(baseline, current) if distinct_count is None else distinct_count
    small = baseline.n <= AUTO_SMALL_REFERENCE
    if isinstance(baseline, NumericDistribution) and isinstance(current, NumericDistribution):
        if distinct > AUTO_FEW_VALUES:
            return get_method("ks" if small else "wasserstein", "numerical"), baseline, current
        baseline, current = as_categories(baseline), as_categories(current)
    if not small:
        return get_method("jensen_shannon", "categorical"), baseline, current
    return get_method("chi_squared" if distinct > 2 else "z_test", "categorical"), baseline, current


AUTO = register(
    DriftMethod(
        name="auto",
        applies_to=("numerical", "categorical"),
        default_threshold=None,
        drift_if=None,
        description=(
            "Evidently's size-aware choice: reference <= 1000 rows: `ks` (numeric, > 5 values), "
            "else `chi_squared` / `z_test`; larger: `wasserstein` (numeric), `jensen_shannon` "
            "(few values, strings)"
        ),
        origin="evidently",
        choose=choose,
    )
)
