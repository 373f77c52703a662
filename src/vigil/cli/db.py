"""``vigil db upgrade|current|check|revision``: the database's schema revision and its
migrations.

Every other command (the server included) refuses a database at another revision than the
one its code needs, with one line naming ``vigil db upgrade``; these commands are the ones that
open it as it is.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from vigil.app.bootstrap import connect_database
from vigil.app.sealing import seal_stored_secrets
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, line
from vigil.errors import VigilError
from vigil.store.db import Database
from vigil.store.schema_version import SchemaState, head, read_state
from vigil.store.settings import Settings

app = typer.Typer(name="db", help="The database's schema: revision, upgrade, check.")


def _database(data_dir: DataDirOpt, command: str, *, create: bool = False) -> Database:
    """The database as it is; only ``db upgrade`` may create a new installation."""
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.cli.local import missing_installation
    from vigil.cli.remote import refuse_remote

    try:
        refuse_remote(f"db {command}", "the schema is migrated on the database's own host")
        settings = Settings.from_env(data_dir)
        why = None if create else missing_installation(settings, data_dir)
        if why is not None:
            raise fail(why)
        return connect_database(settings)
    except VigilError as exc:
        raise fail(exc.message if exc.code == "remote_error" else str(exc)) from None


def _state(db: Database) -> SchemaState:
    try:
        return read_state(db.engine)
    except SQLAlchemyError as exc:
        raise fail(f"cannot read database {db!r}: {exc}") from None


def _document(state: SchemaState) -> dict[str, object]:
    return {
        "database": state.url,
        "revision": state.revision,
        "head": head(),
        "status": state.status,
    }


@app.command("upgrade")
def db_upgrade(data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """Bring the database to the schema this Vigil needs (an empty one is created, one
    written before migrations is recorded as revision 0001 and upgraded), then seal the
    secrets older Vigils stored in plain text (how many is said; a second run seals none)."""
    from vigil.store.migrations import upgrade  # lazy: alembic only for this command

    db = _database(data_dir, "upgrade", create=True)
    try:
        done = upgrade(db)
        sealed = seal_stored_secrets(db)  # rows written before secrets were encrypted
    except (VigilError, SQLAlchemyError) as exc:
        raise fail(str(exc)) from None
    finally:
        db.dispose()
    if output is OutputFormat.json:
        emit_json(
            {
                "database": done.database,
                "before": done.before,
                "after": done.after,
                "stamped": done.stamped,
                "changed": done.changed,
                "sealed": sealed.total,
                "sealed_by_kind": sealed.counts,
            }
        )
        return
    if not done.changed:
        line(f"database {done.database} is at revision {done.after}: nothing to do")
    else:
        came = "none (written before migrations)" if done.stamped else (done.before or "none")
        line(f"database {done.database} upgraded from revision {came} to {done.after}")
    if sealed.total:
        kinds = ", ".join(f"{n} in {kind}" for kind, n in sealed.counts.items() if n)
        line(f"sealed {sealed.total} plain-text secret value(s) with the secret key ({kinds})")


@app.command("current")
def db_current(data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """The database's revision, and whether this Vigil can use it."""
    db = _database(data_dir, "current")
    state = _state(db)
    db.dispose()
    if output is OutputFormat.json:
        emit_json(_document(state))
        return
    line(
        f"database {state.url} is at revision {state.revision or 'none'} ({state.status}; "
        f"this Vigil needs {head()})"
    )


@app.command("check")
def db_check(data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """Exit 0 when this Vigil can use the database as it is (at its revision, or empty: it is
    then created on first use), else 2 with what to do."""
    db = _database(data_dir, "check")
    state = _state(db)
    db.dispose()
    if output is OutputFormat.json:
        emit_json(_document(state))
    refusal = state.refusal()
    if refusal is not None:
        raise fail(str(refusal))
    if output is OutputFormat.json:
        return
    if state.status == "empty":
        line(f"database {state.url} is empty: it is created at revision {head()} on first use")
    else:
        line(f"database {state.url} is at revision {head()}, as this Vigil needs")


@app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the revision changes.")],
) -> None:
    """For developers: write the next migration for what the models hold beyond the newest
    revision (into the source tree's src/vigil/store/migrations/versions/)."""
    from vigil.store.migrations import new_revision  # lazy: alembic only for this command

    try:
        path = new_revision(message)
    except (VigilError, SQLAlchemyError, OSError) as exc:
        raise fail(str(exc)) from None
    line(f"wrote {path}: read it, adjust it, run tests/test_migrations.py")
