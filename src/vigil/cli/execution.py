"""``vigil execution list|show``: monitoring executions, locally or from a server."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, fail, iso, parse_time
from vigil.cli.local import answer, api_answer
from vigil.cli.remote import path
from vigil.cli.views import EXECUTIONS, show_listing, show_object

app = typer.Typer(name="execution", help="Monitoring executions: list and show them.")


@app.command("list")
def execution_list(
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint's.")] = None,
    schedule: Annotated[str | None, typer.Option(help="Only this schedule's.")] = None,
    status: Annotated[
        str | None, typer.Option(help="Completed, CompletedWithViolations, Failed...")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Scheduled from this ISO-8601 time.")] = None,
    until: Annotated[str | None, typer.Option(help="Scheduled before this ISO-8601 time.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (1-1000).")] = 100,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Executions, newest first: id, schedule, window, status, violations, reason."""
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.metrics.contract import EXECUTION_STATUSES

    if not 1 <= limit <= 1000:
        raise fail(f"--limit {limit}: expected a whole number from 1 to 1000")
    if status is not None and status not in EXECUTION_STATUSES:
        raise fail(f"--status {status!r}: expected one of {', '.join(EXECUTION_STATUSES)}")
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    query = {
        "endpoint": endpoint,
        "schedule": schedule,
        "status": status,
        "since": iso(start),
        "until": iso(end),
        "limit": limit,
    }

    def local(state: object) -> object:
        from vigil.server import routes_executions as r  # lazy: the server's documents

        return api_answer(
            r.executions,
            endpoint=endpoint,
            schedule=schedule,
            status=status,
            since=start,
            until=end,
            limit=limit,
            state=state,
        )

    doc = answer(
        "execution list", data_dir, lambda server: server.get("/executions", query), local
    )
    show_listing(EXECUTIONS, doc, output)


@app.command("show")
def execution_show(
    execution_id: Annotated[str, typer.Argument(help="The execution's id.")],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """One execution: window, status, counts, times and its output files."""
    from vigil.server import routes_executions as r  # lazy: the server's documents

    doc = answer(
        "execution show",
        data_dir,
        lambda server: server.get(path("executions", execution_id)),
        lambda state: api_answer(r.execution, execution_id=execution_id, state=state),
    )
    show_object(doc, output, f"execution {execution_id}")
