"""Which schema revision a database is at, which one this Vigil needs, and the check on open.

The schema is versioned by alembic (:mod:`vigil.store.migrations`), which records the revision
of a database in its ``alembic_version`` table. This module reads that table and knows the
revisions shipped with the code without importing alembic (a few hundred milliseconds that
every command would pay): a revision is a file ``versions/vNNNN_slug.py`` whose revision id is
``NNNN``, one after the other (``tests/test_migrations.py`` checks that alembic sees the same
chain). Opening an installation (:func:`ensure_schema`) then:

- creates a database that holds none of Vigil's tables at the newest revision (every table of
  :mod:`vigil.store.models`, stamped), so a new installation needs no extra step;
- accepts a database at the newest revision (creating again any of its tables dropped by hand);
- refuses an older one, including one written before migrations existed (tables present, no
  ``alembic_version``: revision "none"), with :class:`SchemaOutdatedError` saying to run
  ``vigil db upgrade``; and one at a revision it does not know (written by a newer Vigil) with
  :class:`SchemaTooNewError`.

>>> from sqlalchemy import create_engine
>>> engine = create_engine("sqlite://")
>>> read_state(engine).status
'empty'
>>> ensure_schema(engine)
>>> state = read_state(engine)
>>> (state.status, state.revision == head())
('current', True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    select,
    text,
)
from sqlalchemy import inspect as inspect_db

from vigil.store.errors import SchemaOutdatedError, SchemaTooNewError
from vigil.store.models import Base

__all__ = [
    "UPGRADE_COMMAND",
    "VERSIONS_DIR",
    "VERSION_TABLE",
    "SchemaState",
    "create_at_head",
    "ensure_schema",
    "head",
    "known_revisions",
    "read_state",
    "schema_lock",
    "stamp",
    "state_of",
]

VERSIONS_DIR = Path(__file__).resolve().parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"
UPGRADE_COMMAND = "vigil db upgrade"
_REVISION_FILE = re.compile(r"^v(\d{4})_\w+\.py$")
_PG_LOCK_KEY = 0x76696769  # "vigi": serialises schema creation between processes

# The table alembic keeps its revision in, declared as alembic declares it (on a metadata of
# its own: it is not one of Vigil's tables).
_version = Table(
    VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def known_revisions() -> tuple[str, ...]:
    """The revision ids shipped with this Vigil, oldest first (``("0001", ...)``)."""
    found = (_REVISION_FILE.match(p.name) for p in VERSIONS_DIR.iterdir())
    return tuple(sorted(m.group(1) for m in found if m))


def head() -> str:
    """The newest revision: the one this Vigil's code needs."""
    return known_revisions()[-1]


@dataclass(frozen=True)
class SchemaState:
    """What a database holds: Vigil's tables or not, and the revision it is stamped with."""

    url: str
    revision: str | None  # None: no alembic_version table (or an empty one)
    has_tables: bool  # at least one table of vigil.store.models exists

    @property
    def status(self) -> str:
        """``empty`` (none of Vigil's tables yet), ``current`` (at :func:`head`), ``outdated``
        (older, or unversioned tables) or ``newer`` (a revision this Vigil does not know)."""
        if not self.has_tables:  # a stamp left behind by dropped tables stamps nothing
            return "empty"
        if self.revision is None:
            return "outdated"
        if self.revision == head():
            return "current"
        return "outdated" if self.revision in known_revisions() else "newer"

    def refusal(self) -> SchemaOutdatedError | SchemaTooNewError | None:
        """The error that refuses this database, or ``None`` when the code can use it."""
        if self.status == "outdated":
            return SchemaOutdatedError(
                f"database {self.url} is at revision {self.revision or 'none'}, this Vigil "
                f"needs {head()}: run '{UPGRADE_COMMAND}'"
            )
        if self.status == "newer":
            return SchemaTooNewError(
                f"database {self.url} is at revision {self.revision}, newer than this Vigil "
                f"knows (its newest is {head()}): run a Vigil that knows {self.revision}"
            )
        return None


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def state_of(conn: Connection) -> SchemaState:
    """The schema state of the database ``conn`` is connected to, read in its transaction."""
    url = _shown(conn.engine)
    names = set(inspect_db(conn).get_table_names())
    revision = None
    if VERSION_TABLE in names:
        revisions = sorted(conn.execute(select(_version.c.version_num)).scalars())
        revision = revisions[-1] if revisions else None
    return SchemaState(url, revision, bool(names & set(Base.metadata.tables)))


def read_state(engine: Engine) -> SchemaState:
    """The schema state of the database behind ``engine``."""
    with engine.connect() as conn:
        return state_of(conn)


def stamp(conn: Connection, revision: str) -> None:
    """Record ``revision`` as the database's (as ``alembic stamp`` does), in ``conn``'s
    transaction."""
    _version.create(conn, checkfirst=True)
    conn.execute(_version.delete())
    conn.execute(_version.insert().values(version_num=revision))


def schema_lock(conn: Connection) -> None:
    """Hold the database's schema lock until ``conn``'s transaction ends: a write lock on
    SQLite (``BEGIN IMMEDIATE``, DDL included), an advisory lock on PostgreSQL."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def create_at_head(engine: Engine) -> SchemaState:
    """Create every table and stamp the newest revision when the database holds none of Vigil's
    tables yet (one process does it, the others wait and find it done); the state found or
    made."""
    with engine.connect() as conn:
        schema_lock(conn)
        state = state_of(conn)
        if state.status == "empty":
            Base.metadata.create_all(conn)
            stamp(conn, head())
            state = SchemaState(state.url, head(), True)
        conn.commit()
    return state


def ensure_schema(engine: Engine) -> None:
    """Make the database behind ``engine`` usable by this Vigil or say why not: create it at
    the newest revision when it is empty; raise :class:`SchemaOutdatedError` or
    :class:`SchemaTooNewError` when it is at another revision."""
    state = read_state(engine)
    if state.status == "empty":
        state = create_at_head(engine)
    refusal = state.refusal()
    if refusal is not None:
        raise refusal
    Base.metadata.create_all(engine)  # at head: a table dropped by hand comes back, as it did
