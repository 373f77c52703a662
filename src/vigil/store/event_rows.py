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

import orjson
from sqlalchemy import Connection, insert

from vigil.events.envelope import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    VIGIL_SOURCE,
    detail_type_of_kind,
    format_time,
)
from vigil.store.columns import sqlite_text
from vigil.store.models import Event

__all__ = ["EXTERNAL_KIND", "envelope_of", "insert_events"]

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


_JSON_COLUMNS = frozenset(("detail", "resources", "extra"))
_TIME_COLUMNS = frozenset(("time", "created_at", "received_at", "published_at"))


def _sqlite_value(column: str, value: Any) -> Any:
    """``value`` as SQLAlchemy binds it on SQLite: JSON as text (``None`` as JSON ``null``,
    SQLAlchemy's default for a JSON column), an aware datetime as its UTC text."""
    if column in _JSON_COLUMNS:
        return orjson.dumps(value).decode()
    if column in _TIME_COLUMNS and value is not None:
        return sqlite_text(value)
    return value


def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert event rows (dicts of every column of ``events``) in one statement. On SQLite the
    driver's ``executemany`` takes the values as SQLAlchemy would bind them, without its
    per-value type processing (most of an ingestion's time; tests/test_events_rows.py checks
    that these rows read back as the ORM's); elsewhere SQLAlchemy's Core insert."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(Event), rows)
        return
    columns = [c.name for c in Event.__table__.columns]
    sql = (f"INSERT INTO events ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' * len(columns))})")
    conn.exec_driver_sql(
        sql, [tuple(_sqlite_value(c, row.get(c)) for c in columns) for row in rows]
    )
