"""``vigil jobs list|show``: training jobs of the local installation."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, line
from vigil.cli.local import answer, api_answer
from vigil.cli.remote import path
from vigil.cli.views import JOBS, show_listing

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
    from vigil.server import routes_jobs as r  # lazy: the server's documents

    doc = answer(
        "jobs list",
        data_dir,
        lambda server: server.get("/jobs", {"status": status, "prefix": prefix, "limit": limit}),
        lambda state: api_answer(
            r.list_jobs, status=status, prefix=prefix, limit=limit, offset=0, state=state
        ),
    )
    show_listing(JOBS, doc, output)


@app.command("show")
def jobs_show(
    job: Annotated[str, typer.Argument(help="A job name (its newest run) or a run id.")],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """One run: status, reason, figures and the final value of each metric."""
    from vigil.server import routes_jobs as r  # lazy: the server's documents

    doc = answer(
        "jobs show",
        data_dir,
        lambda server: server.get(path("jobs", job)),
        lambda state: api_answer(r.get_job, job=job, state=state),
    )
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
