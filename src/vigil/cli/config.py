"""``vigil apply``: the catalog as code (``vigil.yaml``; ``vigil export`` writes it back, see
:mod:`vigil.cli.export`). With ``--server`` the file's text goes to ``POST
/api/v1/config/plan`` (``--dry-run``) or ``/config/apply`` and the server's plan is printed
as a local apply prints its own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.app.catalog import apply_config, current_config
from vigil.app.config import diff_config, document_lines, load_config, plan_document
from vigil.app.references import check_references
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, line
from vigil.cli.local import missing_installation, open_local
from vigil.cli.remote import Remote, selected
from vigil.errors import VigilError

app = typer.Typer()


def _current_or_empty(data_dir: DataDirOpt) -> Any:
    """The installation's catalog; an empty one where there is no installation yet (a plan
    creates nothing)."""
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.store.settings import Settings

    if missing_installation(Settings.from_env(data_dir), data_dir) is not None:
        # lazy: loaded only when this command runs (a light CLI start)
        from vigil.store.db import Database

        db = Database("sqlite://")  # in memory: what a new installation holds
        db.ensure_schema()
        return current_config(db)
    return current_config(open_local(data_dir, command="apply --dry-run").db)


@app.command("apply")
def apply_cmd(
    file: Annotated[Path, typer.Option("-f", "--file", help="A vigil.yaml file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan only.")] = False,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Create or update endpoints, baselines and schedules from a file (idempotent)."""
    server = selected()
    if server is not None:
        _print(_remote_apply(server, file, dry_run), dry_run, output)
        return
    try:
        desired = load_config(file).resolve_paths(file.resolve().parent)
        if dry_run:
            current = _current_or_empty(data_dir)
            check_references(current, desired)  # exactly what apply_config checks first
            plan = diff_config(current, desired)
        else:  # applying a file is how an installation is made: it may create one
            rt = open_local(data_dir, command="apply", create=True)
            plan = apply_config(rt.settings, rt.db, desired)
    except (VigilError, LookupError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"-f {file}: {exc.filename or ''}: {exc.strerror or exc}") from None
    _print(plan_document(plan, dry_run), dry_run, output)


def _remote_apply(server: Remote, file: Path, dry_run: bool) -> dict[str, Any]:
    """The server's plan of (or for) the file: its text sent as it is; relative paths in it
    are the server's (from its data directory)."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"-f {file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise fail(f"-f {file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    route = "/config/plan" if dry_run else "/config/apply"
    try:
        doc: dict[str, Any] = server.post(route, {"yaml": text, "source": str(file)})
    except VigilError as exc:
        raise fail(exc.message) from None
    return doc


def _print(doc: dict[str, Any], dry_run: bool, output: OutputFormat) -> None:
    """The plan as JSON, or one line per change and the summary (``plan: `` for a dry run)."""
    if output is OutputFormat.json:
        emit_json(doc)
        return
    lines = document_lines(doc)
    for change in lines[:-1]:
        line(change)
    line(("plan: " if dry_run else "") + lines[-1])
