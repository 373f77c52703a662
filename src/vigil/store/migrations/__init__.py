"""Vigil's schema migrations: alembic, configured in code (no ``alembic.ini``), shipped in the
package (``env.py``, ``script.py.mako`` and ``versions/``).

``vigil db upgrade`` (:func:`upgrade`) brings a database to the newest revision: an empty one
is built revision by revision, one written before migrations existed (Vigil's tables, no
``alembic_version``) is stamped ``0001`` (the schema of that code, exactly) and then upgraded.
The whole upgrade runs in one transaction under the schema lock of
:mod:`vigil.store.schema_version` (SQLite: ``BEGIN IMMEDIATE`` with foreign keys off while
tables are copied; PostgreSQL: an advisory lock, DDL transactional), so a failed upgrade leaves
the database as it was.

A change to :mod:`vigil.store.models` needs a revision, or ``tests/test_migrations.py`` fails
(it compares the models with a database upgraded to head). Write one with::

    PYTHONPATH=src python -m vigil db revision -m "add the audit table"

which upgrades a scratch SQLite database to head, lets alembic's autogenerate compare it with the
models and writes ``versions/vNNNN_add_the_audit_table.py`` (the next number); read it, adjust
what autogenerate cannot know (renames, data moves, server defaults for new non-null columns)
and run the tests, which check it on SQLite and PostgreSQL.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from vigil.store.db import Database
from vigil.store.errors import MigrationError, SchemaTooNewError
from vigil.store.models import Base
from vigil.store.partitions import is_partition_name
from vigil.store.schema_version import (
    head,
    known_revisions,
    schema_lock,
    state_of,
)

__all__ = [
    "HERE", "Upgrade", "config", "differences", "include_name", "new_revision", "script", "upgrade",
]

HERE = Path(__file__).resolve().parent
FIRST = "0001"  # the schema of the code that came before migrations


def config(connection: Connection | None = None) -> Config:
    """An alembic configuration for Vigil's scripts; ``connection`` is the one ``env.py`` runs
    the migrations on."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
    cfg.set_main_option("truncate_slug_length", "40")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script() -> ScriptDirectory:
    """alembic's view of the shipped revisions."""
    return ScriptDirectory.from_config(config())


@dataclass(frozen=True)
class Upgrade:
    """What :func:`upgrade` did to one database."""

    database: str
    before: str | None  # None: empty, or written before migrations
    after: str
    stamped: bool  # tables written before migrations, recorded as revision 0001

    @property
    def changed(self) -> bool:
        """Whether the database's revision moved."""
        return self.before != self.after


def upgrade(db: Database, target: str = "head") -> Upgrade:
    """Bring ``db`` to ``target`` (the newest revision by default), in one transaction."""
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # batch mode copies tables: no cascades meanwhile (a no-op in a transaction)
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
            conn.commit()
        try:
            schema_lock(conn)
            state = state_of(conn)
            if state.status == "newer":
                raise SchemaTooNewError(
                    f"database {state.url} is at revision {state.revision}, newer than this "
                    f"Vigil knows (its newest is {head()}): nothing to upgrade"
                )
            cfg = config(conn)
            stamped = state.revision is None and state.has_tables
            if stamped:
                command.stamp(cfg, FIRST)
            elif state.status == "empty" and state.revision is not None:  # tables dropped
                command.stamp(cfg, "base", purge=True)
            command.upgrade(cfg, target)
            after = state_of(conn).revision
            conn.commit()
        except (MigrationError, SchemaTooNewError):
            conn.rollback()
            raise
        except Exception as exc:
            conn.rollback()
            raise MigrationError(f"cannot upgrade {state_url(db)}: {exc}") from exc
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys = ON")
                conn.commit()
    return Upgrade(state.url, state.revision, after or head(), stamped)


def state_url(db: Database) -> str:
    """``db``'s URL with its password hidden."""
    return db.engine.url.render_as_string(hide_password=True)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """What autogenerate compares: every reflected table but the day partitions of
    ``datapoints`` (:mod:`vigil.store.partitions`), which are data rather than schema."""
    return not (type_ == "table" and name is not None and is_partition_name(name))


def differences(db: Database) -> list[Any]:
    """What alembic's autogenerate finds between the models and ``db`` (tables, columns, types,
    nullability, indexes, unique constraints, foreign keys): empty when they agree."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        return list(compare_metadata(context, Base.metadata))


def new_revision(message: str) -> Path:
    """Write the next revision for what the models hold beyond head (autogenerated against a
    scratch SQLite database upgraded to head); the file written."""
    rev_id = f"{int(head()) + 1:04d}" if known_revisions() else FIRST
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        try:
            if known_revisions():
                upgrade(db)
            with db.engine.connect() as conn:
                made = command.revision(
                    config(conn), message=message, autogenerate=True, rev_id=rev_id
                )
        finally:
            db.dispose()
    scripts = made if isinstance(made, list) else [made]
    if not scripts or scripts[0] is None:
        raise MigrationError(f"alembic wrote no revision for {message!r}")
    return Path(scripts[0].path)
