"""Claiming the events not dispatched yet: read them back and mark them dispatched, in one
transaction, as fast as the database allows (the dispatcher's share of event ingestion).

On SQLite the read and the marks go through the driver directly (``exec_driver_sql``): the
JSON columns decoded by orjson (the stdlib decoder for what orjson refuses, ``NaN``...) and
the timestamps parsed as SQLAlchemy stores them (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC):
SQLAlchemy's result processing took most of the dispatcher's time (1.45 s against 0.8 s for
20,000 events, bench/bench_events.py's app path). Other databases
take the plain Core path. Either way the rows read the same to
:func:`~vigil.store.event_rows.envelope_of`.

>>> from vigil.store.db import Database
>>> db = Database("sqlite://"); db.create_all()
>>> with db.session() as s:
...     s.add(Event(id="e1", kind="concept_drift", time=utcnow(),
...                 detail={"p": float("nan"), "ok": True}))
>>> [row] = claim_pending(db, 10)
>>> row.id, row.kind, row.detail["ok"], row.time.tzinfo is not None, claim_pending(db, 10)
('e1', 'concept_drift', True, True, [])
"""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

import orjson
from sqlalchemy import JSON, DateTime, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from vigil.store.columns import UTC, sqlite_text, utcnow
from vigil.store.db import Database
from vigil.store.models import DispatchedEvent, Event

_EVENTS = cast(Table, Event.__table__)
_DISPATCHED = cast(Table, DispatchedEvent.__table__)


def _json(text: Any) -> Any:
    if not isinstance(text, (str, bytes)):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _time(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _converter(column: Any) -> Any:
    kind = getattr(column.type, "impl", column.type)
    if isinstance(kind, JSON):
        return _json
    if isinstance(kind, DateTime):
        return _time
    return None


_CONVERTERS = {c.name: f for c in _EVENTS.columns if (f := _converter(c)) is not None}


def claim_pending(db: Database, limit: int) -> list[Any]:
    """The oldest ``limit`` events not dispatched yet, oldest first, as rows (objects with
    the events table's columns as attributes), marked dispatched in the same transaction."""
    if db.dialect == "sqlite":
        return _claim_sqlite(db, limit)
    done = select(DispatchedEvent.event_id)
    with db.session() as s:
        events = list(
            s.execute(
                select(_EVENTS).where(_EVENTS.c.id.not_in(done))
                .order_by(_EVENTS.c.created_at).limit(limit)
            )
        )
        if events:  # another worker may claim some first: keep only what this one marked
            marked = s.execute(
                pg_insert(_DISPATCHED)
                .values([{"event_id": e.id} for e in events])
                .on_conflict_do_nothing(index_elements=["event_id"])
                .returning(_DISPATCHED.c.event_id)
            )
            mine = {row[0] for row in marked}
            events = [e for e in events if e.id in mine]
    return events


def _claim_sqlite(db: Database, limit: int) -> list[Any]:
    quote = db.engine.dialect.identifier_preparer.quote
    names = [c.name for c in _EVENTS.columns]
    events_sql, id_sql = quote(_EVENTS.name), quote("id")
    read = (
        f"SELECT {', '.join(quote(n) for n in names)} FROM {events_sql} "
        f"WHERE {id_sql} NOT IN (SELECT {quote('event_id')} FROM {quote(_DISPATCHED.name)}) "
        f"ORDER BY {quote('created_at')} LIMIT ?"
    )
    mark = (  # OR IGNORE: an event another connection claimed since the read stays its own
        f"INSERT OR IGNORE INTO {quote(_DISPATCHED.name)} ({quote('event_id')}, "
        f"{quote('dispatched_at')}) VALUES (?, ?)"
    )
    with db.session() as s:
        conn = s.connection()
        raw = conn.exec_driver_sql(read, (limit,)).fetchall()
        events: list[Any] = []
        for values in raw:
            row = dict(zip(names, values, strict=True))
            for name, convert in _CONVERTERS.items():
                row[name] = convert(row[name])
            events.append(SimpleNamespace(**row))
        if events:
            now = sqlite_text(utcnow())  # as SQLAlchemy stores it
            events = [e for e in events if conn.exec_driver_sql(mark, (e.id, now)).rowcount == 1]
    return events
