"""Windows: which span of capture a run reads, from ISO-8601 offsets or the previous period."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from vigil.errors import ConfigError
from vigil.schedule.expression import ScheduleExpression, _utc
from vigil.schedule.parse import parse_schedule

_OFFSET_RE = re.compile(
    r"^(?P<sign>[+-])?P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)

MAX_OFFSET = timedelta(days=3650)
"""The longest window offset (about ten years): windows stay inside datetime's range."""


def parse_offset(offset: str) -> timedelta:
    """An ISO-8601 duration with an optional sign as a timedelta.

    Days, weeks, hours, minutes and seconds are accepted; years and months are not, as they
    have no fixed length.

    >>> parse_offset("-PT1H") == -timedelta(hours=1)
    True
    >>> parse_offset("-PT0H")
    datetime.timedelta(0)
    >>> parse_offset("P1DT2H30M") == timedelta(days=1, hours=2, minutes=30)
    True
    >>> parse_offset("-P1M")
    Traceback (most recent call last):
    ...
    vigil.errors.ConfigError: [config_error] -P1M: years and months have no fixed length; use days (P30D) or hours
    """  # noqa: E501
    if not isinstance(offset, str):
        raise ConfigError(f"{offset!r}: an offset must be an ISO-8601 duration such as -PT1H")
    text = offset.strip()
    m = _OFFSET_RE.match(text.upper())
    if not m:
        date_part = text.upper().split("T", 1)[0]
        if re.search(r"\d(?:[.,]\d+)?[YM]", date_part):
            raise ConfigError(
                f"{text}: years and months have no fixed length; use days (P30D) or hours"
            )
        raise ConfigError(
            f"{text}: expected an ISO-8601 duration such as -PT1H, PT30M, -P1D or P1DT12H"
        )
    g = m.groupdict()
    too_long = ConfigError(f"{text}: an offset must be at most {MAX_OFFSET.days} days (P3650D)")
    try:
        seconds = float(g["seconds"].replace(",", ".")) if g["seconds"] else 0.0
        delta = timedelta(
            weeks=int(g["weeks"] or 0),
            days=int(g["days"] or 0),
            hours=int(g["hours"] or 0),
            minutes=int(g["minutes"] or 0),
            seconds=seconds,
        )
    except (OverflowError, ValueError):
        raise too_long from None
    if delta > MAX_OFFSET:
        raise too_long
    return -delta if g["sign"] == "-" else delta


def _as_offset(offset: str | timedelta) -> timedelta:
    return offset if isinstance(offset, timedelta) else parse_offset(offset)


def window_for(
    expression: str | ScheduleExpression,
    scheduled_time: datetime,
    start_offset: str | timedelta | None = None,
    end_offset: str | timedelta | None = None,
) -> tuple[datetime, datetime]:
    """The capture window ``[start, end)`` a run scheduled at ``scheduled_time`` reads.

    Without offsets it is the previous period, ``[scheduled - period, scheduled)``; an offset
    moves its end from the scheduled time (``end_offset``, default ``-PT0H``) or its start
    (``start_offset``, default minus one period). ``NOW`` needs both offsets.

    >>> from datetime import timezone
    >>> t = datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc)
    >>> [w.strftime("%H:%M") for w in window_for("cron(0 */6 ? * * *)", t)]
    ['06:00', '12:00']
    >>> [w.strftime("%H:%M") for w in window_for("NOW", t, "-PT2H", "-PT30M")]
    ['10:00', '11:30']
    """
    sched = expression if isinstance(expression, ScheduleExpression) else parse_schedule(expression)
    at = _utc(scheduled_time)
    if sched.is_one_time and (start_offset is None or end_offset is None):
        raise ConfigError(
            f"{sched.expression}: a one-time schedule needs both window offsets, "
            "such as start -PT1H and end -PT0H"
        )
    start = at + _as_offset(start_offset) if start_offset is not None else at - sched.period(at)
    end = at + _as_offset(end_offset) if end_offset is not None else at
    if start >= end:
        start_text = "one period back" if start_offset is None else str(start_offset)
        end_text = "-PT0H" if end_offset is None else str(end_offset)
        raise ConfigError(
            f"{sched.expression}: window start {start.isoformat()} (offset {start_text}) "
            f"is not before its end {end.isoformat()} (offset {end_text})"
        )
    return start, end
