"""Stored objects as JSON documents: what the REST API returns and what
``vigil ... --output json`` prints, written once for both faces.

Times are ISO-8601 in UTC (``2024-05-01T04:00:00+00:00``); a naive time is taken as UTC.

>>> from datetime import datetime
>>> iso(datetime(2024, 5, 1, 4, 0))
'2024-05-01T04:00:00+00:00'
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only annotations: the CLI's light commands use iso() without a database
    from vigil.alerts.service import Transition
    from vigil.store.models import AlarmRecord, Execution

__all__ = ["alarm_document", "execution_document", "iso"]


def iso(t: datetime | None) -> str | None:
    """``t`` as ISO-8601 in UTC; None stays None."""
    if t is None:
        return None
    aware = t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t
    return aware.astimezone(timezone.utc).isoformat()


def execution_document(e: Execution) -> dict[str, Any]:
    """An execution: its schedule, window, status, counts and times."""
    return {
        "id": e.id,
        "schedule": e.schedule_name,
        "endpoint": e.endpoint_name,
        "scheduled_time": iso(e.scheduled_time),
        "window_start": iso(e.window_start),
        "window_end": iso(e.window_end),
        "status": e.status,
        "failure_reason": e.failure_reason,
        "created_at": iso(e.created_at),
        "started_at": iso(e.started_at),
        "ended_at": iso(e.ended_at),
        "records_read": e.records_read,
        "records_skipped": e.records_skipped,
        "violation_count": e.violation_count,
        "attempt": e.attempt,
    }


def alarm_document(r: AlarmRecord) -> dict[str, Any]:
    """An alarm: its definition and its current state with the reason."""
    return {
        "name": r.name,
        "kind": r.kind,
        "definition": r.spec,
        "state": r.state,
        "state_reason": r.state_reason,
        "state_reason_data": r.state_reason_data,
        "state_updated_at": iso(r.state_updated_at),
    }


def transition_document(t: Transition) -> dict[str, Any]:
    """An alarm transition as the API and ``vigil alarm evaluate --output json`` show it."""
    return {
        "alarm": t.alarm,
        "old_state": t.old_state,
        "new_state": t.new_state,
        "reason": t.reason,
        "actions": list(t.actions),
        "time": iso(t.time),
    }
