"""The two sides a drift method compares: a numeric or a categorical distribution.

A numeric distribution is weighted sorted items, so that the same code serves raw data (every
weight 1) and the weighted items of a KLL sketch (weight ``2**level``); a categorical one is
``category -> count``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from vigil.errors import InputError

__all__ = ["CategoricalDistribution", "Distribution", "NumericDistribution", "weighted_std"]


def weighted_std(values: np.ndarray, weights: np.ndarray) -> float:
    """Population (biased) weighted standard deviation; NaN when the total weight is 0.

    >>> weighted_std(np.array([1.0, 3.0]), np.array([1.0, 1.0]))  # numpy.std([1, 3])
    1.0
    """
    total = float(weights.sum())
    if total <= 0:
        return float("nan")
    mean = float(np.dot(weights, values) / total)
    return float(np.sqrt(np.dot(weights, (values - mean) ** 2) / total))


@dataclass(frozen=True, eq=False)
class NumericDistribution:
    """Weighted sorted items: raw data (weights 1) or a KLL sketch's items (weights ``2**level``).

    The constructor coerces to float64, drops NaN items and sorts when needed.
    """

    values: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64).ravel()
        weights = np.asarray(self.weights, dtype=np.float64).ravel()
        if values.shape != weights.shape:
            raise InputError(
                f"values ({values.size}) and weights ({weights.size}) differ in length"
            )
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise InputError("weights must be finite and non-negative")
        keep = ~np.isnan(values)
        values, weights = values[keep], weights[keep]
        if values.size > 1 and np.any(values[1:] < values[:-1]):
            order = np.argsort(values, kind="stable")
            values, weights = values[order], weights[order]
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "weights", weights)

    @classmethod
    def from_values(cls, x: Any) -> NumericDistribution:
        """Raw data: NaN dropped, sorted, every weight 1."""
        arr = np.asarray(x, dtype=np.float64).ravel()
        arr = np.sort(arr[~np.isnan(arr)])
        return cls(arr, np.ones(arr.size, dtype=np.float64))

    @property
    def n(self) -> float:
        return float(self.weights.sum())

    @property
    def mean(self) -> float:
        total = self.n
        return float(np.dot(self.weights, self.values) / total) if total > 0 else math.nan

    @property
    def std(self) -> float:
        """Population (biased) weighted standard deviation."""
        return weighted_std(self.values, self.weights)


@dataclass(frozen=True)
class CategoricalDistribution:
    """``category -> count`` (counts may be weighted, never negative)."""

    counts: dict[str, float]

    def __post_init__(self) -> None:
        counts = {str(k): float(v) for k, v in dict(self.counts).items()}
        if any(not math.isfinite(v) or v < 0 for v in counts.values()):
            raise InputError("category counts must be finite and non-negative")
        object.__setattr__(self, "counts", counts)

    @classmethod
    def from_values(cls, x: Iterable[Any]) -> CategoricalDistribution:
        """Count raw labels (``str(label)``); None and float NaN are dropped."""
        return cls(dict(Counter(str(v) for v in x if v is not None and v == v)))

    @property
    def n(self) -> float:
        return float(sum(self.counts.values()))


Distribution = NumericDistribution | CategoricalDistribution
"""Either side of a comparison; both sides of one comparison are of the same kind."""
