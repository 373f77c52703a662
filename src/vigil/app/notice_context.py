"""What a notification of an alarm or of an execution's finding says beyond the state change:
links into the dashboard, a readable summary and what changed on the platform before it.

:class:`NoticeBuilder` is the application's explainer (:data:`vigil.alerts.notify.context.
Explainer`), handed to the notifier where the outbox is wired (:mod:`vigil.app.scheduler`):

- **links**, from ``settings.public_url`` (``VIGIL_PUBLIC_URL``): the alarm's page
  ``{public}/alarms/{name}``, the execution's ``{public}/executions/{id}`` and its report
  ``{public}/executions/{id}/report`` (names URL-encoded); without a public URL, none;
- **the execution** whose figures made the alarm change: of the schedule (or endpoint) its
  metric's dimensions name, the ended one whose figures lie in the newest evaluated period
  (else the latest scheduled at or before the transition);
- **a summary**: the features that drifted and by how much, from that execution's
  ``constraint_violations.json`` (``Drift in 2 of 5 features: mean radius (distance 0.41 >
  0.10), ...``), a failed execution's reason, or else the alarm's figure against its
  threshold;
- **what changed**: the platform events of the ``hours`` before (:func:`what_changed`, at most
  ``max_changes``, newest first): deployments, pipeline and training runs, baseline changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import orjson
from sqlalchemy import select

from vigil.alerts.notify import execution_summary, feature_drifts, metric_summary
from vigil.alerts.notify.context import NoticeContext
from vigil.alerts.service import Transition
from vigil.app.context_events import DEFAULT_HOURS, what_changed
from vigil.app.documents import iso
from vigil.errors import VigilError
from vigil.formats.violations import ConstraintViolations
from vigil.locations import as_location
from vigil.metrics import contract as mc
from vigil.store.db import Database
from vigil.store.executions import get_execution, list_executions
from vigil.store.models import AlarmRecord, Execution, ExecutionStatus
from vigil.store.settings import Settings

__all__ = ["MAX_CHANGES", "NoticeBuilder", "dashboard_links", "finding_execution"]

MAX_CHANGES = 10
#: the statuses of an execution that has figures to show (it ended)
ENDED = [s.value for s in ExecutionStatus if s.terminal]


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def dashboard_links(
    public_url: str, *, alarm: str | None = None, execution: Execution | None = None
) -> dict[str, str]:
    """The dashboard pages of an alarm and an execution (and its report, when it wrote one);
    ``{}`` without a public URL.

    >>> dashboard_links("https://vigil.example.com/", alarm="drift a/b")
    {'alarm': 'https://vigil.example.com/alarms/drift%20a%2Fb'}
    >>> dashboard_links("", alarm="x")
    {}
    """
    base = public_url.rstrip("/")
    if not base:
        return {}
    out: dict[str, str] = {}
    if alarm:
        out["alarm"] = f"{base}/alarms/{quote(alarm, safe='')}"
    if execution is not None:
        page = f"{base}/executions/{quote(execution.id, safe='')}"
        out["execution"] = page
        if execution.output_uri and (as_location(execution.output_uri) / "report.html").is_file():
            out["report"] = f"{page}/report"
    return out


def _datapoint(data: Mapping[str, Any]) -> datetime | None:
    """The start of the newest evaluated period that held a value (``reason_data``)."""
    for point in data.get("evaluatedDatapoints") or []:  # newest first
        if isinstance(point, Mapping) and point.get("value") is not None:
            try:
                return _utc(datetime.fromisoformat(str(point["timestamp"]).replace("Z", "+00:00")))
            except (KeyError, ValueError):
                return None
    return None


def finding_execution(
    db: Database,
    dimensions: Mapping[str, str],
    at: datetime,
    reason_data: Mapping[str, Any] | None = None,
) -> Execution | None:
    """The execution whose figures an alarm on a metric with these ``dimensions`` read at
    ``at``, of the schedule (or else the endpoint) they name: the latest ended one whose
    figures fall in the newest evaluated period that held a value (figures are stamped at
    the start of the window an execution closes: :func:`vigil.monitor.lifecycle.figure_time`),
    else the latest ended one scheduled at or before ``at``; ``None`` for a metric of no
    schedule or endpoint."""
    schedule = dimensions.get(mc.MONITORING_SCHEDULE)
    endpoint = dimensions.get(mc.ENDPOINT)
    if not schedule and not endpoint:
        return None
    data = reason_data or {}
    start = _datapoint(data)
    until = _utc(at) + timedelta(microseconds=1)
    if start is not None and isinstance(data.get("period"), (int, float)) and data["period"] > 0:
        query = select(Execution).where(
            Execution.status.in_(ENDED),
            Execution.window_start >= start,
            Execution.window_start < start + timedelta(seconds=float(data["period"])),
            Execution.scheduled_time < until,
        )
        if schedule:
            query = query.where(Execution.schedule_name == schedule)
        if endpoint:
            query = query.where(Execution.endpoint_name == endpoint)
        query = query.order_by(Execution.window_start.desc(), Execution.attempt.desc()).limit(1)
        with db.session() as s:
            found = s.scalars(query).first()
        if found is not None:
            return found
    rows = list_executions(
        db, endpoint=endpoint or None, schedule=schedule or None, status=ENDED, until=until,
        limit=1,
    )
    return rows[0] if rows else None


def _features(ex: Execution) -> int | None:
    try:
        doc = orjson.loads((as_location(ex.output_uri or "") / "statistics.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    features = doc.get("features") if isinstance(doc, dict) else None
    return len(features) if isinstance(features, list) else None


def _violations(ex: Execution) -> list[Any]:
    path = as_location(ex.output_uri or "") / "constraint_violations.json"
    if not ex.output_uri or not path.is_file():
        return []
    try:
        return list(ConstraintViolations.load(path).violations)
    except VigilError:  # unreadable: the notification goes without its summary
        return []


def _execution_doc(ex: Execution) -> dict[str, Any]:
    return {"id": ex.id, "schedule": ex.schedule_name, "endpoint": ex.endpoint_name,
            "status": ex.status, "window_start": iso(ex.window_start),
            "window_end": iso(ex.window_end), "violation_count": ex.violation_count}


def _latest_value(data: Mapping[str, Any]) -> float | None:
    for point in data.get("evaluatedDatapoints") or []:  # newest first
        if isinstance(point, Mapping) and isinstance(point.get("value"), (int, float)):
            return float(point["value"])
    recent = data.get("recentDatapoints") or []
    return float(recent[-1]) if recent and isinstance(recent[-1], (int, float)) else None


class NoticeBuilder:
    """Builds the :class:`~vigil.alerts.notify.NoticeContext` of alarm transitions
    (``builder(transition)``) and of events (``builder.event(envelope)``)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        hours: float = DEFAULT_HOURS,
        max_changes: int = MAX_CHANGES,
    ) -> None:
        self.settings, self.db = settings, db
        self.hours, self.max_changes = hours, max_changes

    def _changes(self, at: datetime) -> list[dict[str, Any]]:
        found = what_changed(self.db, _utc(at), hours=self.hours, limit=self.max_changes)
        return [c.as_dict() for c in found]

    def _finding(self, ex: Execution) -> tuple[str, list[dict[str, Any]]]:
        """The execution's summary and its drifting features."""
        if ex.status == ExecutionStatus.FAILED.value:
            return f"Execution failed: {ex.failure_reason or 'no reason given'}"[:300], []
        violations = _violations(ex)
        drifts = [d.as_dict() for d in feature_drifts(violations)]
        return execution_summary(violations, _features(ex)), drifts

    def __call__(self, t: Transition) -> NoticeContext:
        """The context of one alarm transition."""
        with self.db.session() as s:
            row = s.get(AlarmRecord, t.alarm)
            spec = dict(row.spec or {}) if row is not None else {}
        dimensions = spec.get("dimensions") or {}
        ex = finding_execution(self.db, dimensions, t.time, t.reason_data) if dimensions else None
        summary, findings = self._finding(ex) if ex is not None else ("", [])
        if not summary and spec.get("metric_name"):
            summary = metric_summary(
                str(spec["metric_name"]), str(spec.get("statistic") or ""),
                str(spec.get("comparison_operator") or ""), _latest_value(t.reason_data or {}),
                spec.get("threshold"), t.new_state,
            )
        return NoticeContext(
            links=dashboard_links(self.settings.public_url, alarm=t.alarm, execution=ex),
            summary=summary,
            findings=findings,
            execution=_execution_doc(ex) if ex is not None else None,
            changes=self._changes(t.time),
            hours=self.hours,
        )

    def event(self, event: Mapping[str, Any]) -> NoticeContext | None:
        """The context of an event's notification: an execution's completion (its links,
        finding and the changes before it) or an alarm's state change; ``None`` otherwise."""
        kind = event.get("kind")
        detail = event.get("detail") or {}
        if kind == "alarm_state_change" and detail.get("alarm"):
            when = datetime.fromisoformat(str(event.get("time")).replace("Z", "+00:00"))
            return self(Transition(
                str(detail["alarm"]), str(detail.get("previous") or ""),
                str(detail.get("state") or ""), str(detail.get("reason") or ""), {}, [], when,
            ))
        if kind != "execution_completed" or not detail.get("execution_id"):
            return None
        try:
            ex = get_execution(self.db, str(detail["execution_id"]))
        except VigilError:  # deleted meanwhile
            return None
        summary, findings = self._finding(ex)
        return NoticeContext(
            links=dashboard_links(self.settings.public_url, execution=ex),
            summary=summary,
            findings=findings,
            execution=_execution_doc(ex),
            changes=self._changes(ex.scheduled_time),
            hours=self.hours,
        )
