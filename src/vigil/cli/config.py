"""``vigil apply``: the catalog as code (``vigil.yaml``; ``vigil export`` writes it back, see
:mod:`vigil.cli.export`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.app.bootstrap import open_runtime
from vigil.app.catalog import apply_config, current_config
from vigil.app.config import Plan, diff_config, load_config
from vigil.app.references import check_references
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, line
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


@app.command("apply")
def apply_cmd(
    file: Annotated[Path, typer.Option("-f", "--file", help="A vigil.yaml file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan only.")] = False,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Create or update endpoints, baselines and schedules from a file (idempotent)."""
    try:
        desired = load_config(file).resolve_paths(file.resolve().parent)
        rt = open_runtime(data_dir)
        if dry_run:
            current = current_config(rt.db)
            check_references(current, desired)  # exactly what apply_config checks first
            plan = diff_config(current, desired)
        else:
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
