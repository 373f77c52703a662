"""Window bounds: datetimes or ISO-8601 strings as aware UTC times, and back to ``...Z`` text.

>>> _utc("2024-05-01T10:00:00Z", "start").isoformat(), _iso(_utc(datetime(2024, 5, 1), "end"))
('2024-05-01T10:00:00+00:00', '2024-05-01T00:00:00Z')
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from vigil.errors import ConfigError
from vigil.io.capture import parse_time

UTC = timezone.utc
HOUR = timedelta(hours=1)


def _utc(value: datetime | str, name: str) -> datetime:
    if isinstance(value, str):
        try:
            return parse_time(value)
        except ValueError:
            raise ConfigError(f"{name} {value!r} is not an ISO-8601 time") from None
    if not isinstance(value, datetime):
        raise ConfigError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
