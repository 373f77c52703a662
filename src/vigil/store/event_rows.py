"""Event rows and the envelope: a stored :class:`~vigil.store.models.Event` as the dict that
rules match, targets receive, the API lists and the archive keeps.

The dict holds EventBridge's envelope (``version``, ``id``, ``detail-type``, ``source``,
``account``, ``time``, ``region``, ``resources``, ``detail``) and Vigil's older keys
(``kind``, ``endpoint_name``, ``schedule_name``), so that rules written for Vigil's events
before the envelope (``pattern: {kind: [...], detail: {...}}``) keep matching.

>>> from datetime import datetime, timezone
>>> e = Event(id="e1", kind="alarm_state_change", time=datetime(2024, 5, 1, tzinfo=timezone.utc),
...           detail={"state": "ALARM"})
>>> d = envelope_of(e)
>>> d["source"], d["detail-type"], d["time"], d["kind"], d["resources"]
('vigil', 'Vigil Alarm State Change', '2024-05-01T00:00:00Z', 'alarm_state_change', [])
"""

from __future__ import annotations

from typing import Any

from vigil.events.envelope import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    VIGIL_SOURCE,
    detail_type_of_kind,
    format_time,
)
from vigil.store.models import Event

__all__ = ["EXTERNAL_KIND", "envelope_of"]

#: the ``kind`` of an event that came from outside (its source and detail-type say what it is)
EXTERNAL_KIND = "external"


def envelope_of(row: Event | Any) -> dict[str, Any]:
    """The event's envelope and older keys (see the module's docstring), from an
    :class:`Event` or a row of its table; rows written before the envelope columns existed
    (``source`` unset) read as Vigil's own."""
    source = row.source or VIGIL_SOURCE
    out: dict[str, Any] = {
        "version": "0",
        "id": row.id,
        "detail-type": row.detail_type or detail_type_of_kind(row.kind or "event"),
        "source": source,
        "account": row.account or DEFAULT_ACCOUNT,
        "time": format_time(row.time),
        "region": row.region or DEFAULT_REGION,
        "resources": list(row.resources or []),
        "detail": row.detail or {},
        "kind": row.kind,
        "endpoint_name": row.endpoint_name,
        "schedule_name": row.schedule_name,
    }
    if row.extra:
        for key, value in row.extra.items():
            out.setdefault(key, value)
    return out
