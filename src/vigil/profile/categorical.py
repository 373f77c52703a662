"""Mergeable category counts: exact while small, Apache DataSketches past a cap.

Up to ``cap`` distinct values the counts are exact (a dict), so low-cardinality columns get
exact categorical buckets and an exact distinct count. Past the cap the counter moves to a
frequent-items sketch (heavy hitters with error bound) and an HLL distinct-count sketch, both
mergeable, so memory stays bounded whatever the column holds.

>>> a, b = CategoryCounter(), CategoryCounter()
>>> a.update_counts({"x": 2, "y": 1}); b.update_counts({"x": 1, "z": 4})
>>> a.merge(b)
>>> sorted(a.items()), a.distinct_count()
([('x', 3), ('y', 1), ('z', 4)], 3.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datasketches as ds

DEFAULT_CAP = 10_000
HLL_LG_K = 12
FREQUENT_LG_MAX = 12


def _datasketches() -> ModuleType:
    """The DataSketches module, loaded once a counter passes its cap (~20 ms to load: most
    columns never need it)."""
    import datasketches  # lazy: see above

    module: ModuleType = datasketches
    return module


class CategoryCounter:
    """Counts of string values; exact below ``cap`` distinct values, sketched above."""

    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        self.cap = cap
        self.counts: dict[str, int] | None = {}
        self._hll: ds.hll_sketch | None = None
        self._freq: ds.frequent_strings_sketch | None = None

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        if self._hll is not None and self._freq is not None:
            state["_hll"] = self._hll.serialize_compact()
            state["_freq"] = self._freq.serialize()
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        if isinstance(self._hll, bytes) and isinstance(self._freq, bytes):
            ds = _datasketches()
            self._hll = ds.hll_sketch.deserialize(self._hll)
            self._freq = ds.frequent_strings_sketch.deserialize(self._freq)

    @property
    def exact(self) -> bool:
        """True while counts are exact."""
        return self.counts is not None

    def _to_sketch(self) -> None:
        assert self.counts is not None
        ds = _datasketches()
        self._hll = ds.hll_sketch(HLL_LG_K)
        self._freq = ds.frequent_strings_sketch(FREQUENT_LG_MAX)
        for value, count in self.counts.items():
            self._hll.update(value)
            self._freq.update(value, int(count))
        self.counts = None

    def update_counts(self, counts: Mapping[str, int] | Iterable[tuple[str, int]]) -> None:
        """Add counts of values (e.g. one chunk's value counts)."""
        pairs = counts.items() if isinstance(counts, Mapping) else counts
        if self.counts is not None:
            own = self.counts
            for value, count in pairs:
                own[value] = own.get(value, 0) + int(count)
            if len(own) > self.cap:
                self._to_sketch()
            return
        assert self._hll is not None and self._freq is not None
        for value, count in pairs:
            self._hll.update(value)
            self._freq.update(value, int(count))

    def merge(self, other: CategoryCounter) -> None:
        """Fold another counter into this one."""
        if other.counts is not None:
            self.update_counts(other.counts)
            return
        if self.counts is not None:
            self._to_sketch()
        assert self._hll is not None and self._freq is not None
        assert other._hll is not None and other._freq is not None
        union = _datasketches().hll_union(HLL_LG_K)
        union.update(self._hll)
        union.update(other._hll)
        self._hll = union.get_result()
        self._freq.merge(other._freq)

    def distinct_count(self) -> float:
        """Exact number of distinct values, or the HLL estimate past the cap."""
        if self.counts is not None:
            return float(len(self.counts))
        assert self._hll is not None
        return float(self._hll.get_estimate())

    def items(self, limit: int | None = None) -> list[tuple[str, int]]:
        """(value, count) pairs, most frequent first (estimates past the cap)."""
        if self.counts is not None:
            pairs = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        else:
            assert self._freq is not None
            no_false_positives = _datasketches().frequent_items_error_type.NO_FALSE_POSITIVES
            rows = self._freq.get_frequent_items(no_false_positives)
            pairs = sorted(((row[0], int(row[1])) for row in rows), key=lambda kv: (-kv[1], kv[0]))
        return pairs[:limit] if limit is not None else pairs
