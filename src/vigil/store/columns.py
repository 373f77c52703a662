"""Column types shared by the models: timestamps that are always timezone-aware UTC.

PostgreSQL stores them as ``timestamp with time zone``; SQLite as SQLAlchemy's fixed-width
text (``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC), so text order is time order and range filters
use the index on both.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from vigil.errors import InputError

UTC = timezone.utc


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime, field: str = "timestamp") -> datetime:
    """``value`` converted to UTC; a naive datetime is refused, since its zone is unknown.

    >>> from datetime import timedelta
    >>> as_utc(datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))).isoformat()
    '2024-05-01T10:00:00+00:00'
    >>> as_utc(datetime(2024, 5, 1), "start")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vigil.errors.InputError: [input_error] start: expected a timezone-aware datetime, got naive ...
    """
    if not isinstance(value, datetime):
        raise InputError(f"{field}: expected a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(f"{field}: expected a timezone-aware datetime, got naive {value}")
    return value.astimezone(UTC)


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
