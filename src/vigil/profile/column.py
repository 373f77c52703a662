"""One column's mergeable profile: type counts, moments, KLL quantiles, category counts."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.profile.categorical import CategoryCounter
from vigil.profile.kll import KLLSketch
from vigil.profile.types import TypeCounts, classify

WELFORD_MAX = 4096
_SCALE = 1127  # 2**-1127 divides every float64 mantissa * 2**exponent exactly
_EXACT_CHUNK = 1 << 26  # per-chunk limit under which float64 bincount sums are exact


def exact_sum(x: np.ndarray) -> int:
    """The exact sum of finite float64 values, as an integer multiple of ``2**-1127``.

    Each value is split into ``M * 2**(e - 53)`` with a 53-bit integer ``M``; the halves of
    ``M`` are summed per exponent with float64 ``bincount`` (exact: every partial sum stays
    under 2**53), and the per-exponent sums combine as Python integers. Merging chunk sums is
    then plain integer addition, so the sum of merged chunks equals the whole's sum exactly.

    >>> vals = np.array([0.1, 0.2, 0.3, 1e16, -1e16])
    >>> exact_sum(vals) / (1 << 1127) == float(sum(map(__import__("fractions").Fraction, vals)))
    True
    """
    total = 0
    for start in range(0, len(x), _EXACT_CHUNK):
        mant, exp = np.frexp(x[start : start + _EXACT_CHUNK])
        hi = np.floor(mant * 134217728.0)  # top 27 bits of the 53-bit mantissa, as float
        lo = mant * 9007199254740992.0 - hi * 67108864.0  # the low 26 bits, exact
        idx = exp + 1100
        his = np.bincount(idx, weights=hi)
        los = np.bincount(idx, weights=lo)
        for i in np.flatnonzero((his != 0) | (los != 0)):
            value = (int(his[i]) << 26) + int(los[i])
            total += value << (int(i) - 1100 - 53 + _SCALE)
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
            other.m2 = float(np.dot(centered, centered))
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
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t)


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
        counts, x = classify(column)
        self.types += counts
        if len(x):
            finite = np.isfinite(x)
            if not finite.all():
                x = x[finite]
            self.moments.update(x)
            self.negatives += int(np.count_nonzero(x < 0))
            self.kll.update(x)
        if (
            counts.boolean
            or counts.string
            or (counts.present and _is_text(column.type) and not self.categories_partial)
        ):
            self._count_categories(column, text_only=not (counts.boolean or counts.string))

    def _count_categories(self, column: pa.Array | pa.ChunkedArray, text_only: bool) -> None:
        col = column
        if pa.types.is_dictionary(col.type) or not _is_text(col.type):
            col = col.cast(pa.string())
        vc = pc.value_counts(pc.drop_null(col))
        if text_only and self.categories is None and len(vc) > self._category_cap:
            # A numeric-looking text column with many distinct values: its string
            # statistics are not needed unless non-numeric values turn up later.
            self.categories_partial = True
            return
        if self.categories is None:
            self.categories = CategoryCounter(self._category_cap)
        values = vc.field("values").to_pylist()
        counts = vc.field("counts").to_pylist()
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
