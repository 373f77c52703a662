"""Reading metrics for views (the dashboard's hosts, explorer and dashboards): the same store
query as ``GET /api/v1/metrics/query``, the alarms that watch a metric (their thresholds),
alarm states by name, and a period that fits a time range.

>>> from datetime import datetime, timedelta, timezone
>>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> fit_period(t, t + timedelta(hours=24)), fit_period(t, t + timedelta(hours=1))
(900, 60)
>>> parse_dimensions(["Host:web-1", "Mount:/"])
{'Host': 'web-1', 'Mount': '/'}
>>> parse_dimensions(["Host"])
Traceback (most recent call last):
...
vigil.errors.InputError: [input_error] dimension 'Host': expected Name:Value
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from vigil.errors import InputError
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.models import AlarmRecord

__all__ = [
    "AlarmLine",
    "alarm_states",
    "alarms_watching",
    "fit_period",
    "latest",
    "parse_dimensions",
    "query",
]

#: periods a chart may use, in seconds (CloudWatch's usual choices)
PERIODS = (60, 300, 900, 3600, 6 * 3600, 86400)
TARGET_POINTS = 120


def fit_period(start: datetime, end: datetime, target: int = TARGET_POINTS) -> int:
    """The smallest usual period giving at most ``target`` periods over ``[start, end)``."""
    span = (end - start).total_seconds()
    for period in PERIODS:
        if span / period <= target:
            return period
    return PERIODS[-1]


def parse_dimensions(items: Iterable[str]) -> dict[str, str]:
    """``["Name:Value", ...]`` as a mapping, as ``dimension=`` of ``GET /api/v1/metrics/query``
    and the explorer's form take it (a value is kept as written; it may hold ``:``).

    >>> parse_dimensions(["Endpoint:churn", "Path:/a:b"])
    {'Endpoint': 'churn', 'Path': '/a:b'}
    """
    dims: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition(":")
        if not sep or not key:
            raise InputError(f"dimension {item!r}: expected Name:Value")
        dims[key] = value
    return dims


def query(
    store: MetricStore,
    namespace: str,
    name: str,
    dimensions: Mapping[str, str] | None,
    start: datetime,
    end: datetime,
    period: int,
    statistic: str,
) -> list[tuple[datetime, float | None]]:
    """``(period start, value)`` of one statistic per non-empty period: the rows of
    :meth:`MetricStore.query`, the function ``GET /api/v1/metrics/query`` answers with."""
    rows = store.query(namespace, name, dimensions, start, end, period, [statistic])
    return [(row["Timestamp"], row[statistic]) for row in rows]


def latest(
    store: MetricStore,
    namespace: str,
    name: str,
    dimensions: Mapping[str, str] | None,
    start: datetime,
    end: datetime,
    period: int,
    statistic: str,
) -> tuple[datetime, float] | None:
    """The last period's value in ``[start, end)`` (None when there is none)."""
    for when, value in reversed(query(store, namespace, name, dimensions, start, end, period,
                                      statistic)):  # fmt: skip
        if value is not None:
            return when, value
    return None


@dataclass(frozen=True)
class AlarmLine:
    """An alarm that watches a metric: its name, threshold and state."""

    name: str
    threshold: float
    state: str
    dimensions: Mapping[str, str]


def alarms_watching(
    db: Database, namespace: str, name: str, dimensions: Mapping[str, str] | None = None
) -> list[AlarmLine]:
    """The metric alarms on ``namespace``/``name`` with a threshold (with exactly
    ``dimensions`` when given), by name."""
    with db.session() as s:
        rows = list(
            s.execute(
                select(AlarmRecord.name, AlarmRecord.spec, AlarmRecord.state)
                .where(AlarmRecord.kind == "metric")
                .order_by(AlarmRecord.name)
            )
        )
    out = []
    for alarm, spec, state in rows:
        spec = spec or {}
        threshold = spec.get("threshold")
        if spec.get("namespace") != namespace or spec.get("metric_name") != name:
            continue
        if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
            continue
        dims = dict(spec.get("dimensions") or {})
        if dimensions is not None and dims != dict(dimensions):
            continue
        out.append(AlarmLine(alarm, float(threshold), state, dims))
    return out


def alarm_states(db: Database, names: Iterable[str]) -> list[dict[str, Any]]:
    """``{"name", "state", "reason", "updated", "exists"}`` of each alarm named, in order."""
    wanted = list(names)
    with db.session() as s:
        rows = {
            r.name: r
            for r in s.scalars(select(AlarmRecord).where(AlarmRecord.name.in_(wanted)))
        }
        out = []
        for name in wanted:
            row = rows.get(name)
            out.append({
                "name": name,
                "exists": row is not None,
                "state": row.state if row is not None else None,
                "reason": row.state_reason if row is not None else "no alarm of that name",
                "updated": row.state_updated_at if row is not None else None,
            })  # fmt: skip
    return out
