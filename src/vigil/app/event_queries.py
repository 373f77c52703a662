"""Listing stored events, newest first, by source, detail-type, time, resource, run facts
(kind, name, normalised status) and an event pattern, a page at a time.

A page ends with a ``next`` cursor (the last event's time and id) when more may follow;
passing it back as ``cursor`` continues after that event. The pattern (EventBridge's, as
rules use) and the resource are checked on each candidate's envelope.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, or_, select

from vigil.errors import ConfigError
from vigil.events.patterns import match, validate_pattern
from vigil.store.db import Database
from vigil.store.event_rows import envelope_of
from vigil.store.models import Event

__all__ = ["EventFilter", "EventPage", "list_events"]


@dataclass(frozen=True)
class EventFilter:
    """What :func:`list_events` keeps; every field optional (AND)."""

    source: str | None = None
    detail_type: str | None = None
    since: datetime | None = None  # inclusive, on the event's time
    until: datetime | None = None  # exclusive
    resource: str | None = None
    kind: str | None = None  # a run kind (training_job, pipeline...) or a Vigil kind
    name: str | None = None  # a run's name
    status: str | None = None  # started | succeeded | failed | stopped
    pattern: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class EventPage:
    """A page of envelopes, newest first, and the cursor of the next page (or ``None``)."""

    events: list[dict[str, Any]]
    next: str | None


def _cursor(row: Event) -> str:
    text = f"{row.time.astimezone(timezone.utc).isoformat()}|{row.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        t, _, eid = text.partition("|")
        return datetime.fromisoformat(t), eid
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"cursor {cursor!r}: not a cursor this API gave") from None


def list_events(
    db: Database, f: EventFilter, *, limit: int = 100, cursor: str | None = None
) -> EventPage:
    """One page of the events ``f`` keeps (see the module's docstring)."""
    if f.pattern is not None:
        validate_pattern(f.pattern)
    where = []
    if f.source:
        where.append(Event.source == f.source)
    if f.detail_type:
        where.append(Event.detail_type == f.detail_type)
    if f.since:
        where.append(Event.time >= f.since)
    if f.until:
        where.append(Event.time < f.until)
    if f.kind:
        where.append(or_(Event.run_kind == f.kind, Event.kind == f.kind))
    if f.name:
        where.append(Event.run_name == f.name)
    if f.status:
        where.append(Event.run_status == f.status)
    after = _parse_cursor(cursor) if cursor else None
    chunk = max(limit * 2, 200)
    out: list[dict[str, Any]] = []
    last: Event | None = None
    with db.session() as s:
        while True:
            page = list(where)
            if after is not None:
                t, eid = after
                page.append(or_(Event.time < t, and_(Event.time == t, Event.id < eid)))
            query = select(Event).where(*page).order_by(Event.time.desc(), Event.id.desc())
            rows = list(s.scalars(query.limit(chunk)))
            for row in rows:
                last = row
                env = envelope_of(row)
                if f.resource and f.resource not in env["resources"]:
                    continue
                if f.pattern is not None and not match(f.pattern, env):
                    continue
                out.append(env)
                if len(out) == limit:
                    return EventPage(out, _cursor(row))
            if len(rows) < chunk or last is None:
                return EventPage(out, None)
            after = (last.time, last.id)
