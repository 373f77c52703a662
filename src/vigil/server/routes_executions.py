"""Executions: list, inspect, download outputs, run a schedule now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from vigil.app import schedules
from vigil.app.executions import (
    OUTPUT_FILES,
    REPORT_CSP,
    OutputNotFoundError,
    execution_summary,
    media_type,
    output_path,
)
from vigil.app.schedules import run_window_error
from vigil.metrics.contract import EXECUTION_STATUSES
from vigil.monitor.runtime import Runtime
from vigil.server.errors import ApiError
from vigil.server.output_files import output_response
from vigil.server.schemas_common import IsoTime, errors
from vigil.server.schemas_runs import ExecutionList, ExecutionOut
from vigil.server.state import READ, WRITE, ServerState, get_state
from vigil.store.errors import LeaseLostError, NotFoundError
from vigil.store.executions import get_execution, list_executions, stop_execution
from vigil.store.models import Execution

router = APIRouter(responses=errors(401, 403, 422))
__all__ = ["OUTPUT_FILES", "execution_out", "router"]
STATUSES = EXECUTION_STATUSES


def execution_out(e: Execution) -> dict[str, Any]:
    """The execution's document, with the names of the output files it wrote."""
    return execution_summary(e)


@router.get("/executions", response_model=ExecutionList, responses=errors(400), dependencies=[READ])
def executions(
    endpoint: str | None = None,
    schedule: str | None = None,
    status: str | None = Query(default=None, pattern=f"^({'|'.join(STATUSES)})$"),
    since: IsoTime | None = None,
    until: IsoTime | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    state: ServerState = Depends(get_state),
) -> dict[str, Any]:
    if status is not None and status not in STATUSES:
        raise ApiError(
            422, "validation_error", f"status {status!r}: expected one of {', '.join(STATUSES)}"
        )
    rows = list_executions(
        state.db,
        endpoint=endpoint,
        schedule=schedule,
        status=status,
        since=since,
        until=until,
        limit=limit,
    )
    return {"executions": [execution_out(e) for e in rows]}


@router.get(
    "/executions/{execution_id}",
    response_model=ExecutionOut,
    responses=errors(404),
    dependencies=[READ],
)
def execution(execution_id: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return execution_out(get_execution(state.db, execution_id))


@router.get(
    "/executions/{execution_id}/outputs/{filename}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The file (JSON, or HTML for report.html)",
            "content": {"application/json": {}, "text/html": {}},
        },
        **errors(404),
    },
    dependencies=[READ],
)
def execution_output(
    execution_id: str, filename: str, state: ServerState = Depends(get_state)
) -> Response:
    try:
        path = output_path(state.db, execution_id, filename)
    except OutputNotFoundError as exc:
        raise ApiError(404, "not_found", exc.message) from None
    # an HTML report opened from the API is sandboxed as in the dashboard (no script runs)
    headers = {"Content-Security-Policy": REPORT_CSP} if filename.endswith(".html") else None
    return output_response(path, media_type(filename), headers)


@router.post(
    "/executions/{execution_id}/stop", response_model=ExecutionOut, responses=errors(404, 409)
)
def stop(
    execution_id: str, token: str = WRITE, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    """Stop a pending or running execution (status Stopped)."""
    try:
        done = stop_execution(state.db, execution_id, f"stopped by token {token!r}")
    except LeaseLostError as exc:
        raise ApiError(409, "conflict", exc.message) from None
    return execution_out(done)


class RunIn(BaseModel):
    window_start: IsoTime | None = None
    window_end: IsoTime | None = None


@router.post(
    "/schedules/{name}/run",
    response_model=ExecutionOut,
    responses=errors(400, 404, 409, 413),
    dependencies=[WRITE],
)
def run_now(
    name: str, body: RunIn | None = None, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    """Run one execution now, over the given window or the schedule's default one."""
    body = body or RunIn()
    problem = run_window_error(body.window_start, body.window_end)
    if problem is not None:
        raise ApiError(422, "validation_error", problem)
    window = (
        (body.window_start, body.window_end)
        if body.window_start is not None and body.window_end is not None
        else None
    )
    runtime: Runtime = state.extras["runtime"]
    try:
        done = schedules.run_now(runtime, name, window, state.extras.get("pool"))
    except NotFoundError:
        raise ApiError(404, "not_found", f"no schedule named {name!r}") from None
    if done is None:
        raise ApiError(409, "conflict", f"an execution of {name!r} for that window exists already")
    return execution_out(done)
