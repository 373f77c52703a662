"""The database: one SQLAlchemy engine and session factory, SQLite or PostgreSQL by URL.

The embedded default is a SQLite file under the data directory; a team points
``VIGIL_DATABASE_URL`` at PostgreSQL. ``postgresql://`` URLs use the psycopg 3 driver.

>>> db = Database("sqlite://")
>>> db.dialect
'sqlite'
>>> Database.normalize_url("postgresql://vigil@db.example:5432/vigil")
'postgresql+psycopg://vigil@db.example:5432/vigil'
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from vigil.store.errors import DatabaseURLError, DataDirectoryError
from vigil.store.models import Base
from vigil.store.schema_version import create_at_head, ensure_schema

log = logging.getLogger(__name__)

ENV_URL = "VIGIL_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class Database:
    """An engine plus a session factory for one database URL.

    SQLite connections run in WAL mode with a busy timeout (so several threads and processes
    can write) and with foreign keys enforced. Sessions keep their objects loaded after
    commit (``expire_on_commit=False``) so returned models can be read freely.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = self.normalize_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError as exc:
            raise DatabaseURLError(f"cannot parse database URL {url!r}: {exc}") from None
        kwargs: dict[str, Any] = {"echo": echo}
        if parsed.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"check_same_thread": False}
            if parsed.database in (None, "", ":memory:"):
                # One shared connection, or each new connection would see a new empty database.
                kwargs["poolclass"] = StaticPool
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine: Engine = create_engine(self.url, **kwargs)
        except Exception as exc:  # unknown dialect or missing driver
            raise DatabaseURLError(f"cannot use database URL {parsed!r}: {exc}") from None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_on_connect)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    @staticmethod
    def normalize_url(url: str) -> str:
        """``url`` with ``postgresql://`` and ``postgres://`` mapped to the psycopg 3 driver."""
        for scheme in _POSTGRES_SCHEMES:
            if url.startswith(scheme):
                return "postgresql+psycopg://" + url[len(scheme) :]
        return url

    @classmethod
    def from_env(cls, data_dir: Path, environ: Mapping[str, str] | None = None) -> Database:
        """``$VIGIL_DATABASE_URL`` when set, else ``sqlite:///{data_dir}/vigil.db``."""
        env = os.environ if environ is None else environ
        url = env.get(ENV_URL, "").strip()
        if not url:
            data_dir = Path(data_dir)
            try:
                data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a file there, or a parent that cannot be created
                raise DataDirectoryError(
                    f"data directory {data_dir}: cannot use it ({exc.strerror or exc}); "
                    "expected a directory (--data-dir or $VIGIL_DATA_DIR)"
                ) from None
            url = f"sqlite:///{data_dir.resolve() / 'vigil.db'}"
        return cls(url)

    @property
    def dialect(self) -> str:
        """The backend's name: ``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def create_all(self) -> None:
        """Create every table and index of :mod:`vigil.store.models` that does not exist yet;
        a database that held none of them is stamped at the newest schema revision
        (:mod:`vigil.store.schema_version`). Servers and commands open a database with
        :meth:`ensure_schema` instead, which refuses one at another revision."""
        create_at_head(self.engine)
        Base.metadata.create_all(self.engine)

    def ensure_schema(self) -> None:
        """Create an empty database at the newest schema revision, accept one at that revision,
        refuse any other (:class:`~vigil.store.errors.SchemaOutdatedError`: run
        ``vigil db upgrade``; :class:`~vigil.store.errors.SchemaTooNewError`)."""
        ensure_schema(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back if it raises."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)!r})"


def affected_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its cursor's ``rowcount``)."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _wal(cursor: Any) -> None:
    """Switch to WAL. While connections open a brand-new file together, SQLite may answer
    ``database is locked`` at once, without its busy handler (the WAL index being set up by
    another connection): such an answer is retried, for as long as the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
