"""``vigil action runs|show``: the action runs that rules started (workflows, commands,
calls)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vigil.actions.records import get_run, list_attempts, list_runs, run_to_dict
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, line
from vigil.cli.local import open_local
from vigil.errors import VigilError
from vigil.store.models import RunStatus

app = typer.Typer(name="action", help="Action runs started by rules (workflows, commands, calls).")


@app.command("runs")
def action_runs(
    rule: Annotated[str | None, typer.Option()] = None,
    workflow: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option()] = None,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Recent action runs, newest first."""
    allowed = [s.value for s in RunStatus]
    if status is not None and status not in allowed:
        raise fail(f"--status {status!r}: expected one of {', '.join(allowed)}")
    db = open_local(data_dir, command="action runs").db
    runs = list_runs(db, rule=rule, workflow=workflow, status=status)
    if output is OutputFormat.json:
        emit_json({"runs": [run_to_dict(r) for r in runs]})
        return
    for r in runs:
        line(
            f"{r.id}  {r.rule or '-'}  {r.workflow or r.target_type}  {r.status}  "
            f"{r.started_at:%Y-%m-%dT%H:%M:%SZ}" + (f"  {r.error}" if r.error else "")
        )


@app.command("show")
def action_show(
    run_id: Annotated[str, typer.Argument()],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """One run with every step attempt (input, output, error, stdout)."""
    db = open_local(data_dir, command="action show").db
    try:
        data = run_to_dict(get_run(db, run_id), list_attempts(db, run_id))
    except (VigilError, LookupError) as exc:
        raise fail(str(exc)) from None
    if output is OutputFormat.json:
        emit_json(data)
    else:  # the same document, as it has always been printed
        print(json.dumps(data, indent=2, default=str))
