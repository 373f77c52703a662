"""Dashboard pages: one schedule (its definition and latest executions) and its "Run now"
form (``POST /schedules/{name}/run``: CSRF field and the ``write`` scope, as
``POST /api/v1/schedules/{name}/run``), which runs the schedule's current window and goes to
the new execution's page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vigil.app import schedules
from vigil.errors import VigilError
from vigil.server.state import get_state
from vigil.server.ui.render import Table, error_page, page
from vigil.server.ui.session import Viewer, require_viewer, write_form
from vigil.store.executions import list_executions

router = APIRouter(include_in_schema=False)


def _not_found(request: Request, viewer: Viewer, name: str) -> HTMLResponse:
    return error_page(request, viewer, 404, f"There is no schedule named {name!r}.")


@router.get("/schedules/{name}", response_class=HTMLResponse)
def schedule_page(
    request: Request, name: str, viewer: Viewer = Depends(require_viewer), notice: str = ""
) -> HTMLResponse:
    state = get_state(request)
    schedule = schedules.get_schedule(state.db, name)
    if schedule is None:
        return _not_found(request, viewer, name)
    rows = list_executions(state.db, schedule=name, limit=50)
    table = Table(
        ["window", "status", "records", "violations", "ended"],
        [
            [
                {"text": f"{e.window_start:%Y-%m-%d %H:%M} to {e.window_end:%H:%M}",
                 "href": f"/executions/{quote(e.id)}"},
                {"status": e.status},
                e.records_read,
                e.violation_count,
                e.ended_at.strftime("%Y-%m-%d %H:%M:%SZ") if e.ended_at else "-",
            ]
            for e in rows
        ],
        empty="no executions yet",
    )
    return page(request, viewer, "schedule.html", f"Schedule {name}", schedule=schedule,
                executions=table, notice=notice[:200], show_range=False)


@router.post("/schedules/{name}/run", response_model=None)
async def run_schedule_now(request: Request, name: str) -> Response:
    viewer = require_viewer(request)
    await write_form(request, viewer, "running a schedule")
    state = get_state(request)
    if schedules.get_schedule(state.db, name) is None:
        return _not_found(request, viewer, name)
    try:
        # a thread waits for the execution (in a worker process when the server has them):
        # never the event loop, which keeps answering every other request meanwhile
        done = await run_in_threadpool(
            schedules.run_now, state.extras["runtime"], name, pool=state.extras.get("pool")
        )
    except VigilError as exc:
        return error_page(request, viewer, 400, f"Schedule {name!r} did not run: {exc.message}")
    if done is None:
        notice = "an execution of the current window exists already"
        return RedirectResponse(f"/schedules/{quote(name)}?notice={quote(notice)}",
                                status_code=303)
    return RedirectResponse(f"/executions/{quote(done.id)}", status_code=303)
