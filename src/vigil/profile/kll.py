"""KLL quantile sketch in the layout of AWS Deequ 2.0.2 (``QuantileNonSample``).

SageMaker Model Monitor writes Deequ's sketch into ``statistics.json`` as
``{"parameters": {"c": c, "k": k}, "data": [[level 0], [level 1], ...]}``; an item on
level ``i`` weighs ``2**i``.  Semantics mirrored from Deequ:

* capacity of level ``h`` is ``2 * (ceil(k * c**h / 2) + 1)``: level 0 is the largest;
* compaction sorts a level (all but an odd trailing item, which stays), keeps every
  other item from an offset and moves them one level up.  Deequ 2.0.2 alternates the
  offset per level as 0, 1, 1, 0, 0, 1, 1, ... (its random offset is commented out);
  pass ``seed`` to draw random offsets instead;
* condensing compacts the lowest level at or over its capacity, and repeats while the
  items held exceed the summed capacities (``>`` after an update, ``>=`` after a merge);
* merge concatenates level by level, then condenses.

Values arrive in vectorised chunks: a chunk is appended to level 0 and the cascade of
compactions runs on whole arrays.  Compacting a buffer larger than its capacity is still
a valid KLL compaction (it moves any rank by at most the level's weight), so this only
changes *when* compactions happen, not the error analysis.
"""

from __future__ import annotations

import copy as _copy
import math
from typing import Literal

import numpy as np

_EMPTY = np.empty(0, dtype=np.float64)


class KLLSketch:
    """Mergeable quantile sketch compatible with Deequ/SageMaker ``kll`` statistics.

    >>> s = KLLSketch()
    >>> s.update(np.array([3.0, 1.0, np.nan, 2.0, 2.0]))
    >>> s.n, s.to_data()
    (4, [[3.0, 1.0, 2.0, 2.0]])
    >>> float(s.cdf(2.0)), float(s.quantile(0.5))
    (0.75, 2.0)
    >>> s.buckets(1.0, 3.0, num=2)
    [(1.0, 2.0, 1.0), (2.0, 3.0, 3.0)]
    """

    def __init__(self, k: int = 2048, c: float = 0.64, seed: int | None = None) -> None:
        self.k = int(k)
        self.c = float(c)
        self._rng = None if seed is None else np.random.default_rng(seed)
        self._levels: list[np.ndarray] = [_EMPTY]
        self._caps: list[int] = [self._capacity(0)]
        self._compactions: list[int] = [0]  # Deequ's numOfCompress, per level
        self._offsets: list[int] = [0]  # Deequ's offset, per level
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _capacity(self, height: int) -> int:
        return 2 * (math.ceil(self.k * self.c**height / 2) + 1)

    @property
    def n(self) -> int:
        """Total weight, i.e. the number of (non-NaN) values summarised."""
        return sum(len(level) << i for i, level in enumerate(self._levels))

    @property
    def levels(self) -> list[np.ndarray]:
        """Copies of the items per level (float64); an item on level ``i`` weighs ``2**i``."""
        return [level.copy() for level in self._levels]

    def _expand(self) -> None:
        self._levels.append(_EMPTY)
        self._caps.append(self._capacity(len(self._caps)))
        self._compactions.append(0)
        self._offsets.append(0)

    def _compact(self, h: int) -> None:
        if h + 1 == len(self._levels):
            self._expand()
        buf = self._levels[h]
        even = len(buf) - len(buf) % 2
        if self._rng is not None:
            self._offsets[h] = int(self._rng.integers(2))
        elif self._compactions[h] % 2 == 1:
            self._offsets[h] = 1 - self._offsets[h]
        self._compactions[h] += 1
        # Level 0 is raw data; higher levels are concatenated sorted runs (timsort: ~linear).
        srt = buf[:even]
        srt.sort(kind="quicksort" if h == 0 else "stable")  # in place: buf is always our own
        self._levels[h] = buf[even:].copy()
        self._levels[h + 1] = np.concatenate((self._levels[h + 1], srt[self._offsets[h] :: 2]))

    def _condense(self, inclusive: bool) -> None:
        while True:
            held = sum(len(level) for level in self._levels)
            total = sum(self._caps)
            if held < total or (held == total and not inclusive):
                return
            h = next(i for i, lv in enumerate(self._levels) if len(lv) >= self._caps[i])
            self._compact(h)

    def update(self, values: np.ndarray) -> None:
        """Add a chunk of values (any numeric dtype); NaN values are ignored.

        The chunk joins level 0, then the lowest over-capacity level is compacted until the
        items fit the summed capacities; one value per call is exactly Deequ's row update.
        """
        v = np.asarray(values, dtype=np.float64).ravel()
        if np.isnan(v.sum()):  # one pass, no temporary, when there is no NaN
            v = v[~np.isnan(v)]
        if len(v) == 0:
            return
        self._cache = None
        self._levels[0] = np.concatenate((self._levels[0], v))
        self._condense(inclusive=False)

    def merge(self, other: KLLSketch) -> None:
        """Merge ``other`` into this sketch in place (Deequ ``QuantileNonSample.merge``)."""
        self._cache = None
        while len(self._levels) < len(other._levels):
            self._expand()
        for i, level in enumerate(other._levels):
            if len(level):
                self._levels[i] = np.concatenate((self._levels[i], level))
        self._condense(inclusive=True)

    def copy(self) -> KLLSketch:
        """An independent copy (levels, offset state and random generator state)."""
        new = KLLSketch.__new__(KLLSketch)
        new.__dict__.update(self.__dict__)
        new._levels = [level.copy() for level in self._levels]
        new._caps, new._compactions = list(self._caps), list(self._compactions)
        new._offsets, new._rng = list(self._offsets), _copy.deepcopy(self._rng)
        return new

    def _sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._cache is None:
            values = np.concatenate(self._levels)
            weights = np.repeat(
                np.ldexp(1.0, np.arange(len(self._levels))), [len(lv) for lv in self._levels]
            )
            order = np.argsort(values, kind="stable")
            values, weights = values[order], weights[order]
            cum = np.concatenate(([0.0], np.cumsum(weights)))
            self._cache = (values, weights, cum)
        return self._cache

    def weighted_items(self) -> tuple[np.ndarray, np.ndarray]:
        """All items sorted by value, with their float weights ``2**level``."""
        values, weights, _ = self._sorted()
        return values.copy(), weights.copy()

    def _rank(self, x: np.ndarray | float, side: Literal["left", "right"]) -> np.ndarray | float:
        values, _, cum = self._sorted()
        r = cum[np.searchsorted(values, np.asarray(x, dtype=np.float64), side=side)]
        return float(r) if np.ndim(r) == 0 else r

    def rank_exclusive(self, x: np.ndarray | float) -> np.ndarray | float:
        """Weight of items ``< x`` (Deequ ``getRankExclusive``)."""
        return self._rank(x, "left")

    def rank_inclusive(self, x: np.ndarray | float) -> np.ndarray | float:
        """Weight of items ``<= x`` (Deequ ``getRank``)."""
        return self._rank(x, "right")

    def cdf(self, x: np.ndarray | float) -> np.ndarray | float:
        """Share of weight ``<= x``; NaN for an empty sketch."""
        n = self.n
        r = self.rank_inclusive(x)
        return r / n if n else r * np.nan

    def quantile(self, q: np.ndarray | float) -> np.ndarray | float:
        """Smallest item whose inclusive rank is ``>= q * n`` (numpy's ``inverted_cdf``)."""
        values, _, cum = self._sorted()
        qa = np.asarray(q, dtype=np.float64)
        if len(values) == 0:
            out = np.full(qa.shape, np.nan)
        else:
            idx = np.searchsorted(cum[1:], qa * cum[-1], side="left")
            out = values[np.clip(idx, 0, len(values) - 1)]
        return float(out) if out.ndim == 0 else out

    def buckets(self, lo: float, hi: float, num: int = 10) -> list[tuple[float, float, float]]:
        """Deequ's equal-width ``BucketDistribution``: ``(lower, upper, count)`` per bucket.

        Bounds are ``lo + (hi - lo) * i / num``; a bucket counts the weight in
        ``[lower, upper)``, the last one in ``[lower, upper]``.
        """
        bounds = [lo + (hi - lo) * i / num for i in range(num + 1)]
        below = np.asarray(self.rank_exclusive(np.array(bounds)))
        last = float(self.rank_inclusive(bounds[-1]))
        counts = [float(below[i + 1] - below[i]) for i in range(num - 1)]
        counts.append(last - float(below[num - 1]))
        return [(bounds[i], bounds[i + 1], counts[i]) for i in range(num)]

    def to_data(self) -> list[list[float]]:
        """The ``sketch.data`` lists; an empty sketch gives ``[[]]`` like Deequ (one level)."""
        return [level.tolist() for level in self._levels]

    @classmethod
    def from_data(cls, data: list[list[float]], k: float = 2048, c: float = 0.64) -> KLLSketch:
        """Rebuild from ``sketch.data`` (``k`` may be the JSON float ``2048.0``)."""
        sketch = cls(int(k), c)
        for i, items in enumerate(data):
            if i >= len(sketch._levels):
                sketch._expand()
            sketch._levels[i] = np.array(items, dtype=np.float64).ravel()  # owned: sorted in place
        return sketch

    @staticmethod
    def rank_error(k: int = 2048) -> float:
        """Bound on the normalised rank error ``max_x |cdf(x) - F_n(x)|``: ``10 / k``.

        Empirical, the way Apache DataSketches states KLL errors: there is no closed form
        for Deequ's capacity schedule (level 0 largest, alternating offsets).  The least
        favourable input schedule is Deequ's own one value per update (most compactions):
        over ~160 normal, lognormal, uniform and duplicated streams of 1e5..1e7 values,
        k = 128..2048, alternating and random offsets, measured error times k was at most
        7.3 (median ~4).  Chunked updates compact less often: at k=2048, chunks of 65,536
        values measure <= 5.5e-4 and chunks of 1,000 <= 2e-3.  Strict but n-dependent:
        a compaction on level h moves any rank by at most 2**h, so the error never exceeds
        the sum of those weights over all compactions.
        """
        return 10.0 / k
