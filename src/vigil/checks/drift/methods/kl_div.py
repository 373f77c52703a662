"""``kl_div``: the Kullback-Leibler divergence (Evidently's ``kl_div``).

For binned shares ``p`` (baseline) and ``q`` (window),

    ``KL(p || q) = sum_i p_i ln(p_i / q_i)``,

natural logarithm (nats), 0 for the same shares and unbounded above; not symmetric (``psi`` is
its symmetrised form). It equals ``scipy.stats.entropy(p, q)`` on the smoothed shares, which is
what Evidently computes.

**Smoothing** (Evidently's rule, so that a bin one side lacks gives a large but finite figure):
on each side separately, an empty bin's share becomes ``1e-4``, or ``m / 1e6`` when that side's
smallest non-zero share ``m`` is at most ``1e-4``; both share vectors are then renormalised to
sum to 1 (as ``scipy.stats.entropy`` does).

* Numeric features: the bins of ``jensen_shannon`` and ``hellinger``, Evidently's common
  histogram (one bin per value when the baseline holds at most 20 distinct values, else
  Sturges bins over both sides' range; see :mod:`vigil.checks.drift.binning`).
* Categorical features: one bin per category of either side (a category the baseline never saw
  is an empty baseline bin, smoothed as above).

Drift when ``value >= threshold`` (Evidently's rule), default threshold 0.1 (Evidently's).
Model outputs drift the same way: a data-quality baseline of the training predictions
(``_o0``) with ``drift_method="kl_div"``, checked by a schedule with ``content: output``.
"""

from __future__ import annotations

import numpy as np

from vigil.checks.drift.binning import align_counts, common_histogram
from vigil.checks.drift.distributions import CategoricalDistribution, NumericDistribution
from vigil.checks.drift.registry import DriftMethod, register

__all__ = [
    "KL_DIV",
    "KL_EPSILON",
    "kl_div_categorical",
    "kl_div_numerical",
    "kl_divergence",
    "smooth_shares",
]

KL_EPSILON = 1e-4
"""The share given to an empty bin, unless a side's smallest non-zero share is at most this."""


def smooth_shares(counts: np.ndarray) -> np.ndarray:
    """Shares of a non-negative count (or share) vector with Evidently's smoothing, summing to 1.

    Empty bins get ``1e-4``, or ``m / 1e6`` when the smallest non-zero share ``m`` is at most
    ``1e-4``; then the vector is renormalised.

    >>> smooth_shares(np.array([3.0, 1.0, 0.0])).round(6).tolist()
    [0.749925, 0.249975, 0.0001]
    >>> f"{smooth_shares(np.array([99999.0, 1.0, 0.0]))[2]:.3g}"  # 1e-5 / 1e6
    '1e-11'
    """
    shares = np.asarray(counts, dtype=np.float64)
    shares = shares / shares.sum()
    positive = shares[shares > 0]
    smallest = float(positive.min())
    eps = smallest / 1e6 if smallest <= KL_EPSILON else KL_EPSILON
    smoothed: np.ndarray = np.where(shares == 0, eps, shares)
    normalised: np.ndarray = smoothed / float(smoothed.sum())
    return normalised


def kl_divergence(base_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """``KL(p || q)`` in nats of two count vectors over the same bins, smoothed (see
    :func:`smooth_shares`): ``scipy.stats.entropy(p, q)`` of the smoothed shares.

    >>> round(kl_divergence(np.array([50.0, 50.0]), np.array([25.0, 75.0])), 6)
    0.143841
    """
    p, q = smooth_shares(base_counts), smooth_shares(cur_counts)
    return float(np.sum(p * np.log(p / q)))


def kl_div_numerical(baseline: NumericDistribution, current: NumericDistribution) -> float:
    """KL divergence of two non-empty numeric distributions on Evidently's common bins.

    >>> a = NumericDistribution.from_values([1.0, 1.0, 2.0, 2.0])
    >>> b = NumericDistribution.from_values([1.0, 2.0, 2.0, 2.0])
    >>> round(kl_div_numerical(a, b), 6)  # 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75)
    0.143841
    """
    return kl_divergence(*common_histogram(baseline, current))


def kl_div_categorical(
    baseline: CategoricalDistribution, current: CategoricalDistribution
) -> float:
    """KL divergence of two non-empty categorical distributions, one bin per category.

    Examples
    --------
    Shares ``(1/2, 1/2)`` and ``(1/4, 3/4)``: by hand ``0.5 ln 2 + 0.5 ln(2/3) = 0.5 ln(4/3)``.

    >>> a = CategoricalDistribution({"a": 50, "b": 50})
    >>> v = kl_div_categorical(a, CategoricalDistribution({"a": 25, "b": 75}))
    >>> round(v, 6), round(float(0.5 * np.log(4 / 3)), 6), KL_DIV.is_drifted(v, 0.1)
    (0.143841, 0.143841, True)
    """
    _, ca, cb = align_counts(baseline.counts, current.counts)
    return kl_divergence(ca, cb)


KL_DIV = register(
    DriftMethod(
        name="kl_div",
        applies_to=("numerical", "categorical"),
        default_threshold=0.1,
        drift_if=">=",
        description=(
            "Kullback-Leibler divergence KL(base || cur), natural log, on the same bins; "
            "empty bins 1e-4 (or 1e-6 of the smallest share), then renormalised (Evidently's)"
        ),
        origin="evidently",
        numerical=kl_div_numerical,
        categorical=kl_div_categorical,
    )
)
