"""What the dashboard's overview and endpoint pages read about an endpoint: its schedules,
their last executions, executions in a time range (counted by status in SQL), the alarms in
ALARM that watch it, the metric series that name it, and the thresholds its last analyses
used (read from the execution's own ``analysis.json`` / ``constraints.json``).

Every query is bounded: executions by a time range and a limit, metric series by namespace,
datapoints counted in SQL (never loaded). :func:`pick_period` chooses a chart period that
keeps a chart to at most ``max_points`` points.

>>> pick_period(24 * 3600, minimum=60)
60
>>> pick_period(90 * 86400, minimum=60)
7200
>>> pick_period(90 * 86400, minimum=3600)
7200
>>> pick_period(3600, minimum=7 * 60), pick_period(90 * 86400, minimum=7 * 60)
(420, 5460)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select

from vigil.analysis.data_quality import SUMMARY_FILE
from vigil.errors import NotFoundError, VigilError
from vigil.formats import jackson
from vigil.formats.model_quality import ModelQualityConstraints, as_float
from vigil.locations import Location, as_location
from vigil.metrics import contract as mc
from vigil.metrics.datum import dimensions_key, series_key
from vigil.metrics.serving import NAMESPACE as SERVING_NAMESPACE
from vigil.schedule import parse_schedule
from vigil.store.db import Database
from vigil.store.executions import list_executions
from vigil.store.metrics import MetricStore
from vigil.store.models import (
    AlarmRecord,
    Datapoint,
    Endpoint,
    Execution,
    MetricSeries,
    Schedule,
)

__all__ = [
    "MONITOR_TYPES",
    "DriftLimit",
    "EndpointNotFoundError",
    "SeriesRef",
    "alarms_in_alarm",
    "anomaly_limit",
    "anomaly_summary",
    "completeness_limits",
    "datapoint_count",
    "drift_limits",
    "endpoint_series",
    "executions_in_range",
    "get_endpoint",
    "last_executions",
    "list_endpoints",
    "model_quality_limits",
    "pick_period",
    "schedule_period",
    "schedules_of",
    "status_counts",
]

#: the monitor types of schedules, in the order the pages show them: type -> label
MONITOR_TYPES: dict[str, str] = {
    "DataQuality": "Data quality",
    "ModelQuality": "Model quality",
    "ModelBias": "Bias",
    "ModelExplainability": "Attribution",
}
#: chart periods a page may pick (seconds), besides multiples of a schedule's period
NICE_PERIODS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)


class EndpointNotFoundError(NotFoundError):
    """No endpoint has the given name."""

    code = "endpoint_not_found"


def list_endpoints(db: Database) -> list[Endpoint]:
    """Every endpoint, by name."""
    with db.session() as s:
        return list(s.scalars(select(Endpoint).order_by(Endpoint.name)))


def get_endpoint(db: Database, name: str) -> Endpoint:
    """The endpoint ``name``; :class:`EndpointNotFoundError` when there is none."""
    with db.session() as s:
        row = s.get(Endpoint, name)
    if row is None:
        raise EndpointNotFoundError(f"no endpoint named {name!r}")
    return row


def schedules_of(db: Database, endpoint: str) -> list[Schedule]:
    """The endpoint's schedules, by name."""
    with db.session() as s:
        return list(
            s.scalars(
                select(Schedule).where(Schedule.endpoint_name == endpoint).order_by(Schedule.name)
            )
        )


def schedule_period(schedule: Schedule, at: datetime | None = None) -> int | None:
    """Seconds between two runs of ``schedule`` (None for a one-time or unreadable one)."""
    try:
        expression = parse_schedule(schedule.expression)
        if expression.is_one_time:
            return None
        now = at or datetime.now(timezone.utc)
        seconds = expression.period(expression.next_after(now) or now).total_seconds()
    except (VigilError, ValueError):
        return None
    return max(1, int(seconds))


def pick_period(span_seconds: float, *, minimum: int = 60, max_points: int = 1500) -> int:
    """A chart period of at least ``minimum`` seconds giving at most ``max_points`` periods
    over ``span_seconds``: the smallest of :data:`NICE_PERIODS` (or multiple of ``minimum``)
    that fits."""
    minimum = max(1, int(minimum))
    need = max(minimum, math.ceil(span_seconds / max(1, max_points)))
    if need == minimum:
        return minimum
    for nice in NICE_PERIODS:
        if need <= nice <= 2 * need and nice % minimum == 0:
            return nice
    return math.ceil(need / minimum) * minimum


def last_executions(db: Database, schedules: Iterable[Schedule]) -> dict[str, Execution]:
    """The newest execution of each schedule (schedule name -> execution), where it has one."""
    out: dict[str, Execution] = {}
    for schedule in schedules:
        found = list_executions(db, schedule=schedule.name, limit=1)
        if found:
            out[schedule.name] = found[0]
    return out


def executions_in_range(
    db: Database, endpoint: str, start: datetime, end: datetime, limit: int = 1000
) -> list[Execution]:
    """The endpoint's executions scheduled in ``[start, end)``, newest first, at most
    ``limit`` (as ``GET /api/v1/executions?endpoint=&since=&until=`` lists them)."""
    return list_executions(db, endpoint=endpoint, since=start, until=end, limit=limit)


def status_counts(db: Database, endpoint: str, start: datetime, end: datetime) -> dict[str, int]:
    """How many of the endpoint's executions scheduled in ``[start, end)`` have each status
    (counted in SQL)."""
    query = (
        select(Execution.status, func.count())
        .where(
            Execution.endpoint_name == endpoint,
            Execution.scheduled_time >= start,
            Execution.scheduled_time < end,
        )
        .group_by(Execution.status)
    )
    with db.session() as s:
        return {str(status): int(n) for status, n in s.execute(query)}


def _names_endpoint(spec: Mapping[str, Any], endpoint: str) -> bool:
    dims = spec.get("dimensions") or {}
    if not isinstance(dims, Mapping):
        return False
    return dims.get(mc.ENDPOINT) == endpoint or dims.get("EndpointName") == endpoint


def alarms_in_alarm(db: Database, endpoint: str | None = None) -> list[AlarmRecord]:
    """The metric alarms in state ALARM (those whose dimensions name ``endpoint``, when it is
    given: ``Endpoint`` or ``EndpointName``), by name."""
    with db.session() as s:
        rows = list(
            s.scalars(
                select(AlarmRecord)
                .where(AlarmRecord.state == "ALARM")
                .order_by(AlarmRecord.name)
            )
        )
    if endpoint is None:
        return rows
    return [r for r in rows if _names_endpoint(r.spec or {}, endpoint)]


@dataclass(frozen=True)
class SeriesRef:
    """One metric series that names an endpoint."""

    namespace: str
    name: str
    dimensions: dict[str, str]


#: the namespaces whose series name an endpoint, and the dimension that names it
_ENDPOINT_NAMESPACES = (
    (mc.DATA_QUALITY_NAMESPACE, mc.ENDPOINT),
    (mc.MODEL_QUALITY_NAMESPACE, mc.ENDPOINT),
    (mc.BIAS_NAMESPACE, mc.ENDPOINT),
    (mc.EXPLAINABILITY_NAMESPACE, mc.ENDPOINT),
    (mc.EXECUTIONS_NAMESPACE, mc.ENDPOINT),
    (SERVING_NAMESPACE, "EndpointName"),
)


def endpoint_series(store: MetricStore, endpoint: str) -> list[SeriesRef]:
    """Every series (with datapoints) of the monitoring and serving namespaces that names
    ``endpoint``, sorted."""
    out = []
    for namespace, key in _ENDPOINT_NAMESPACES:
        for ns, name, dims in store.list_metrics(namespace=namespace):
            if dims.get(key) == endpoint:
                out.append(SeriesRef(ns, name, dims))
    return out


def datapoint_count(
    store: MetricStore,
    namespace: str,
    name: str,
    dimensions: Mapping[str, str],
    start: datetime,
    end: datetime,
) -> int:
    """How many datapoint rows one series holds in ``[start, end)`` (counted in SQL): a page
    asks before it requests percentiles, which the store computes from the rows."""
    key = series_key(namespace, name, dimensions_key(dimensions))
    query = select(func.count()).where(
        Datapoint.series_id.in_(select(MetricSeries.id).where(MetricSeries.series_key == key)),
        Datapoint.timestamp >= start,
        Datapoint.timestamp < end,
    )
    with store.db.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


@dataclass(frozen=True)
class DriftLimit:
    """A feature's drift threshold as its analysis applied it: ``kind`` ``distance`` (drifted
    above the threshold) or ``p_value`` (drifted below it)."""

    threshold: float | None
    kind: str = "distance"
    method: str = ""

    def drifted(self, value: float | None) -> bool:
        """Whether ``value`` passes this threshold.

        >>> DriftLimit(0.1).drifted(0.2), DriftLimit(0.05, "p_value").drifted(0.2)
        (True, False)
        >>> DriftLimit(None).drifted(0.9), DriftLimit(0.1).drifted(None)
        (False, False)
        """
        if value is None or self.threshold is None:
            return False
        return value < self.threshold if self.kind == "p_value" else value > self.threshold


def _read_json(path: Location) -> Any:
    try:
        return jackson.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def _summary_of(ex: Execution) -> dict[str, Any] | None:
    if not ex.output_uri:
        return None
    doc = _read_json(as_location(ex.output_uri) / SUMMARY_FILE)
    return doc if isinstance(doc, dict) else None


def drift_limits(executions: Iterable[Execution]) -> dict[str, DriftLimit]:
    """Each feature's drift threshold, from the ``analysis.json`` of the first of
    ``executions`` that wrote one (pass them newest first; a few are read at most)."""
    for i, ex in enumerate(executions):
        if i >= 20:
            break
        doc = _summary_of(ex)
        features = doc.get("features") if doc else None
        if not isinstance(features, dict):
            continue
        out = {}
        for name, r in features.items():
            if not isinstance(r, dict):
                continue
            threshold = r.get("threshold")
            out[str(name)] = DriftLimit(
                float(threshold) if isinstance(threshold, (int, float)) else None,
                "p_value" if r.get("kind") == "p_value" else "distance",
                str(r.get("method") or ""),
            )
        return out
    return {}


def anomaly_limit(executions: Iterable[Execution]) -> float | None:
    """The tolerated share of anomalous records, from the newest analysis that scored
    records (its ``anomalies.max_share``), else None."""
    for i, ex in enumerate(executions):
        if i >= 20:
            break
        doc = _summary_of(ex)
        anomalies = doc.get("anomalies") if doc else None
        if isinstance(anomalies, dict) and isinstance(anomalies.get("max_share"), (int, float)):
            return float(anomalies["max_share"])
    return None


def anomaly_summary(ex: Execution) -> dict[str, Any] | None:
    """The execution's anomaly figures (``share``, ``anomalous_count``, ``max_share``,
    ``exceeded``) from its ``analysis.json``, or None when it scored no records."""
    doc = _summary_of(ex)
    anomalies = doc.get("anomalies") if doc else None
    return anomalies if isinstance(anomalies, dict) else None


def completeness_limits(executions: Iterable[Execution]) -> dict[str, float]:
    """Each feature's required share of non-null values (``completeness`` in the
    ``constraints.json`` of the newest execution that wrote one)."""
    for i, ex in enumerate(executions):
        if i >= 20:
            break
        doc = _read_json(as_location(ex.output_uri) / "constraints.json") if ex.output_uri else None
        features = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(features, list):
            continue
        return {
            str(f["name"]): float(f["completeness"])
            for f in features
            if isinstance(f, dict) and isinstance(f.get("completeness"), (int, float))
        }
    return {}


def model_quality_limits(executions: Iterable[Execution]) -> dict[str, tuple[float, str]]:
    """Each model-quality metric's constraint (threshold, comparison operator), from the
    ``constraints.json`` of the newest execution that has one readable."""
    for i, ex in enumerate(executions):
        if i >= 20:
            break
        if not ex.output_uri:
            continue
        path = as_location(ex.output_uri) / "constraints.json"
        if not path.is_file():
            continue
        try:
            constraints = ModelQualityConstraints.load(path).constraints
        except VigilError:
            continue
        out = {}
        for key, c in constraints.items():
            value = as_float(c.threshold)
            if value == value:
                out[key] = (value, str(c.comparison_operator))
        return out
    return {}
