"""Column types shared by the models: timestamps that are always timezone-aware UTC.

PostgreSQL stores them as ``timestamp with time zone``; SQLite as SQLAlchemy's fixed-width
text (``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC), so text order is time order and range filters
use the index on both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from vigil.metrics.datum import UTC, as_utc

__all__ = ["UTC", "UTCDateTime", "as_utc", "sqlite_text", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def sqlite_text(timestamp: datetime) -> str:
    """An aware datetime as :class:`UTCDateTime` stores it on SQLite, for the writers that
    bind values to the driver themselves (the metric store, the event bus, the dispatcher):
    its UTC ISO form cut before the offset, at a fraction of SQLAlchemy's converter's cost.

    >>> from datetime import timedelta, timezone
    >>> sqlite_text(datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    '2024-05-01 12:00:00.000000'
    """
    return as_utc(timestamp).isoformat(" ", "microseconds")[:26]


class UTCDateTime(TypeDecorator[datetime]):
    """A ``DateTime`` that takes and returns timezone-aware UTC datetimes on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
