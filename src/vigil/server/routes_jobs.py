"""Training jobs: the SDK's writes (``ingest``), the dashboard's reads (``read``) and Keras'
``RemoteMonitor`` posting epoch logs.

``{job}`` in a path is a run id (32 hex digits) or a job name (its newest run).
``RemoteMonitor(root=f"{server}/api/v1/jobs/{name}", headers={"Authorization": "Bearer ..."})``
posts each epoch's ``{"epoch": n, **logs}`` to ``/publish/epoch/end/`` under it, as a JSON body
or (Keras' default) as the form field ``data``; the epoch is the step, each key of the logs a
metric. The first post starts a run of that name when none is in progress.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from vigil.app import training, training_queries
from vigil.errors import InputError
from vigil.server.errors import ApiError
from vigil.server.schemas_common import IsoTime, errors
from vigil.server.state import INGEST, READ, ServerState, get_state
from vigil.store.models import TrainingJob

router = APIRouter(responses=errors(401, 403, 422))
MAX_POINTS = 1000  # per request, as MLflow's log-batch (the SDK sends more in several)
MAX_LOG_BYTES = 256 << 20


class JobIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    hyperparameters: dict[str, Any] = {}
    tags: dict[str, Any] = {}
    source: str = Field(default="api", max_length=16)
    started: IsoTime | None = None


class MetricFinal(BaseModel):
    MetricName: str
    Value: float
    Timestamp: datetime
    Step: int


class JobOut(BaseModel):
    """One run of a training job."""

    run_id: str
    name: str
    source: str
    experiment_id: int | None
    status: str
    secondary_status: str
    failure_reason: str | None
    hyperparameters: dict[str, Any]
    tags: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    exit_code: int | None
    duration_seconds: float | None
    cpu_seconds: float | None
    peak_rss_bytes: int | None
    log_path: str | None
    transitions: list[dict[str, Any]]
    final_metrics: list[MetricFinal] = []
    metrics: list[str] = []


class JobSummary(BaseModel):
    run_id: str
    name: str
    source: str
    status: str
    secondary_status: str
    failure_reason: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None


class JobList(BaseModel):
    """Runs, newest first, and how many match in all."""

    jobs: list[JobSummary]
    total: int


class PointIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    value: float = Field(strict=True)  # true is not a number
    step: int = Field(default=0, ge=0, strict=True)  # true is not a step
    timestamp: IsoTime | None = None


class PointsIn(BaseModel):
    metrics: list[PointIn] = Field(min_length=1, max_length=MAX_POINTS)


class PointsStored(BaseModel):
    """How many values were stored."""

    stored: int


class StatusIn(BaseModel):
    status: str
    failure_reason: str | None = Field(default=None, max_length=4096)
    ended: IsoTime | None = None
    exit_code: int | None = Field(default=None, strict=True)
    cpu_seconds: float | None = Field(default=None, ge=0, strict=True)
    peak_rss_bytes: int | None = Field(default=None, ge=0, strict=True)


class CurvePoint(BaseModel):
    step: int
    timestamp: datetime
    value: float


class Curve(BaseModel):
    """A run's metric, value by value."""

    run_id: str
    metric: str
    by: str
    points: list[CurvePoint]


class JobLog(BaseModel):
    """A run's stored log (or its lines that contain ``search``)."""

    run_id: str
    path: str
    lines: list[str]


class LogStored(BaseModel):
    """Where the log was stored, and its size."""

    path: str
    bytes: int


@router.post(
    "/jobs", response_model=JobOut, status_code=201, responses=errors(400),
    dependencies=[INGEST],
)
def create_job(body: JobIn, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """Start a run of a training job (``InProgress``)."""
    return training.start_job(
        state.db,
        body.name,
        hyperparameters=body.hyperparameters,
        tags=body.tags,
        source=body.source,
        started=body.started,
    )


@router.get("/jobs", response_model=JobList, responses=errors(400), dependencies=[READ])
def list_jobs(
    status: str | None = None,
    prefix: str | None = Query(default=None, max_length=255),
    limit: int = Query(default=100, ge=1, le=training_queries.MAX_LIMIT),
    offset: int = Query(default=0, ge=0),
    state: ServerState = Depends(get_state),
) -> dict[str, Any]:
    """Runs, newest first; ``status`` (InProgress, Completed...) and name ``prefix`` filter."""
    return training_queries.list_jobs(
        state.db, status=status, prefix=prefix, limit=limit, offset=offset
    )


@router.get("/jobs/{job}", response_model=JobOut, responses=errors(404), dependencies=[READ])
def get_job(job: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """A run with its final metrics (the last value of each, as ``FinalMetricDataList``)."""
    return training_queries.get_job(state.db, job)


@router.post(
    "/jobs/{job}/metrics",
    response_model=PointsStored,
    responses=errors(400, 404, 413),
    dependencies=[INGEST],
)
def post_metrics(job: str, body: PointsIn, state: ServerState = Depends(get_state)) -> dict:
    """Log a batch of metric values (with steps) for a run."""
    run_id = training.find_run(state.db, job)
    points = [training.MetricPoint(p.name, p.value, p.step, p.timestamp) for p in body.metrics]
    return {"stored": training.log_metrics(state.db, state.metrics, run_id, points)}


@router.post(
    "/jobs/{job}/status", response_model=JobOut, responses=errors(400, 404), dependencies=[INGEST]
)
def post_status(job: str, body: StatusIn, state: ServerState = Depends(get_state)) -> dict:
    """Move a run along its lifecycle (InProgress → Stopping → Completed | Failed | Stopped)."""
    run_id = training.find_run(state.db, job)
    return training.update_job(
        state.db,
        run_id,
        status=body.status,
        failure_reason=body.failure_reason,
        ended=body.ended,
        exit_code=body.exit_code,
        cpu_seconds=body.cpu_seconds,
        peak_rss_bytes=body.peak_rss_bytes,
    )


@router.get(
    "/jobs/{job}/metrics/{metric:path}",
    response_model=Curve,
    responses=errors(400, 404),
    dependencies=[READ],
)
def get_curve(
    job: str, metric: str, by: str = "step", state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    """A metric's curve: every value with its step and time, by ``step`` or ``timestamp``."""
    run_id = training.find_run(state.db, job)
    points = training_queries.curve(state.db, run_id, metric, by=by)
    return {"run_id": run_id, "metric": metric, "by": by, "points": points}


@router.get("/jobs/{job}/log", response_model=JobLog, responses=errors(404), dependencies=[READ])
def get_log(
    job: str,
    search: str | None = None,
    tail: int | None = Query(default=None, ge=0),
    state: ServerState = Depends(get_state),
) -> dict[str, Any]:
    """The run's stored log; ``search`` keeps the lines containing it, ``tail`` the last N."""
    return training_queries.read_log(state.db, job, search=search, tail=tail)


@router.put(
    "/jobs/{job}/log",
    response_model=LogStored,
    responses=errors(404, 413),
    dependencies=[INGEST],
    openapi_extra={"requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def put_log(job: str, request: Request, state: ServerState = Depends(get_state)) -> dict:
    """Store the run's whole log (the raw body) in the artifact store."""
    run_id = training.find_run(state.db, job)
    data = await request.body()
    if len(data) > MAX_LOG_BYTES:
        raise ApiError(413, "payload_too_large", f"log: at most {MAX_LOG_BYTES} bytes")
    path = training.store_log(state.db, state.settings, run_id, data)
    return {"path": str(path), "bytes": len(data)}


@router.post(
    "/jobs/{name}/publish/epoch/end/",
    response_model=PointsStored,
    responses=errors(400),
    dependencies=[INGEST],
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "properties": {"data": {"type": "string"}}}
                },
            }
        }
    },
)
async def keras_epoch_end(
    name: str, request: Request, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    """Keras ``RemoteMonitor``: ``{"epoch": n, **logs}`` as JSON or as form field ``data``."""
    logs = await _keras_body(request)
    epoch = logs.pop("epoch", None)
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise ApiError(422, "validation_error", f"epoch: expected an integer >= 0, got {epoch!r}")
    points = []
    for key, value in logs.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue  # RemoteMonitor sends every log; only numbers are metrics
        if math.isfinite(value):
            points.append(training.MetricPoint(str(key), float(value), step=epoch))
    run_id = _running_run(state, name)
    return {"stored": training.log_metrics(state.db, state.metrics, run_id, points)}


async def _keras_body(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.form()
            field = request.query_params.get("field", "data")
            raw = form.get(field)
            if not isinstance(raw, str):
                raise InputError(f"form field {field!r}: missing (RemoteMonitor's field)")
            doc = orjson.loads(raw)
        else:
            doc = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "bad_request", f"body: not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "bad_request", "body: expected a JSON object {epoch, **logs}")
    return doc


def _running_run(state: ServerState, name: str) -> str:
    """The in-progress run of ``name``, started now when there is none."""
    try:
        run_id = training.find_run(state.db, name)
        with state.db.session() as session:
            job = session.get(TrainingJob, run_id)
            if job is not None and job.status == "InProgress":
                return run_id
    except training.TrainingJobNotFoundError:
        pass
    return str(training.start_job(state.db, name, source="keras")["run_id"])
