"""Executions: list, inspect, download outputs, run a schedule now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel

from vigil.app import schedules
from vigil.app.documents import execution_document
from vigil.app.schedules import run_window_error
from vigil.metrics.contract import EXECUTION_STATUSES
from vigil.monitor.runtime import Runtime
from vigil.server.errors import ApiError
from vigil.server.schemas_common import IsoTime, errors
from vigil.server.schemas_runs import ExecutionList, ExecutionOut
from vigil.server.state import READ, WRITE, ServerState, get_state
from vigil.store.errors import LeaseLostError, NotFoundError
from vigil.store.executions import get_execution, list_executions, stop_execution
from vigil.store.models import Execution

router = APIRouter(responses=errors(401, 403, 422))
OUTPUT_FILES = (
    "statistics.json",
    "constraints.json",
    "constraint_violations.json",
    "report.html",
    "analysis.json",
    "anomalies.json",
)
STATUSES = EXECUTION_STATUSES


def execution_out(e: Execution) -> dict[str, Any]:
    """The execution's document, with the names of the output files it wrote."""
    return {
        **execution_document(e),
        "outputs": [f for f in OUTPUT_FILES if e.output_uri and (Path(e.output_uri) / f).is_file()],
    }


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
) -> FileResponse:
    if filename not in OUTPUT_FILES:
        raise ApiError(
            404,
            "not_found",
            f"no output named {filename!r}; expected one of {', '.join(OUTPUT_FILES)}",
        )
    ex = get_execution(state.db, execution_id)
    path = Path(ex.output_uri or "") / filename
    if not ex.output_uri or not path.is_file():
        raise ApiError(404, "not_found", f"execution {execution_id} has no {filename}")
    media = "text/html" if filename.endswith(".html") else "application/json"
    return FileResponse(path, media_type=media)


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
        done = schedules.run_now(runtime, name, window)
    except NotFoundError:
        raise ApiError(404, "not_found", f"no schedule named {name!r}") from None
    if done is None:
        raise ApiError(409, "conflict", f"an execution of {name!r} for that window exists already")
    return execution_out(done)
