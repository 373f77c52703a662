"""Pure drift distances and tests on arrays and count mappings.

Every function here works on plain numpy arrays (sorted ``values`` with ``weights``) or on
``category -> count`` mappings, so that the same code serves raw data (all weights 1) and the
weighted items of a KLL sketch (weight ``2**level``). :mod:`vigil.checks.drift` wraps them in the
public API. Conventions fixed here (and documented in the README table):

* ``F(x)`` is the weight of the items ``<= x`` divided by the total weight.
* Quantile bins (``psi``, numeric ``chi_squared``): the 9 interior edges are the baseline's
  inverted-CDF deciles (the smallest item whose ``F`` reaches ``k/10``), duplicates dropped; bins
  are right-closed ``(e[i-1], e[i]]`` and the two outer bins are open to -inf / +inf, so current
  values outside the baseline's range still count.
* Common histogram (``jensen_shannon``, ``hellinger``), as Evidently: when the baseline holds at
  most 20 distinct values, one bin per distinct value of either side; otherwise Sturges bins
  (``ceil(log2(N)) + 1`` equal-width bins, ``N`` the total weight of both sides) over the range of
  the union.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

PSI_EPSILON = 1e-4
"""Share given to an empty bin or absent category in PSI (zeros only, no renormalisation)."""

SAGEMAKER_C_ALPHA = 1.8
"""Deequ's default ``c(alpha)`` for the robust L-infinity correction (alpha about 0.003)."""

WASSERSTEIN_MIN_STD = 0.001
"""Floor of the baseline std that normalises the Wasserstein distance (Evidently's value)."""

PER_VALUE_MAX_DISTINCT = 20
"""Baselines with at most this many distinct values get one histogram bin per value."""

QUANTILE_BINS = 10

# Deequ 2.0 chi-square regrouping constants (Distance.scala).
_YATES_ABS, _YATES_PERC, _COCHRAN_ABS = 5.0, 0.2, 10.0

FloatArray = np.ndarray


def _cdf_at(values: FloatArray, weights: FloatArray, points: FloatArray) -> FloatArray:
    cum = np.concatenate(([0.0], np.cumsum(weights)))
    return cum[np.searchsorted(values, points, side="right")] / cum[-1]


def _all_ones(*weights: FloatArray) -> bool:
    return all(bool(np.all(w == 1.0)) for w in weights)


def ks_statistic(a: FloatArray, wa: FloatArray, b: FloatArray, wb: FloatArray) -> float:
    """``max_x |F_a(x) - F_b(x)|`` over the union of both item sets (SageMaker ``linf_simple``)."""
    points = np.concatenate((a, b))
    return float(np.max(np.abs(_cdf_at(a, wa, points) - _cdf_at(b, wb, points))))


def robust_linf(linf: float, n: float, m: float, c_alpha: float = SAGEMAKER_C_ALPHA) -> float:
    """Deequ's ``linf_robust = max(0, linf - c_alpha * sqrt((n + m) / (n m)))``."""
    return max(0.0, linf - c_alpha * float(np.sqrt((n + m) / (n * m))))


def ks_pvalue(a: FloatArray, wa: FloatArray, b: FloatArray, wb: FloatArray) -> float:
    """Two-sided two-sample KS p-value.

    Raw data (every weight 1): ``scipy.stats.ks_2samp(a, b).pvalue`` itself (exact distribution
    up to 10,000 items per side, asymptotic above, as scipy decides; scipy's warning when its exact
    computation falls back to asymptotic is silenced). Weighted items: scipy's asymptotic branch,
    ``kstwo.sf(D, round(n m / (n + m)))`` with ``n, m`` the total weights.
    """
    from scipy import stats  # imported lazily: scipy.stats costs ~0.7 s

    if _all_ones(wa, wb):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "ks_2samp: Exact", RuntimeWarning)
            return float(stats.ks_2samp(a, b).pvalue)
    n, m = float(wa.sum()), float(wb.sum())
    en = max(1.0, float(np.round(n * m / (n + m))))
    return float(np.clip(stats.kstwo.sf(ks_statistic(a, wa, b, wb), en), 0.0, 1.0))


def align_counts(
    a: Mapping[str, float], b: Mapping[str, float]
) -> tuple[list[str], FloatArray, FloatArray]:
    """Both count vectors over the sorted union of categories (absent -> 0)."""
    keys = sorted(set(a) | set(b))
    return (
        keys,
        np.array([float(a.get(k, 0.0)) for k in keys], dtype=np.float64),
        np.array([float(b.get(k, 0.0)) for k in keys], dtype=np.float64),
    )


def linf_categorical(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """``max_k |p_a(k) - p_b(k)|`` over the union of categories."""
    _, ca, cb = align_counts(a, b)
    return float(np.max(np.abs(ca / ca.sum() - cb / cb.sum())))


def sagemaker_chisquare_buckets(
    baseline: Mapping[str, float], current: Mapping[str, float]
) -> tuple[list[str], FloatArray, FloatArray]:
    """Observed and expected counts of SageMaker's ``ChiSquared`` after Deequ's regrouping.

    The rule of Deequ 2.0 (``Distance.categoricalChiSquareTest``), tie-broken by name:

    1. Only the baseline's categories (count > 0) take part; current counts of categories the
       baseline never saw are ignored. ``m'`` = current count over the baseline's categories and
       ``expected(k) = baseline share(k) * m'``.
    2. While at least 2 buckets remain and too many are small, merge the bucket with the smallest
       expected count (ties: first name) into the next smallest (it keeps that bucket's name),
       summing observed and expected. "Too many": with 2 buckets, any expected < 10 (Cochran);
       with K > 2 buckets, more than ``floor(0.2 K)`` expected < 5 (Yates).
    """
    base = {k: float(v) for k, v in baseline.items() if v > 0}
    m_in = sum(float(current.get(k, 0.0)) for k in base)
    total = sum(base.values())
    expected = {k: v / total * m_in for k, v in base.items()}
    observed = {k: float(current.get(k, 0.0)) for k in base}
    while len(expected) >= 2:
        k = len(expected)
        limit, allowed = (_COCHRAN_ABS, 0) if k == 2 else (_YATES_ABS, int(_YATES_PERC * k))
        if sum(1 for v in expected.values() if v < limit) <= allowed:
            break
        order = sorted(expected, key=lambda c: (expected[c], c))
        small, second = order[0], order[1]
        expected[second] += expected.pop(small)
        observed[second] += observed.pop(small)
    labels = sorted(expected)
    return (
        labels,
        np.array([observed[k] for k in labels], dtype=np.float64),
        np.array([expected[k] for k in labels], dtype=np.float64),
    )


def sagemaker_chisquare_pvalue(
    baseline: Mapping[str, float], current: Mapping[str, float]
) -> float:
    """Pearson goodness-of-fit p-value on the regrouped buckets; NaN when fewer than 2 remain."""
    from scipy import stats  # imported lazily: scipy.stats costs ~0.7 s

    _, obs, exp = sagemaker_chisquare_buckets(baseline, current)
    if obs.size < 2 or obs.sum() <= 0:
        return float("nan")
    return float(stats.chisquare(obs, exp).pvalue)


def quantile_edges(
    values: FloatArray, weights: FloatArray, n_bins: int = QUANTILE_BINS
) -> FloatArray:
    """Interior edges: inverted-CDF quantiles at ``k / n_bins`` (k = 1..n_bins-1), no duplicates."""
    cum = np.cumsum(weights)
    targets = np.arange(1, n_bins) * cum[-1] / n_bins
    idx = np.minimum(np.searchsorted(cum, targets, side="left"), values.size - 1)
    return np.unique(values[idx])


def bin_weights(values: FloatArray, weights: FloatArray, edges: FloatArray) -> FloatArray:
    """Weight per right-closed bin ``(-inf, e0], (e0, e1], ..., (e_last, inf)``."""
    idx = np.searchsorted(edges, values, side="left")
    return np.bincount(idx, weights=weights, minlength=edges.size + 1).astype(np.float64)


def common_histogram(
    a: FloatArray, wa: FloatArray, b: FloatArray, wb: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Probability vectors of both sides on common bins (see the module docstring)."""
    n, m = float(wa.sum()), float(wb.sum())
    if np.unique(a[wa > 0]).size <= PER_VALUE_MAX_DISTINCT:
        keys = np.unique(np.concatenate((a, b)))
        ca = np.bincount(np.searchsorted(keys, a), weights=wa, minlength=keys.size)
        cb = np.bincount(np.searchsorted(keys, b), weights=wb, minlength=keys.size)
        return ca / n, cb / m
    k = int(np.ceil(np.log2(n + m))) + 1
    lo, hi = min(a[0], b[0]), max(a[-1], b[-1])
    edges = np.histogram_bin_edges(np.array([lo, hi]), bins=k)
    return (
        np.histogram(a, bins=edges, weights=wa)[0] / n,
        np.histogram(b, bins=edges, weights=wb)[0] / m,
    )


def psi(base_counts: FloatArray, cur_counts: FloatArray, eps: float = PSI_EPSILON) -> float:
    """``sum((q - p) ln(q / p))`` on shares, zero shares replaced by ``eps``."""
    p = base_counts / base_counts.sum()
    q = cur_counts / cur_counts.sum()
    p = np.where(p == 0, eps, p)
    q = np.where(q == 0, eps, q)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon(p: FloatArray, q: FloatArray) -> float:
    """``scipy.spatial.distance.jensenshannon(p, q)``, natural log (range 0..sqrt(ln 2))."""
    from scipy import spatial  # imported lazily: scipy.stats costs ~0.7 s

    return float(spatial.distance.jensenshannon(p, q))


def hellinger(p: FloatArray, q: FloatArray) -> float:
    """``sqrt(sum((sqrt p - sqrt q)^2) / 2)`` (range 0..1; same as ``sqrt(1 - sum sqrt(p q))``)."""
    return float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))


def weighted_std(values: FloatArray, weights: FloatArray) -> float:
    """Population (biased) weighted standard deviation; NaN when the total weight is 0."""
    total = float(weights.sum())
    if total <= 0:
        return float("nan")
    mean = float(np.dot(weights, values) / total)
    return float(np.sqrt(np.dot(weights, (values - mean) ** 2) / total))


def wasserstein_normed(a: FloatArray, wa: FloatArray, b: FloatArray, wb: FloatArray) -> float:
    """``wasserstein_distance(a, b, wa, wb) / max(std_a, 0.001)`` (Evidently's normed form)."""
    from scipy import stats  # imported lazily: scipy.stats costs ~0.7 s

    raw = _all_ones(wa, wb)
    w = stats.wasserstein_distance(a, b, None if raw else wa, None if raw else wb)
    return float(w / max(weighted_std(a, wa), WASSERSTEIN_MIN_STD))


def contingency_pvalue(ca: FloatArray, cb: FloatArray) -> float:
    """``chi2_contingency`` p-value of the 2 x K table, no Yates correction, empty columns dropped.

    Fewer than 2 non-empty columns: nothing can differ, p = 1.
    """
    from scipy import stats  # imported lazily: scipy.stats costs ~0.7 s

    keep = (ca + cb) > 0
    if int(keep.sum()) < 2:
        return 1.0
    table = np.vstack((ca[keep], cb[keep]))
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def z_test_pvalue(ca: FloatArray, cb: FloatArray) -> float:
    """Two-proportion Z-test (Evidently): share of "not the first category" in each sample.

    ``z = (p1 - p2) / sqrt(P (1 - P) (1/n + 1/m))``, ``P`` pooled; ``p = 2 * norm.sf(|z|)``.
    A single category overall (``P`` is 0 or 1) gives p = 1.
    """
    from scipy import stats  # imported lazily: scipy.stats costs ~0.7 s

    n, m = float(ca.sum()), float(cb.sum())
    p1, p2 = (n - ca[0]) / n, (m - cb[0]) / m
    pooled = (p1 * n + p2 * m) / (n + m)
    var = pooled * (1.0 - pooled) * (1.0 / n + 1.0 / m)
    if var <= 0:
        return 1.0
    return float(2.0 * stats.norm.sf(abs(p1 - p2) / np.sqrt(var)))


def bonferroni(p: FloatArray) -> FloatArray:
    """``min(1, p * k)``."""
    return np.minimum(1.0, p * p.size)


def benjamini_hochberg(p: FloatArray) -> FloatArray:
    """BH adjusted p-values: ``min_{j >= i} p_(j) k / j`` in sorted order, capped at 1."""
    k = p.size
    if k == 0:
        return p.copy()
    order = np.argsort(p)
    scaled = p[order] * k / np.arange(1, k + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(k, dtype=np.float64)
    out[order] = np.minimum(1.0, adjusted)
    return out
