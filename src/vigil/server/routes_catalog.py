"""Endpoints, baselines and schedules: the catalog of what is monitored."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from sqlalchemy import select

from vigil.app.catalog import is_model_quality, register_baseline, upsert_endpoint
from vigil.app.catalog import upsert_schedule as catalog_upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.app.endpoint_queries import list_endpoints as endpoint_rows
from vigil.app.lifecycle import delete_object
from vigil.checks.model_quality import suggest_model_quality_constraints
from vigil.checks.suggest import suggest_constraints
from vigil.errors import ConfigError, FormatError
from vigil.formats import Statistics
from vigil.formats.model_quality import ModelQualityStatistics
from vigil.monitor.windows import execution_window
from vigil.server.code_checks import check_schedule
from vigil.server.errors import ApiError
from vigil.server.schemas_catalog import (
    BaselineList,
    BaselineOut,
    EndpointList,
    EndpointOut,
    ScheduleList,
    ScheduleOut,
)
from vigil.server.schemas_common import errors
from vigil.server.state import READ, WRITE, ServerState, get_state
from vigil.store.locations import LocationNotAllowedError
from vigil.store.models import BaselineRecord, Endpoint, Schedule

router = APIRouter(responses=errors(401, 403, 422))
NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"


def endpoint_out(e: Endpoint) -> dict[str, Any]:
    return {
        "name": e.name,
        "variant": e.variant,
        "capture_uri": e.capture_uri,
        "created_at": e.created_at.isoformat(),
    }


def baseline_out(b: BaselineRecord) -> dict[str, Any]:
    return {
        "name": b.name,
        "endpoint": b.endpoint_name,
        "kind": b.kind,
        "uri": b.uri,
        "created_at": b.created_at.isoformat(),
    }


def schedule_out(s: Schedule) -> dict[str, Any]:
    return {
        "name": s.name,
        "endpoint": s.endpoint_name,
        "baseline": s.baseline_name,
        "expression": s.expression,
        "window_start_offset": s.window_start_offset,
        "window_end_offset": s.window_end_offset,
        "monitor_type": s.monitor_type,
        "status": s.status,
        "config": s.config,
        "last_scheduled_time": _iso(s.last_scheduled_time),
        "created_at": s.created_at.isoformat(),
        "updated_at": _iso(s.updated_at),
        "error": schedule_error(s),
    }


def schedule_error(s: Schedule) -> str | None:
    """Why the scheduler cannot run this schedule (its stored expression or window offsets
    no longer parse or give no window), else ``None``."""
    try:
        execution_window(s, datetime.now(timezone.utc))
    except Exception as exc:  # what the scheduler's tick would fail on
        return f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
    return None


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def _get(session: Any, model: type, name: str, what: str) -> Any:
    row = session.get(model, name)
    if row is None:
        raise ApiError(404, "not_found", f"no {what} named {name!r}")
    return row


@router.get("/endpoints", response_model=EndpointList, dependencies=[READ])
def list_endpoints(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return {"endpoints": [endpoint_out(e) for e in endpoint_rows(state.db)]}


@router.post(
    "/endpoints",
    status_code=201,
    response_model=EndpointOut,
    responses=errors(400, 413),
    dependencies=[WRITE],
)
def create_endpoint(body: EndpointSpec, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """Create or update an endpoint (the same fields as in vigil.yaml)."""
    try:
        return endpoint_out(upsert_endpoint(state.db, body, confined=state.settings))
    except LocationNotAllowedError as exc:
        raise ApiError(422, "validation_error", exc.message) from None


@router.get(
    "/endpoints/{name}", response_model=EndpointOut, responses=errors(404), dependencies=[READ]
)
def get_endpoint(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    with state.db.session() as s:
        return endpoint_out(_get(s, Endpoint, name, "endpoint"))


def _register(state: ServerState, spec: BaselineSpec, confined: bool = True) -> dict[str, Any]:
    try:
        return baseline_out(
            register_baseline(state.settings, state.db, spec, confined=confined)
        )
    except LocationNotAllowedError as exc:
        raise ApiError(422, "validation_error", exc.message) from None
    except ConfigError as exc:
        raise ApiError(400, "invalid_path", exc.message) from None
    except FormatError as exc:  # a baseline directory without one of its two files, ...
        raise ApiError(422, "invalid_baseline", exc.message) from None


@router.post(
    "/baselines",
    status_code=201,
    response_model=BaselineOut,
    responses=errors(400, 404, 413),
    dependencies=[WRITE],
)
def create_baseline_from_path(
    body: BaselineSpec, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    """Register a baseline from a directory on the server (statistics.json and
    constraints.json), or build one from a data file or directory there."""
    return _register(state, body)


def _suggest_constraints(directory: Path) -> None:
    """Write constraints.json suggested from the statistics.json of ``directory`` (data or
    model quality)."""
    path = directory / "statistics.json"
    try:
        if is_model_quality(directory):
            mq = suggest_model_quality_constraints(ModelQualityStatistics.load(path))
            mq.save(directory / "constraints.json")
        else:
            suggest_constraints(Statistics.load(path)).save(directory / "constraints.json")
    except ValueError as exc:  # FormatError included
        raise ApiError(422, "invalid_baseline", f"statistics: {exc}") from None


@router.post(
    "/baselines/upload",
    status_code=201,
    response_model=BaselineOut,
    responses=errors(400, 404, 413, 422),
    dependencies=[WRITE],
)
async def upload_baseline(
    name: str = Form(pattern=NAME),
    endpoint: str | None = Form(default=None, pattern=NAME),
    statistics: UploadFile = File(...),
    constraints: UploadFile | None = File(default=None),
    state: ServerState = Depends(get_state),
) -> dict[str, Any]:
    """Register a baseline from uploaded statistics.json (and constraints.json)."""
    with tempfile.TemporaryDirectory() as tmp:
        with open(Path(tmp) / "statistics.json", "wb") as fh:
            shutil.copyfileobj(statistics.file, fh)
        if constraints is not None:
            with open(Path(tmp) / "constraints.json", "wb") as fh:
                shutil.copyfileobj(constraints.file, fh)
        else:  # none uploaded: constraints suggested from the statistics, as documented
            _suggest_constraints(Path(tmp))
        spec = BaselineSpec(name=name, endpoint=endpoint, path=tmp)
        record = _register(state, spec, confined=False)  # the server's own temporary copy
    with state.db.session() as s:  # an upload has no source to re-read
        row = s.get(BaselineRecord, name)
        if row is not None:
            row.source = None
    return record


@router.get("/baselines", response_model=BaselineList, dependencies=[READ])
def list_baselines(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    with state.db.session() as s:
        return {"baselines": [baseline_out(b) for b in s.scalars(select(BaselineRecord))]}


@router.get(
    "/baselines/{name}", response_model=BaselineOut, responses=errors(404), dependencies=[READ]
)
def get_baseline(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    with state.db.session() as s:
        return baseline_out(_get(s, BaselineRecord, name, "baseline"))


@router.post(
    "/schedules",
    status_code=201,
    response_model=ScheduleOut,
    responses=errors(400, 403, 404, 413, 422),
    dependencies=[WRITE],
)
def create_schedule(
    body: ScheduleSpec, request: Request, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    """Create or update a schedule (the same fields as in vigil.yaml); a ``config.preprocessor``
    needs the ``admin`` scope and a file in the operator's code directory."""
    check_schedule(request, state, body)
    try:
        return schedule_out(catalog_upsert_schedule(state.db, body))
    except ConfigError as exc:  # default_alarm_actions naming no topic, workflow or rule
        raise ApiError(422, "validation_error", exc.message) from None


@router.get("/schedules", response_model=ScheduleList, dependencies=[READ])
def list_schedules(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    with state.db.session() as s:
        return {"schedules": [schedule_out(x) for x in s.scalars(select(Schedule))]}


@router.get(
    "/schedules/{name}", response_model=ScheduleOut, responses=errors(404), dependencies=[READ]
)
def get_schedule(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    with state.db.session() as s:
        return schedule_out(_get(s, Schedule, name, "schedule"))


def _set_status(state: ServerState, name: str, status: str) -> dict[str, Any]:
    with state.db.session() as s:
        row = _get(s, Schedule, name, "schedule")
        row.status = status
        s.flush()
        return schedule_out(row)


@router.post(
    "/schedules/{name}/pause",
    response_model=ScheduleOut,
    responses=errors(404),
    dependencies=[WRITE],
)
def pause_schedule(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return _set_status(state, name, "Paused")


@router.post(
    "/schedules/{name}/resume",
    response_model=ScheduleOut,
    responses=errors(404),
    dependencies=[WRITE],
)
def resume_schedule(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return _set_status(state, name, "Scheduled")


DELETE: dict[str, Any] = {
    "status_code": 204,
    "responses": errors(404, 409),
    "dependencies": [WRITE],
}


@router.delete("/endpoints/{name}", **DELETE)
def delete_endpoint(name: str, state: ServerState = Depends(get_state)) -> None:
    """Delete an endpoint (409 while a baseline or schedule uses it); its captures stay."""
    delete_object(state.db, "endpoint", name)


@router.delete("/baselines/{name}", **DELETE)
def delete_baseline(name: str, state: ServerState = Depends(get_state)) -> None:
    """Delete a baseline (409 while a schedule uses it)."""
    delete_object(state.db, "baseline", name)


@router.delete("/schedules/{name}", **DELETE)
def delete_schedule(name: str, state: ServerState = Depends(get_state)) -> None:
    """Delete a schedule; its executions stay."""
    delete_object(state.db, "schedule", name)
