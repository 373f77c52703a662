"""Bins and count vectors the methods share (documented in the README table).

* ``F(x)`` is the weight of the items ``<= x`` divided by the total weight.
* Quantile bins (``psi``, numeric ``chi_squared``): the 9 interior edges are the baseline's
  inverted-CDF deciles (the smallest item whose ``F`` reaches ``k/10``), duplicates dropped; bins
  are right-closed ``(e[i-1], e[i]]`` and the two outer bins are open to -inf / +inf, so current
  values outside the baseline's range still count.
* Common histogram (``jensen_shannon``, ``hellinger``), as Evidently: when the baseline holds at
  most 20 distinct values, one bin per distinct value of either side; otherwise Sturges bins
  (``ceil(log2(N)) + 1`` equal-width bins, ``N`` the total weight of both sides) over the range of
  the union.
* Categories: both count vectors over the sorted union of categories (absent -> 0).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from vigil.checks.drift.distributions import CategoricalDistribution, NumericDistribution

__all__ = [
    "PER_VALUE_MAX_DISTINCT",
    "QUANTILE_BINS",
    "align_counts",
    "as_categories",
    "bin_weights",
    "common_histogram",
    "quantile_bins",
    "quantile_edges",
]

PER_VALUE_MAX_DISTINCT = 20
"""Baselines with at most this many distinct values get one histogram bin per value."""

QUANTILE_BINS = 10

FloatArray = np.ndarray


def align_counts(
    a: Mapping[str, float], b: Mapping[str, float]
) -> tuple[list[str], FloatArray, FloatArray]:
    """Both count vectors over the sorted union of categories (absent -> 0).

    >>> align_counts({"b": 1, "a": 2}, {"c": 3})
    (['a', 'b', 'c'], array([2., 1., 0.]), array([0., 0., 3.]))
    """
    keys = sorted(set(a) | set(b))
    return (
        keys,
        np.array([float(a.get(k, 0.0)) for k in keys], dtype=np.float64),
        np.array([float(b.get(k, 0.0)) for k in keys], dtype=np.float64),
    )


def as_categories(dist: NumericDistribution) -> CategoricalDistribution:
    """Each distinct numeric value as a category (``repr`` of the float), weights summed."""
    keys, inverse = np.unique(dist.values, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=dist.weights, minlength=keys.size)
    return CategoricalDistribution(dict(zip(map(repr, keys.tolist()), sums.tolist(), strict=True)))


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


def quantile_bins(a: NumericDistribution, b: NumericDistribution) -> tuple[FloatArray, FloatArray]:
    """Weights of both sides in the baseline's (``a``'s) decile bins."""
    edges = quantile_edges(a.values, a.weights)
    return bin_weights(a.values, a.weights, edges), bin_weights(b.values, b.weights, edges)


def common_histogram(
    a: NumericDistribution, b: NumericDistribution
) -> tuple[FloatArray, FloatArray]:
    """Probability vectors of both sides on common bins (see the module docstring)."""
    av, wa, bv, wb = a.values, a.weights, b.values, b.weights
    n, m = float(wa.sum()), float(wb.sum())
    if np.unique(av[wa > 0]).size <= PER_VALUE_MAX_DISTINCT:
        keys = np.unique(np.concatenate((av, bv)))
        ca = np.bincount(np.searchsorted(keys, av), weights=wa, minlength=keys.size)
        cb = np.bincount(np.searchsorted(keys, bv), weights=wb, minlength=keys.size)
        return ca / n, cb / m
    k = int(np.ceil(np.log2(n + m))) + 1
    lo, hi = min(av[0], bv[0]), max(av[-1], bv[-1])
    edges = np.histogram_bin_edges(np.array([lo, hi]), bins=k)
    return (
        np.histogram(av, bins=edges, weights=wa)[0] / n,
        np.histogram(bv, bins=edges, weights=wb)[0] / m,
    )
