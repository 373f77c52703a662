"""One column's mergeable profile: type counts, moments, KLL quantiles, category counts."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.profile.blas import THREADED_MIN, single_threaded, sum_squares
from vigil.profile.categorical import CategoryCounter
from vigil.profile.kll import KLLSketch
from vigil.profile.types import TypeCounts, classify, classify_distinct, distinct_text

WELFORD_MAX = 4096
_SCALE = 1200  # the exact sum is kept as an integer multiple of 2**-_SCALE
_BITS = 35  # bits taken per level; with at most 2**18 values per block sums stay below 2**53
_BLOCK = 1 << 18


def exact_sum(x: np.ndarray) -> int:
    """The exact sum of finite float64 values, as an integer multiple of ``2**-1200``.

    Each level cuts every value at the same bit position (35 bits below the largest
    exponent left), so the parts above the cut are integer multiples of one power of two that
    float64 adds without rounding in any order; the remainders (exact) go to the next level.
    Typical data needs two or three levels. Merging chunk sums is then integer addition, so
    the sum of merged chunks equals the whole's sum exactly.

    >>> from fractions import Fraction
    >>> vals = np.array([0.1, 0.2, 0.3, 1e16, -1e16, 5e-324])
    >>> exact_sum(vals) / (1 << 1200) == float(sum(map(Fraction, vals)))
    True
    """
    total = 0
    for start in range(0, len(x), _BLOCK):
        rest = x[start : start + _BLOCK]
        top = max(abs(float(rest.max())), abs(float(rest.min())))
        if top == 0.0:
            continue
        exponent = math.frexp(top)[1] - _BITS  # every |value| < 2**(exponent + 35)
        while True:
            if abs(exponent) > 1000:
                high = np.trunc(np.ldexp(rest, -exponent))
            else:
                high = rest * 2.0**-exponent
                np.trunc(high, out=high)
            total += int(high.sum()) << (exponent + _SCALE)
            if abs(exponent) > 1000:
                high = np.ldexp(high, exponent)
            else:
                high *= 2.0**exponent
            rest = np.subtract(rest, high, out=high)  # exact: the bits below the cut
            nonzero = np.count_nonzero(rest)
            if not nonzero:
                break
            if nonzero * 4 < len(rest):  # few left: keep those, cut below their own top
                rest = rest[rest != 0.0]
                top = max(abs(float(rest.max())), abs(float(rest.min())))
                exponent = math.frexp(top)[1] - _BITS
            else:  # every remainder is below the cut just made
                exponent -= _BITS
    return total


@dataclass
class Moments:
    """Count, sum, min, max and the (mean, M2) pair of Welford's update, mergeable.

    Small chunks use Welford's sequential update exactly as Spark's ``stddev_pop`` does, so
    SageMaker's ``std_dev`` is reproduced to the last digit; big chunks use a vectorised
    two-pass update. Merges follow Spark's formula. The sum accumulates in extended precision.

    >>> a, b = Moments(), Moments()
    >>> a.update(np.array([1.0, 2.0])); b.update(np.array([3.0, 4.0]))
    >>> a.merge(b)
    >>> a.count, a.total, a.mean, a.std_dev, a.minimum, a.maximum
    (4, 10.0, 2.5, 1.118033988749895, 1.0, 4.0)
    """

    count: int = 0
    sum_scaled: int = 0
    avg: float = 0.0
    m2: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf

    def update(self, x: np.ndarray) -> None:
        """Add a chunk of finite values."""
        if len(x) == 0:
            return
        other = Moments(
            count=len(x),
            sum_scaled=exact_sum(x),
            minimum=float(x.min()),
            maximum=float(x.max()),
        )
        if len(x) <= WELFORD_MAX:
            avg, m2 = 0.0, 0.0
            for n, v in enumerate(x.tolist(), start=1):
                delta = v - avg
                delta_n = delta / n
                avg += delta_n
                m2 += delta * (delta - delta_n)
            other.avg, other.m2 = avg, m2
        else:
            other.avg = other.total / other.count
            centered = x - other.avg
            if len(x) < THREADED_MIN:
                other.m2 = sum_squares(centered)
            else:
                with single_threaded():
                    other.m2 = sum_squares(centered)
        self.merge(other)

    def merge(self, other: Moments) -> None:
        """Fold another chunk's moments in (exact for count, sum, min, max)."""
        if other.count == 0:
            return
        if self.count == 0:
            self.count, self.sum_scaled, self.avg, self.m2 = (
                other.count,
                other.sum_scaled,
                other.avg,
                other.m2,
            )
            self.minimum, self.maximum = other.minimum, other.maximum
            return
        n = self.count + other.count
        delta = other.avg - self.avg
        delta_n = delta / n
        self.avg = self.avg + delta_n * other.count
        self.m2 = self.m2 + other.m2 + delta * delta_n * self.count * other.count
        self.count = n
        self.sum_scaled += other.sum_scaled
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)

    @property
    def total(self) -> float:
        """The sum."""
        return self.sum_scaled / (1 << _SCALE)  # int / int rounds correctly

    @property
    def mean(self) -> float:
        """The mean, sum / count as Deequ's Mean (NaN when empty)."""
        return self.total / self.count if self.count else math.nan

    @property
    def std_dev(self) -> float:
        """The population standard deviation, as statistics.json holds it."""
        return math.sqrt(max(self.m2, 0.0) / self.count) if self.count else math.nan


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t))


class ColumnProfile:
    """Everything statistics.json needs about one column, mergeable chunk by chunk."""

    def __init__(self, name: str, kll_k: int = 2048, category_cap: int = 10_000) -> None:
        self.name = name
        self.types = TypeCounts()
        self.moments = Moments()
        self.kll = KLLSketch(k=kll_k)
        self.categories: CategoryCounter | None = None
        self._category_cap = category_cap
        self.categories_partial = False
        self.negatives = 0

    def update(self, column: pa.Array | pa.ChunkedArray) -> None:
        """Profile one chunk of the column."""
        distinct = distinct_text(column) if _is_text(column.type) else None
        if distinct is not None:
            counts, x = classify_distinct(distinct, len(column))
        else:
            counts, x = classify(column)
        self.types += counts
        if len(x):
            if not math.isfinite(float(x.sum())):  # one pass, no allocation when all finite
                x = x[np.isfinite(x)]
            self.moments.update(x)
            self.negatives += int(np.count_nonzero(x < 0))
            self.kll.update(x)
        numeric_only = not (counts.boolean or counts.string)
        if distinct is not None:
            keep = np.flatnonzero(distinct.freq)
            values = distinct.values.to_pylist()
            self._add_categories(
                [values[i] for i in keep], distinct.freq[keep].tolist(), numeric_only
            )
        elif not numeric_only or (
            counts.present and _is_text(column.type) and not self.categories_partial
        ):
            col = column if _is_text(column.type) else column.cast(pa.string())
            if pa.types.is_dictionary(col.type):
                col = col.cast(col.type.value_type)
            vc = pc.value_counts(pc.drop_null(col))
            self._add_categories(
                vc.field("values").to_pylist(), vc.field("counts").to_pylist(), numeric_only
            )

    def _add_categories(self, values: list[str], counts: list[int], numeric_only: bool) -> None:
        if numeric_only and self.categories is None and len(values) > self._category_cap:
            # A numeric-looking text column with many distinct values: its string
            # statistics are not needed unless non-numeric values turn up later.
            self.categories_partial = True
            return
        if self.categories is None:
            self.categories = CategoryCounter(self._category_cap)
        self.categories.update_counts(zip(values, counts))

    def merge(self, other: ColumnProfile) -> None:
        """Fold another profile of the same column in."""
        self.types += other.types
        self.moments.merge(other.moments)
        self.negatives += other.negatives
        self.kll.merge(other.kll)
        if other.categories is not None:
            if self.categories is None:
                self.categories = CategoryCounter(self._category_cap)
            self.categories.merge(other.categories)
        self.categories_partial = self.categories_partial or other.categories_partial

    @property
    def inferred_type(self) -> str:
        """Integral, Fractional, String or Unknown."""
        return self.types.inferred_type()
