"""``chi_squared``: Pearson's chi-squared test of homogeneity of both sides' counts.

The baseline's and the window's counts over the same K bins form a 2 x K contingency table; the
test asks whether both rows come from one distribution. The p-value is
``scipy.stats.chi2_contingency(table, correction=False).pvalue`` on the table with its empty
columns dropped (K - 1 degrees of freedom); fewer than 2 non-empty columns give p = 1.
Not SageMaker's ``ChiSquared`` (:mod:`vigil.checks.drift.methods.sagemaker_chi_squared`), a
goodness-of-fit test of the window against the baseline's shares.

* Numeric features: the baseline's 10 decile bins, as ``psi``
  (see :mod:`vigil.checks.drift.binning`).
* Categorical features: one column per category of either side.

Drift when ``p < threshold``, default threshold 0.05. ``auto`` picks it (where Evidently picks
its ``chisquare``) for a reference of at most 1000 rows holding more than 2 (and, numeric, at
most 5) distinct values.
"""

from __future__ import annotations

import numpy as np

from vigil.checks.drift.binning import align_counts, quantile_bins
from vigil.checks.drift.distributions import CategoricalDistribution, NumericDistribution
from vigil.checks.drift.registry import DriftMethod, register

__all__ = [
    "CHI_SQUARED",
    "chi_squared_categorical",
    "chi_squared_numerical",
    "contingency_pvalue",
]


def contingency_pvalue(ca: np.ndarray, cb: np.ndarray) -> float:
    """``chi2_contingency`` p-value of the 2 x K table of two count vectors, no Yates correction.

    >>> contingency_pvalue(np.array([5.0, 0.0]), np.array([3.0, 0.0]))  # one column left
    1.0
    """
    from scipy import stats  # imported lazily: scipy.stats costs ~0.7 s

    keep = (ca + cb) > 0
    if int(keep.sum()) < 2:
        return 1.0
    table = np.vstack((ca[keep], cb[keep]))
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def chi_squared_numerical(baseline: NumericDistribution, current: NumericDistribution) -> float:
    """The ``chi_squared`` p-value of two non-empty numeric distributions on decile bins.

    >>> a = NumericDistribution.from_values(np.arange(100.0))
    >>> chi_squared_numerical(a, a)
    1.0
    """
    return contingency_pvalue(*quantile_bins(baseline, current))


def chi_squared_categorical(
    baseline: CategoricalDistribution, current: CategoricalDistribution
) -> float:
    """The ``chi_squared`` p-value of two non-empty categorical distributions.

    Examples
    --------
    The table ``[[70, 30], [45, 55]]``: ``chi2 = 12.7877...`` on 1 degree of freedom, the
    figure of ``scipy.stats.chi2_contingency(table, correction=False).pvalue``:

    >>> a = CategoricalDistribution({"no": 70, "yes": 30})
    >>> p = chi_squared_categorical(a, CategoricalDistribution({"no": 45, "yes": 55}))
    >>> f"{p:.6e}", CHI_SQUARED.is_drifted(p, CHI_SQUARED.default_threshold)
    ('3.489014e-04', True)
    """
    _, ca, cb = align_counts(baseline.counts, current.counts)
    return contingency_pvalue(ca, cb)


CHI_SQUARED = register(
    DriftMethod(
        name="chi_squared",
        applies_to=("numerical", "categorical"),
        default_threshold=0.05,
        drift_if="<",
        description="chi-squared test of the 2 x K contingency table (p-value)",
        origin="evidently",
        numerical=chi_squared_numerical,
        categorical=chi_squared_categorical,
    )
)
