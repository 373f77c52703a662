"""Inference times as aware UTC datetimes within the range a capture may have.

Every writer files a record under the UTC hour of its ``inferenceTime`` (offsets and ``Z``
honoured, a time without an offset taken as UTC), which is the hour the window readers look
in. Times before 1970 or from year 9999 on are refused: they are mistakes, and hour and
window arithmetic around them would leave datetime's range.

>>> utc_inference_time("2024-05-01T14:30:00+05:00", "inferenceTime").isoformat()
'2024-05-01T09:30:00+00:00'
>>> utc_inference_time("0001-01-01T00:30:00+05:00", "inferenceTime")
Traceback (most recent call last):
...
vigil.errors.InputError: [input_error] inferenceTime '0001-01-01T00:30:00+05:00': out of range; expected a time from 1970-01-01T00:00:00Z to before 9999-01-01T00:00:00Z
"""  # noqa: E501

from __future__ import annotations

from datetime import datetime, timezone

from vigil.errors import InputError
from vigil.io.capture import parse_time

UTC = timezone.utc
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest inference time accepted."""
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
"""Inference times must lie before this."""


def utc_inference_time(value: str | datetime, field: str) -> datetime:
    """``value`` (ISO-8601 text or a datetime) as an aware UTC datetime; ``InputError``
    naming ``field`` when it is not a time or lies outside [1970, 9999)."""
    try:
        if isinstance(value, str):
            t = parse_time(value)
        elif value.tzinfo is None or value.utcoffset() is None:
            t = value.replace(tzinfo=UTC)
        else:
            t = value.astimezone(UTC)
    except InputError:
        raise InputError(
            f"{field} {value!r}: expected an ISO-8601 time such as 2024-05-01T14:30:00Z"
        ) from None
    except (OverflowError, ValueError):
        raise _out_of_range(value, field) from None
    if not EARLIEST <= t < LATEST:
        raise _out_of_range(value, field)
    return t


def _out_of_range(value: str | datetime, field: str) -> InputError:
    """The error for a time outside [1970, 9999) (built only when one is refused: this runs
    for every captured record)."""
    shown = value if isinstance(value, str) else value.isoformat()
    return InputError(
        f"{field} {shown!r}: out of range; "
        "expected a time from 1970-01-01T00:00:00Z to before 9999-01-01T00:00:00Z"
    )
