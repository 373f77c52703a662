"""``vigil apply``: the catalog as code (``vigil.yaml``; ``vigil export`` writes it back, see
:mod:`vigil.cli.export`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.app.catalog import apply_config, current_config
from vigil.app.config import Plan, diff_config, load_config
from vigil.app.references import check_references
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, line
from vigil.cli.local import missing_installation, open_local
from vigil.cli.remote import refuse_remote
from vigil.errors import VigilError

app = typer.Typer()


def plan_json(plan: Plan, dry_run: bool) -> dict[str, Any]:
    """The plan as one document: every change, then the counts ``plan.summary()`` prints."""
    changes: list[dict[str, Any]] = []
    for k in plan.kinds:
        changes += [
            {"action": "create", "kind": k.kind, "name": s.name, "fields": []} for s in k.create
        ]
        changes += [
            {"action": "update", "kind": k.kind, "name": u.name, "fields": list(u.fields)}
            for u in k.update
        ]
    return {
        "dry_run": dry_run,
        "changes": changes,
        "summary": {
            "created": sum(len(k.create) for k in plan.kinds),
            "updated": sum(len(k.update) for k in plan.kinds),
            "unchanged": sum(len(k.unchanged) for k in plan.kinds),
        },
    }


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
    try:
        refuse_remote("apply", "the server's API has no apply route")
    except VigilError as exc:
        raise fail(exc.message) from None
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
    if output is OutputFormat.json:
        emit_json(plan_json(plan, dry_run))
        return
    for change in plan.lines():
        line(change)
    line(("plan: " if dry_run else "") + plan.summary())
