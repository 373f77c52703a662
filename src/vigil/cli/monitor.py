"""``vigil monitor run|backfill``: monitoring executions outside the server's scheduler, for
an external scheduler such as cron. Each execution is one line (or one JSON object). With
``--server`` each execution runs on the server (``POST /api/v1/schedules/NAME/run``)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

import typer

from vigil.app.documents import execution_document
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, iso, line
from vigil.cli.common import parse_time as _parse_time
from vigil.cli.local import open_local
from vigil.cli.remote import Remote, RemoteError, path, selected
from vigil.cli.views import execution_line as execution_doc_line
from vigil.errors import VigilError
from vigil.monitor.runner import run_scheduled
from vigil.schedule import parse_schedule, window_for
from vigil.store.models import Execution, Schedule

app = typer.Typer(name="monitor", help="Run monitoring executions outside the server's scheduler.")

ScheduleArg = Annotated[str, typer.Argument(help="Schedule name.")]


def execution_line(ex: Execution) -> str:
    """``ID SCHEDULE [START, END) STATUS[: REASON][ -> OUTPUT]``."""
    return (
        f"{ex.id} {ex.schedule_name} [{ex.window_start:%Y-%m-%dT%H:%M}Z, "
        f"{ex.window_end:%Y-%m-%dT%H:%M}Z) {ex.status}"
        + (f": {ex.failure_reason}" if ex.failure_reason else "")
        + (f" -> {ex.output_uri}" if ex.output_uri else "")
    )


def execution_json(ex: Execution) -> dict[str, Any]:
    """An execution as the REST API lists it, with its output directory."""
    return {**execution_document(ex), "output_uri": ex.output_uri}


def _counts(executions: list[Execution]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ex in executions:
        counts[ex.status] = counts.get(ex.status, 0) + 1
    return dict(sorted(counts.items()))


def _emit(executions: list[Execution]) -> None:
    emit_json(
        {"executions": [execution_json(ex) for ex in executions], "counts": _counts(executions)}
    )


@app.command("run")
def monitor_run(
    schedule: ScheduleArg,
    window_start: Annotated[
        str | None, typer.Option(help="ISO-8601 start (with --window-end).")
    ] = None,
    window_end: Annotated[str | None, typer.Option(help="ISO-8601 end.")] = None,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Run one execution now (for an external scheduler such as cron)."""
    start, end = (
        _parse_time(window_start, "--window-start"),
        _parse_time(window_end, "--window-end"),
    )
    if (start is None) != (end is None):
        raise fail("give both --window-start and --window-end, or neither")
    server = selected()
    if server is not None:  # POST /schedules/NAME/run: the server runs it
        body = {"window_start": iso(start), "window_end": iso(end)} if start and end else None
        try:
            doc = server.post(path("schedules", schedule, "run"), body)
        except VigilError as exc:
            raise fail(exc.message) from None
        if output is OutputFormat.json:
            emit_json({"executions": [doc], "counts": {doc["status"]: 1}})
        else:
            line(execution_doc_line(doc))
        raise typer.Exit(0 if doc["status"] == "Completed" else 1)
    rt = open_local(data_dir, command="monitor run")
    try:
        done = run_scheduled(
            rt,
            schedule,
            end or datetime.now(timezone.utc),
            window=(start, end) if start and end else None,
        )
    except (VigilError, LookupError) as exc:
        raise fail(str(exc)) from None
    if done is None:
        raise fail(f"an execution of {schedule!r} for that window exists already")
    if output is OutputFormat.json:
        _emit([done])
    else:
        line(execution_line(done))
    raise typer.Exit(0 if done.status == "Completed" else 1)


@app.command("backfill")
def monitor_backfill(
    schedule: ScheduleArg,
    start: Annotated[str, typer.Option("--start", help="ISO-8601 start of the range.")],
    end: Annotated[str, typer.Option("--end", help="ISO-8601 end of the range.")],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Run every scheduled window whose fire time falls in (start, end]."""
    t0, t1 = _parse_time(start, "--start"), _parse_time(end, "--end")
    if t1 <= t0:
        raise fail(f"--end {end}: expected a time after --start {start}")
    server = selected()
    if server is not None:
        _remote_backfill(server, schedule, (t0, t1), output)
        return
    done: list[Execution] = []
    rt = open_local(data_dir, command="monitor backfill")
    try:
        with rt.db.session() as s:
            row = s.get(Schedule, schedule)
            if row is None:
                raise fail(f"no schedule named {schedule!r}")
            expression = parse_schedule(row.expression)
        for t in expression.fires_between(t0, t1):
            ex = run_scheduled(rt, schedule, t)
            if ex is not None:
                done.append(ex)
                if output is OutputFormat.text:
                    line(execution_line(ex))
    except VigilError as exc:
        raise fail(str(exc)) from None
    if output is OutputFormat.json:
        _emit(done)
        return
    line(", ".join(f"{n} {k}" for k, n in _counts(done).items()) or "nothing to run")


def _remote_backfill(
    server: Remote, schedule: str, span: tuple[datetime, datetime], output: OutputFormat
) -> None:
    """Backfill through the server: the windows computed here as the local backfill does
    (every fire time in ``(start, end]``, each its schedule's window), each run by ``POST
    /schedules/NAME/run``; a window that has an execution already is skipped (409), as
    locally, except that one whose execution failed runs again (what the route does)."""
    docs: list[dict[str, Any]] = []
    try:
        row = server.get(path("schedules", schedule))
        expression = parse_schedule(row["expression"])
        for t in expression.fires_between(*span):
            start, end = window_for(
                expression, t, row.get("window_start_offset"), row.get("window_end_offset")
            )
            body = {"window_start": iso(start), "window_end": iso(end)}
            try:
                doc = server.post(path("schedules", schedule, "run"), body)
            except RemoteError as exc:
                if exc.status == 409:  # claimed already: each window runs once
                    continue
                raise
            docs.append(doc)
            if output is OutputFormat.text:
                line(execution_doc_line(doc))
    except VigilError as exc:
        raise fail(exc.message) from None
    counts: dict[str, int] = {}
    for doc in docs:
        counts[doc["status"]] = counts.get(doc["status"], 0) + 1
    counts = dict(sorted(counts.items()))
    if output is OutputFormat.json:
        emit_json({"executions": docs, "counts": counts})
        return
    line(", ".join(f"{n} {k}" for k, n in counts.items()) or "nothing to run")
