"""``vigil schedule list|show|run-now|pause|resume``: monitoring schedules, locally or on a
server."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, iso, line
from vigil.cli.common import parse_time as _parse_time
from vigil.cli.local import answer, api_answer
from vigil.cli.remote import path
from vigil.cli.views import SCHEDULES, execution_line, show_listing, show_object

app = typer.Typer(
    name="schedule", help="Monitoring schedules: list, show, run one now, pause and resume."
)

NameArg = Annotated[str, typer.Argument(help="The schedule's name.")]


@app.command("list")
def schedule_list(data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """Every schedule: endpoint, baseline, monitor type, expression, status, last run."""
    from vigil.server import routes_catalog as r  # lazy: the server's documents

    doc = answer(
        "schedule list",
        data_dir,
        lambda server: server.get("/schedules"),
        lambda state: api_answer(r.list_schedules, state=state),
    )
    show_listing(SCHEDULES, doc, output)


@app.command("show")
def schedule_show(
    name: NameArg, data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text
) -> None:
    """One schedule, with why the scheduler cannot run it (if it cannot)."""
    from vigil.server import routes_catalog as r  # lazy: the server's documents

    doc = answer(
        "schedule show",
        data_dir,
        lambda server: server.get(path("schedules", name)),
        lambda state: api_answer(r.get_schedule, name=name, state=state),
    )
    show_object(doc, output, f"schedule {name}")


@app.command("run-now")
def schedule_run_now(
    name: NameArg,
    window_start: Annotated[
        str | None, typer.Option(help="ISO-8601 start (with --window-end).")
    ] = None,
    window_end: Annotated[str | None, typer.Option(help="ISO-8601 end.")] = None,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Run one execution now, over the given window or the schedule's default one (as
    ``POST /schedules/NAME/run``); exit 0 when it completed without violations, else 1."""
    start = _parse_time(window_start, "--window-start")
    end = _parse_time(window_end, "--window-end")
    if (start is None) != (end is None):
        raise fail("give both --window-start and --window-end, or neither")
    body = {"window_start": iso(start), "window_end": iso(end)} if start and end else None

    def local(state: Any) -> Any:
        from vigil.server import routes_executions as r  # lazy: the server's documents

        run_in = r.RunIn(window_start=start, window_end=end) if start and end else None
        return api_answer(r.run_now, name=name, body=run_in, state=state)

    doc = answer(
        "schedule run-now",
        data_dir,
        lambda server: server.post(path("schedules", name, "run"), body),
        local,
    )
    if output is OutputFormat.json:
        emit_json(doc)
    else:
        line(execution_line(doc))
    raise typer.Exit(0 if doc["status"] == "Completed" else 1)


def _set_status(name: str, verb: str, data_dir: DataDirOpt, output: OutputFormat) -> None:
    from vigil.server import routes_catalog as r  # lazy: the server's documents

    fn = r.pause_schedule if verb == "pause" else r.resume_schedule
    doc = answer(
        f"schedule {verb}",
        data_dir,
        lambda server: server.post(path("schedules", name, verb)),
        lambda state: api_answer(fn, name=name, state=state),
    )
    if output is OutputFormat.json:
        emit_json(doc)
    else:
        line(f"schedule {doc['name']}: {doc['status']}")


@app.command("pause")
def schedule_pause(
    name: NameArg, data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text
) -> None:
    """Pause a schedule: the scheduler starts no execution of it until it is resumed."""
    _set_status(name, "pause", data_dir, output)


@app.command("resume")
def schedule_resume(
    name: NameArg, data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text
) -> None:
    """Resume a paused schedule."""
    _set_status(name, "resume", data_dir, output)
