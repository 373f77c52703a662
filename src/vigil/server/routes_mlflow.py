"""MLflow's tracking REST API, the subset an unmodified ``mlflow`` client needs to create an
experiment and a run, log params, metrics (with steps), batches and tags, and end the run.

Mounted under ``/api/2.0/mlflow/`` and ``/ajax-api/2.0/mlflow/``. The client sends
``MLFLOW_TRACKING_TOKEN`` as ``Authorization: Bearer ...``: writes need a Vigil token with
``ingest``, reads one with ``read``. Errors have MLflow's shape, ``{"error_code":
"RESOURCE_DOES_NOT_EXIST", "message": ...}``, with MLflow's HTTP statuses. The routes are a
compatibility face, left out of Vigil's OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from vigil.app import training
from vigil.app import training_mlflow as mf
from vigil.errors import InputError, NotFoundError, VigilError
from vigil.jobs import MLFLOW_TO_STATUS
from vigil.server.errors import ApiError
from vigil.server.state import INGEST, READ, ServerState, get_state

PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
_API_CODES = {
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "RESOURCE_ALREADY_EXISTS",
    413: "INVALID_PARAMETER_VALUE",
}


def mlflow_error(status: int, code: str, message: str) -> JSONResponse:
    """An error response in MLflow's shape."""
    return JSONResponse({"error_code": code, "message": message}, status)


class MlflowRoute(APIRoute):
    """A route whose failures (auth included) answer in MLflow's error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                code = _API_CODES.get(exc.status, "INVALID_PARAMETER_VALUE")
                return mlflow_error(exc.status, code, exc.message)
            except mf.ExperimentExistsError as exc:
                return mlflow_error(400, "RESOURCE_ALREADY_EXISTS", exc.message)
            except NotFoundError as exc:
                return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", exc.message)
            except (InputError, VigilError) as exc:
                return mlflow_error(400, "INVALID_PARAMETER_VALUE", exc.message)
            except RequestValidationError as exc:
                where = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}"
                    for e in exc.errors()
                )
                return mlflow_error(400, "INVALID_PARAMETER_VALUE", where)

        return answer


router = APIRouter(route_class=MlflowRoute, include_in_schema=False)


class KeyValue(BaseModel):
    key: str = Field(min_length=1, max_length=250)
    value: str = ""


class CreateExperiment(BaseModel):
    name: str
    artifact_location: str = ""
    tags: list[KeyValue] = []


class SearchExperiments(BaseModel):
    max_results: int = Field(default=1000, ge=1, le=50000)


class CreateRun(BaseModel):
    experiment_id: str = "0"
    user_id: str = ""
    start_time: int | None = None
    run_name: str | None = None
    tags: list[KeyValue] = []


class UpdateRun(BaseModel):
    run_id: str = ""
    run_uuid: str = ""
    status: str | None = None
    end_time: int | None = None
    run_name: str | None = None


class MetricIn(BaseModel):
    key: str = Field(min_length=1, max_length=250)
    value: float
    timestamp: int | None = None
    step: int = Field(default=0, ge=0)


class LogMetric(MetricIn):
    run_id: str = ""
    run_uuid: str = ""


class LogParam(KeyValue):
    run_id: str = ""
    run_uuid: str = ""


class LogBatch(BaseModel):
    run_id: str
    metrics: list[MetricIn] = Field(default=[], max_length=1000)
    params: list[KeyValue] = Field(default=[], max_length=100)
    tags: list[KeyValue] = Field(default=[], max_length=100)


class SetTag(KeyValue):
    run_id: str = ""
    run_uuid: str = ""


class DeleteTag(BaseModel):
    run_id: str
    key: str


class SearchRuns(BaseModel):
    experiment_ids: list[str] = []
    max_results: int = Field(default=1000, ge=1, le=50000)


def _run_id(body: Any) -> str:
    run_id = getattr(body, "run_id", "") or getattr(body, "run_uuid", "")
    if not run_id:
        raise InputError("run_id: missing")
    return str(run_id)


def _points(metrics: list[MetricIn]) -> list[training.MetricPoint]:
    points = []
    for m in metrics:
        when = (
            datetime.fromtimestamp(m.timestamp / 1000, tz=timezone.utc)
            if m.timestamp is not None
            else None
        )
        points.append(training.MetricPoint(m.key, m.value, m.step, when))
    return points


@router.post("/experiments/create", dependencies=[INGEST])
def create_experiment(body: CreateExperiment, state: ServerState = Depends(get_state)) -> dict:
    tags = {t.key: t.value for t in body.tags}
    return {
        "experiment_id": mf.create_experiment(state.db, body.name, body.artifact_location, tags)
    }


@router.get("/experiments/get", dependencies=[READ])
def get_experiment(experiment_id: str, state: ServerState = Depends(get_state)) -> dict:
    return {"experiment": mf.get_experiment(state.db, experiment_id)}


@router.get("/experiments/get-by-name", dependencies=[READ])
def get_experiment_by_name(experiment_name: str, state: ServerState = Depends(get_state)) -> dict:
    return {"experiment": mf.get_experiment_by_name(state.db, experiment_name)}


@router.post("/experiments/search", dependencies=[READ])
def search_experiments(body: SearchExperiments, state: ServerState = Depends(get_state)) -> dict:
    return {"experiments": mf.search_experiments(state.db, body.max_results)}


@router.post("/runs/create", dependencies=[INGEST])
def create_run(body: CreateRun, state: ServerState = Depends(get_state)) -> dict:
    tags = {t.key: t.value for t in body.tags}
    if body.user_id:
        tags.setdefault("mlflow.user", body.user_id)
    run = mf.create_run(
        state.db,
        body.experiment_id,
        run_name=body.run_name,
        start_time=body.start_time,
        tags=tags,
    )
    return {"run": run}


@router.get("/runs/get", dependencies=[READ])
def get_run(
    run_id: str = "", run_uuid: str = "", state: ServerState = Depends(get_state)
) -> dict:
    return {"run": mf.get_run(state.db, run_id or run_uuid)}


@router.post("/runs/update", dependencies=[INGEST])
def update_run(body: UpdateRun, state: ServerState = Depends(get_state)) -> dict:
    run_id = _run_id(body)
    status = None
    if body.status is not None:
        status = MLFLOW_TO_STATUS.get(body.status)
        if status is None:
            raise InputError(f"status: expected one of {sorted(MLFLOW_TO_STATUS)}")
    current = mf.get_run(state.db, run_id)["info"]
    if status == "InProgress" and current["status"] == "RUNNING":
        status = None
    reason = "the MLflow run ended FAILED" if status == "Failed" else None
    training.update_job(
        state.db,
        run_id,
        status=status,
        failure_reason=reason,
        ended=mf.from_ms(body.end_time),
        name=body.run_name or None,
    )
    if body.run_name:
        training.set_tags(state.db, run_id, {mf.RUN_NAME_TAG: body.run_name})
    return {"run_info": mf.get_run(state.db, run_id)["info"]}


@router.post("/runs/log-metric", dependencies=[INGEST])
def log_metric(body: LogMetric, state: ServerState = Depends(get_state)) -> dict:
    training.log_metrics(state.db, state.metrics, _run_id(body), _points([body]))
    return {}


@router.post("/runs/log-parameter", dependencies=[INGEST])
def log_parameter(body: LogParam, state: ServerState = Depends(get_state)) -> dict:
    training.set_params(state.db, _run_id(body), {body.key: body.value})
    return {}


@router.post("/runs/log-batch", dependencies=[INGEST])
def log_batch(body: LogBatch, state: ServerState = Depends(get_state)) -> dict:
    if body.params:
        training.set_params(state.db, body.run_id, {p.key: p.value for p in body.params})
    if body.tags:
        training.set_tags(state.db, body.run_id, {t.key: t.value for t in body.tags})
    if body.metrics:
        training.log_metrics(state.db, state.metrics, body.run_id, _points(body.metrics))
    return {}


@router.post("/runs/set-tag", dependencies=[INGEST])
def set_tag(body: SetTag, state: ServerState = Depends(get_state)) -> dict:
    training.set_tags(state.db, _run_id(body), {body.key: body.value})
    return {}


@router.post("/runs/delete-tag", dependencies=[INGEST])
def delete_tag(body: DeleteTag, state: ServerState = Depends(get_state)) -> dict:
    training.set_tags(state.db, body.run_id, {}, delete=[body.key])
    return {}


@router.post("/runs/search", dependencies=[READ])
def search_runs(body: SearchRuns, state: ServerState = Depends(get_state)) -> dict:
    return {"runs": mf.search_runs(state.db, body.experiment_ids, body.max_results)}


@router.get("/metrics/get-history", dependencies=[READ])
def get_metric_history(
    metric_key: str, run_id: str = "", run_uuid: str = "", state: ServerState = Depends(get_state)
) -> dict:
    return {"metrics": mf.metric_history(state.db, run_id or run_uuid, metric_key)}
