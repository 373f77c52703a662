"""``vigil action runs|show``: the action runs that rules started (workflows, commands,
calls), from the local installation or, with ``--server``, from a server's API (the same
documents: ``GET /api/v1/actions/runs`` and ``/actions/runs/{id}``)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Annotated, Any

import typer

from vigil.actions.records import get_run, list_attempts, list_runs, run_to_dict
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, line
from vigil.cli.local import answer
from vigil.cli.remote import path
from vigil.store.models import RunStatus

app = typer.Typer(name="action", help="Action runs started by rules (workflows, commands, calls).")


@app.command("runs")
def action_runs(
    rule: Annotated[str | None, typer.Option()] = None,
    workflow: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(help="At most this many (1-1000).")] = 100,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Recent action runs, newest first."""
    allowed = [s.value for s in RunStatus]
    if status is not None and status not in allowed:
        raise fail(f"--status {status!r}: expected one of {', '.join(allowed)}")
    if not 1 <= limit <= 1000:
        raise fail(f"--limit {limit}: expected a whole number from 1 to 1000")
    query = {"rule": rule, "workflow": workflow, "status": status, "limit": limit}

    def local(state: Any) -> dict[str, Any]:
        found = list_runs(state.db, rule=rule, workflow=workflow, status=status, limit=limit)
        return {"runs": [run_to_dict(r) for r in found]}

    doc = answer("action runs", data_dir,
                 lambda server: server.get("/actions/runs", query), local)  # fmt: skip
    if output is OutputFormat.json:
        emit_json(doc)
        return
    for r in doc["runs"]:
        started = _stamp(r.get("started_at"))
        line(
            f"{r['id']}  {r.get('rule') or '-'}  {r.get('workflow') or r.get('target_type')}  "
            f"{r['status']}  {started}" + (f"  {r['error']}" if r.get("error") else "")
        )


def _stamp(value: str | None) -> str:
    """An ISO-8601 time as ``2026-01-01T12:00:00Z`` (the runs' one-line form)."""
    if not value:
        return "-"
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@app.command("show")
def action_show(
    run_id: Annotated[str, typer.Argument()],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """One run with every step attempt (input, output, error, stdout)."""
    data = answer(
        "action show",
        data_dir,
        lambda server: server.get(path("actions", "runs", run_id)),
        lambda state: run_to_dict(get_run(state.db, run_id), list_attempts(state.db, run_id)),
    )
    if output is OutputFormat.json:
        emit_json(data)
    else:  # the same document, as it has always been printed
        print(json.dumps(data, indent=2, default=str))
