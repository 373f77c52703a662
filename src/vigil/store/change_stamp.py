"""A cheap "has the database changed?" stamp, and caches that hold only while it stands still.

For a SQLite file the stamp is ``PRAGMA data_version`` read on a connection of its own that
never writes: SQLite changes it whenever any other connection, in this process or another,
commits. Reading it costs microseconds and no lock, so a cache validated by it answers as fresh
as a query: a token revoked (or an endpoint deleted) by any server is seen by the next request
of every other one. Other databases have no such stamp: :meth:`ChangeStamp.current` answers
None and a :class:`StampedCache` then loads on every call.

>>> import tempfile
>>> from pathlib import Path
>>> from sqlalchemy import text
>>> db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'x.db'}")
>>> with db.engine.begin() as c:
...     _ = c.execute(text("create table t (x int)"))
>>> cache = StampedCache(ChangeStamp(db))
>>> calls = []
>>> load = lambda: calls.append(1) or len(calls)
>>> cache.get("k", load), cache.get("k", load)
(1, 1)
>>> with db.engine.begin() as c:
...     _ = c.execute(text("insert into t values (1)"))
>>> cache.get("k", load)
2
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from vigil.store.db import Database

V = TypeVar("V")
MAX_ENTRIES = 4096  # past this many keys a cache starts afresh (unknown keys cost no memory)


class ChangeStamp:
    """``PRAGMA data_version`` of a SQLite file database (None for any other database)."""

    def __init__(self, db: Database) -> None:
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        path = db.engine.url.database if db.dialect == "sqlite" else None
        if path and path != ":memory:" and not path.startswith("file:"):
            # no busy wait: a locked file answers None (a cache miss), never a stalled caller
            self._conn = sqlite3.connect(
                path,
                timeout=0,
                check_same_thread=False,
                isolation_level=None,
            )

    def current(self) -> int | None:
        """The database's change stamp now; None when there is none (or it cannot be read)."""
        if self._conn is None:
            return None
        try:
            with self._lock:
                row = self._conn.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(row[0])

    def close(self) -> None:
        """Close the probe connection; :meth:`current` answers None from then on."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class StampedCache(Generic[V]):
    """Values by key, each valid while the database's change stamp has not moved."""

    def __init__(self, stamp: ChangeStamp) -> None:
        self.stamp = stamp
        self._lock = threading.Lock()
        self._values: dict[Hashable, V] = {}
        self._at: int | None = None

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        """The cached value of ``key``, or ``load()`` (cached when the stamp is known and did
        not move while it loaded)."""
        now = self.stamp.current()
        if now is None:
            return load()
        with self._lock:
            if now != self._at:
                self._values = {}
                self._at = now
            elif key in self._values:
                return self._values[key]
        value = load()
        with self._lock:
            # a value is kept only under the stamp it was read at: a commit meanwhile (say a
            # revocation) moves the stamp, and the next get starts afresh
            if self._at == now and self.stamp.current() == now:
                if len(self._values) >= MAX_ENTRIES:
                    self._values = {}
                self._values[key] = value
        return value

    def peek(self, key: Hashable, at: int | None = None) -> tuple[bool, V | None]:
        """``(True, value)`` when ``key`` is cached under the current stamp (or under ``at``,
        a stamp the caller read for the same request), else ``(False, None)``; never loads."""
        now = self.stamp.current() if at is None else at
        with self._lock:
            if now is not None and now == self._at and key in self._values:
                return True, self._values[key]
        return False, None

    def drop(self, key: Hashable) -> None:
        """Forget ``key`` (its next :meth:`get` loads)."""
        with self._lock:
            self._values.pop(key, None)
