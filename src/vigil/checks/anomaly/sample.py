"""A uniform sample of a stream of tables (bottom-k: each row draws a random key, the rows
with the k smallest keys are kept), so that fitting an outlier model on training data of any
size holds at most k rows.

>>> import pyarrow as pa
>>> s = TableSample(3, seed=0)
>>> for start in range(0, 10, 4):
...     s.update(pa.table({"x": list(range(start, min(start + 4, 10)))}))
>>> s.table().num_rows, s.seen
(3, 10)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["TableSample"]


class TableSample:
    """At most ``limit`` rows, a uniform sample of all the rows given to :meth:`update`."""

    def __init__(self, limit: int, *, seed: int = 0) -> None:
        self.limit = limit
        self.seen = 0
        self._rng = np.random.default_rng(seed)
        self._tables: list[pa.Table] = []
        self._keys = np.empty(0, dtype=np.float64)

    def update(self, table: pa.Table) -> None:
        self.seen += table.num_rows
        self._tables.append(table)
        self._keys = np.concatenate([self._keys, self._rng.random(table.num_rows)])
        if len(self._keys) > 2 * self.limit:
            self._shrink()

    def _shrink(self) -> None:
        merged = pa.concat_tables(self._tables, promote_options="permissive")
        if len(self._keys) > self.limit:
            keep = np.sort(np.argpartition(self._keys, self.limit - 1)[: self.limit])
            merged = merged.take(pa.array(keep))
            self._keys = self._keys[keep]
        self._tables = [merged]

    def table(self) -> pa.Table:
        """The sample (rows in the order they came)."""
        if not self._tables:
            return pa.table({})
        self._shrink()
        return self._tables[0]
