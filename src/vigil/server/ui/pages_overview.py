"""Dashboard page ``GET /``: every endpoint at a glance.

For each endpoint: the last execution of each of its schedules by monitor type (data
quality, model quality, bias, attribution; status badges linking to ``/executions/{id}``),
the share of anomalous records its last data-quality run found (where the baseline scores
records), the open violations (those of the last execution of each schedule), and its alarms
in ALARM (linking to ``/alarms/{name}``). Below: every alarm in ALARM, and the recent platform
events (deployments, pipeline runs, failed jobs: :func:`vigil.app.context_events.what_changed`
over the page's time range).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from vigil.app.context_events import Change, what_changed
from vigil.app.endpoint_queries import (
    MONITOR_TYPES,
    alarms_in_alarm,
    anomaly_summary,
    last_executions,
    list_endpoints,
    schedules_of,
)
from vigil.server.state import get_state
from vigil.server.ui.render import page, time_range
from vigil.server.ui.session import Viewer, require_viewer
from vigil.store.models import AlarmRecord, Endpoint, Execution

router = APIRouter(include_in_schema=False)

#: how many platform events the overview lists
RECENT_EVENTS = 10


@dataclass
class LastRun:
    """The last execution of one schedule."""

    schedule: str
    execution: Execution


@dataclass
class EndpointCard:
    """What the overview shows of one endpoint."""

    endpoint: Endpoint
    by_type: dict[str, list[LastRun]] = field(default_factory=dict)
    anomaly: dict[str, Any] | None = None
    anomaly_execution: Execution | None = None
    open_violations: int = 0
    alarms: list[AlarmRecord] = field(default_factory=list)

    @property
    def last(self) -> Execution | None:
        """The newest of the last executions."""
        runs = [r.execution for rs in self.by_type.values() for r in rs]
        return max(runs, key=lambda e: e.scheduled_time) if runs else None


def endpoint_cards(request: Request) -> list[EndpointCard]:
    """One card per endpoint, by name."""
    db = get_state(request).db
    cards = []
    firing = alarms_in_alarm(db)
    for endpoint in list_endpoints(db):
        card = EndpointCard(endpoint)
        schedules = schedules_of(db, endpoint.name)
        last = last_executions(db, schedules)
        for sched in schedules:
            ex = last.get(sched.name)
            if ex is None:
                continue
            card.by_type.setdefault(sched.monitor_type, []).append(LastRun(sched.name, ex))
            card.open_violations += ex.violation_count or 0
            if sched.monitor_type == "DataQuality" and card.anomaly is None:
                card.anomaly = anomaly_summary(ex)
                card.anomaly_execution = ex if card.anomaly is not None else None
        names = {a.name for a in alarms_in_alarm(db, endpoint.name)}
        card.alarms = [a for a in firing if a.name in names]
        cards.append(card)
    return cards


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, viewer: Viewer = Depends(require_viewer)) -> HTMLResponse:
    """Every endpoint at a glance, the alarms in ALARM and the recent platform events."""
    tr = time_range(request)
    db = get_state(request).db
    hours = (tr.end - tr.start).total_seconds() / 3600.0
    events: list[Change] = what_changed(db, tr.end, hours=hours, limit=RECENT_EVENTS)
    return page(
        request,
        viewer,
        "overview.html",
        "Overview",
        time_range=tr,
        cards=endpoint_cards(request),
        monitor_types=MONITOR_TYPES,
        firing=alarms_in_alarm(db),
        events=events,
    )
