"""``vigil jobs list|show``: training jobs of the local installation."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.app.bootstrap import open_runtime
from vigil.app.documents import iso
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, line, table
from vigil.errors import VigilError

app = typer.Typer(name="jobs", help="Training jobs: list and show runs.")


@app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option("--status", help="InProgress, Completed...")] = None,
    prefix: Annotated[str | None, typer.Option("--prefix", help="Job names starting so.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Runs, newest first: name, run id, status, started, duration."""
    # lazy: the queries import the store's models
    from vigil.app.training_queries import list_jobs

    try:
        found = list_jobs(open_runtime(data_dir).db, status=status, prefix=prefix, limit=limit)
    except VigilError as exc:
        raise fail(exc.message) from None
    if output is OutputFormat.json:
        emit_json(found)
        return
    rows = [
        [
            j["name"],
            j["run_id"],
            j["status"],
            iso(j["started_at"]) or "",
            "" if j["duration_seconds"] is None else f"{j['duration_seconds']:.1f}s",
        ]
        for j in found["jobs"]
    ]
    table("training jobs", ["name", "run", "status", "started", "duration"], rows)


@app.command("show")
def jobs_show(
    job: Annotated[str, typer.Argument(help="A job name (its newest run) or a run id.")],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """One run: status, reason, figures and the final value of each metric."""
    # lazy: the queries import the store's models
    from vigil.app.training_queries import get_job

    try:
        doc = get_job(open_runtime(data_dir).db, job)
    except VigilError as exc:
        raise fail(exc.message) from None
    if output is OutputFormat.json:
        emit_json(doc)
        return
    line(f"{doc['name']} run {doc['run_id']}: {doc['status']} ({doc['secondary_status']})")
    if doc["failure_reason"]:
        line(f"  reason: {doc['failure_reason']}")
    for key in ("exit_code", "duration_seconds", "cpu_seconds", "peak_rss_bytes", "log_path"):
        if doc[key] is not None:
            line(f"  {key}: {doc[key]}")
    for m in doc["final_metrics"]:
        line(f"  {m['MetricName']} = {m['Value']} (step {m['Step']})")
