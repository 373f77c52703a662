"""``rate(N minutes|hours|days)`` schedules, anchored to the Unix epoch, and ``NOW``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from vigil.errors import ConfigError
from vigil.schedule.expression import EPOCH, ScheduleExpression, _utc

_RATE_BODY_RE = re.compile(r"^\s*(?P<value>[+-]?\d+)\s+(?P<unit>[A-Za-z]+)\s*$")
_RATE_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
MAX_INTERVAL = timedelta(days=3650)
"""The longest rate (about ten years): fire times and windows stay well inside datetime's range."""



@dataclass(frozen=True)
class RateSchedule(ScheduleExpression):
    """``rate(N unit)``: every ``interval``, on multiples of it counted from the Unix epoch.

    >>> from vigil.schedule import parse_schedule
    >>> s = parse_schedule("rate(5 minutes)")
    >>> s.next_after(datetime(2024, 3, 10, 1, 59, 30)).isoformat()
    '2024-03-10T02:00:00+00:00'
    >>> s.period(datetime(2024, 3, 10, 2, 0))
    datetime.timedelta(seconds=300)
    """

    expression: str
    interval: timedelta

    def next_after(self, t: datetime) -> datetime:
        """The first multiple of the interval (from the epoch) strictly after ``t``."""
        k = (_utc(t) - EPOCH) // self.interval
        return EPOCH + (k + 1) * self.interval

    def previous_before(self, t: datetime) -> datetime:
        """The last multiple of the interval (from the epoch) strictly before ``t``."""
        t = _utc(t)
        k = (t - EPOCH) // self.interval
        fire = EPOCH + k * self.interval
        return fire - self.interval if fire == t else fire

    def fires_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every multiple of the interval in ``(start, end]``, lazily."""
        end = _utc(end)
        t = self.next_after(start)
        while t <= end:
            yield t
            t += self.interval

    def period(self, at: datetime) -> timedelta:
        """The rate itself."""
        return self.interval


@dataclass(frozen=True)
class OneTimeSchedule(ScheduleExpression):
    """``NOW``: a single run. Its window needs explicit offsets (``window_for``).

    ``at`` pins the single run to a time (the creation time of the schedule, given to
    :func:`parse_schedule` as ``now``); unpinned, the schedule reports no fire time and the
    caller starts the run itself.

    >>> from vigil.schedule import parse_schedule
    >>> s = parse_schedule("NOW", now=datetime(2024, 3, 10, 12, 0))
    >>> s.next_after(datetime(2024, 3, 10, 11, 0)).isoformat()
    '2024-03-10T12:00:00+00:00'
    >>> s.next_after(datetime(2024, 3, 10, 12, 0)) is None
    True
    """

    expression: str = "NOW"
    at: datetime | None = None

    @property
    def is_one_time(self) -> bool:
        """Always True."""
        return True

    def next_after(self, t: datetime) -> datetime | None:
        """The pinned run time if it lies after ``t``, else None (the single run is done)."""
        if self.at is not None and self.at > _utc(t):
            return self.at
        return None

    def previous_before(self, t: datetime) -> datetime | None:
        """The pinned run time if it lies before ``t``."""
        if self.at is not None and self.at < _utc(t):
            return self.at
        return None

    def period(self, at: datetime) -> timedelta:
        """A one-time schedule has no period: always a ConfigError."""
        raise ConfigError(
            f"{self.expression}: a one-time schedule has no period; "
            "give explicit window offsets such as start -PT1H and end -PT0H"
        )



def parse_rate(text: str, body: str) -> RateSchedule:
    m = _RATE_BODY_RE.match(body)
    if not m:
        raise ConfigError(f"{text}: expected rate(N minutes|hours|days), such as rate(5 minutes)")
    value = int(m.group("value"))
    unit = m.group("unit").lower()
    base = unit[:-1] if unit.endswith("s") else unit
    if base in ("second", "sec", "s"):
        raise ConfigError(f"{text}: the shortest cadence is one minute, as in rate(1 minute)")
    if base not in _RATE_UNITS:
        raise ConfigError(
            f"{text}: unknown unit {m.group('unit')!r}; expected minute(s), hour(s) or day(s)"
        )
    if value < 1:
        raise ConfigError(f"{text}: the value must be a whole number of at least 1")
    limit = MAX_INTERVAL // _RATE_UNITS[base]
    if value > limit:
        raise ConfigError(
            f"{text}: the value must be at most {limit} {base}s"
            + ("" if base == "day" else f" ({MAX_INTERVAL.days} days)")
        )
    plural = unit.endswith("s")
    if value == 1 and plural:
        raise ConfigError(f"{text}: use the singular unit with 1, as in rate(1 {base})")
    if value > 1 and not plural:
        raise ConfigError(f"{text}: use the plural unit above 1, as in rate({value} {base}s)")
    return RateSchedule(expression=text, interval=value * _RATE_UNITS[base])


