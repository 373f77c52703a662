"""Metrics: a token with ``ingest`` (or ``write``) puts datapoints; readers query aggregates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from vigil.app.metric_views import parse_dimensions
from vigil.errors import InputError
from vigil.metrics.datum import MetricDatum
from vigil.server.errors import ApiError
from vigil.server.schemas_alerts import MetricList, MetricQueryOut, PutMetricsOut
from vigil.server.schemas_common import IsoTime, errors
from vigil.server.state import INGEST, READ, ServerState, get_state

router = APIRouter(responses=errors(401, 403, 422))
MAX_DATAPOINTS = 100_000


class DatumIn(BaseModel):
    name: str
    dimensions: dict[str, str] = {}
    timestamp: IsoTime | None = None
    value: float | None = None
    sample_count: float | None = None
    sum: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    unit: str = "None"


class PutMetricsIn(BaseModel):
    namespace: str
    data: list[DatumIn] = Field(min_length=1, max_length=MAX_DATAPOINTS)


@router.post(
    "/metrics", response_model=PutMetricsOut, responses=errors(400, 413), dependencies=[INGEST]
)
def put_metrics(body: PutMetricsIn, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    data = []
    for i, d in enumerate(body.data):
        try:
            data.append(
                MetricDatum(
                    body.namespace,
                    d.name,
                    d.dimensions,
                    d.timestamp or now,
                    d.value,
                    sample_count=d.sample_count,
                    sum=d.sum,
                    minimum=d.minimum,
                    maximum=d.maximum,
                    unit=d.unit,
                )
            )
        except ValueError as exc:
            raise ApiError(422, "validation_error", f"data[{i}]: {exc}") from None
    return {"stored": state.metrics.put(data)}


@router.get(
    "/metrics/query", response_model=MetricQueryOut, responses=errors(400), dependencies=[READ]
)
def query_metrics(
    namespace: str,
    name: str,
    start: IsoTime | None = None,
    end: IsoTime | None = None,
    period: int = Query(default=300, ge=1, le=86400 * 31),
    statistic: list[str] = Query(default=["Average"]),
    dimension: list[str] = Query(default=[]),
    all_dimensions: bool = False,
    state: ServerState = Depends(get_state),
) -> dict[str, Any]:
    """Aggregates per period; ``dimension=Name:Value`` (repeatable) picks one dimension set."""
    end = end or datetime.now(timezone.utc)
    start = start or end - timedelta(hours=3)
    try:
        dims = None if all_dimensions else parse_dimensions(dimension)
    except InputError as exc:
        raise ApiError(422, "validation_error", exc.message) from None
    rows = state.metrics.query(namespace, name, dims, start, end, period, statistic)
    for row in rows:
        row["Timestamp"] = row["Timestamp"].isoformat()
    return {"namespace": namespace, "name": name, "period": period, "datapoints": rows}


@router.get("/metrics", response_model=MetricList, dependencies=[READ])
def list_metrics(
    namespace: str | None = None, prefix: str | None = None, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    found = state.metrics.list_metrics(namespace=namespace, name_prefix=prefix)
    return {"metrics": [{"namespace": ns, "name": n, "dimensions": dict(d)} for ns, n, d in found]}
