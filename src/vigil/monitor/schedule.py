"""Schedule expressions: when a monitor runs and which window of capture it reads.

Four forms are accepted, all evaluated in UTC:

- ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``: the AWS (EventBridge,
  SageMaker Model Monitor) six-field form. One of day-of-month and day-of-week must be ``?``.
  Day-of-week counts **1=SUN .. 7=SAT** (standard cron counts 0=SUN .. 6=SAT, 7=SUN);
  names ``SUN``..``SAT`` and ``JAN``..``DEC`` work in either. ``L`` (last day of the month in
  day-of-month; Saturday alone in day-of-week, ``6L`` the last Friday of the month), ``15W``
  (the weekday nearest the 15th) and ``2#1`` (the first Monday) are supported. Years run
  1970-2099 (AWS allows up to 2199; croniter, which does the matching, stops at 2099).
- a standard five-field cron string such as ``*/5 * * * *`` (Vixie semantics: day-of-week
  0-7 with 0 and 7 both Sunday; when day-of-month and day-of-week are both restricted, a day
  matching either one fires), and the nicknames ``@hourly``, ``@daily``, ``@weekly``,
  ``@monthly``, ``@yearly``.
- ``rate(N minutes|hours|days)``, singular unit only with ``1`` as AWS requires. Rates are
  anchored to the Unix epoch (1970-01-01T00:00Z): ``rate(5 minutes)`` fires at :00, :05, ...,
  ``rate(2 hours)`` at even UTC hours, ``rate(1 day)`` at midnight UTC. The shortest cadence
  is one minute.
- ``NOW``: one run, as SageMaker's one-time schedules; its window needs explicit offsets.

Windows default to the previous period, ``[scheduled - period, scheduled)``; offsets are
ISO-8601 durations relative to the scheduled time (``-PT1H``, ``-PT0H``).

>>> s = parse_schedule("cron(0 */6 ? * MON-FRI *)")
>>> s.next_after(datetime(2024, 3, 10, 1, 59, 30, tzinfo=timezone.utc)).isoformat()
'2024-03-11T00:00:00+00:00'
>>> window_for("rate(1 hour)", datetime(2024, 3, 11, 6, 0, tzinfo=timezone.utc))[0].isoformat()
'2024-03-11T05:00:00+00:00'
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from croniter import CroniterBadDateError, CroniterError, croniter

from vigil.errors import ConfigError

__all__ = [
    "EPOCH",
    "CronSchedule",
    "OneTimeSchedule",
    "RateSchedule",
    "ScheduleExpression",
    "parse_offset",
    "parse_schedule",
    "window_for",
]

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The anchor of every ``rate(...)`` schedule."""

# croniter searches at most this many years between two fire times; it covers its whole
# 1970-2099 year range, so "no match" means "never again" rather than "not soon".
_MAX_YEARS = 130
_CRONITER_MAX_YEAR = 2099
_AWS_MAX_YEAR = 2199

_DOW_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_NICKNAMES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_AWS_FORM = "cron(Minutes Hours Day-of-month Month Day-of-week Year)"
_EXPECTED = (
    f"expected {_AWS_FORM}, a five-field cron such as '*/5 * * * *', "
    "rate(N minutes|hours|days) or NOW"
)

_CRON_RE = re.compile(r"^cron\((?P<body>.*)\)$", re.IGNORECASE | re.DOTALL)
_RATE_RE = re.compile(r"^rate\((?P<body>.*)\)$", re.IGNORECASE | re.DOTALL)
_RATE_BODY_RE = re.compile(r"^\s*(?P<value>[+-]?\d+)\s+(?P<unit>[A-Za-z]+)\s*$")
_RATE_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
_ITEM_RE = re.compile(
    r"^(?:(?P<star>\*)|(?P<a>[0-9A-Za-z]+)(?:-(?P<b>[0-9A-Za-z]+))?)(?:/(?P<step>\d+))?$"
)
_HASHED_RE = re.compile(r"^[hr](?:\(.*\))?(?:/\d+)?$", re.IGNORECASE)


def _utc(t: datetime) -> datetime:
    """``t`` as an aware UTC datetime; a naive datetime is taken to be UTC already."""
    if t.tzinfo is None or t.utcoffset() is None:
        return t.replace(tzinfo=UTC)
    return t.astimezone(UTC)


class ScheduleExpression(ABC):
    """A parsed schedule: the fire times of a monitor, in UTC.

    Every method takes aware or naive datetimes (naive ones are read as UTC) and returns
    aware UTC datetimes.
    """

    expression: str

    @property
    def is_one_time(self) -> bool:
        """Whether the schedule fires once (``NOW``) rather than on a cadence."""
        return False

    @abstractmethod
    def next_after(self, t: datetime) -> datetime | None:
        """The first fire time strictly after ``t``; None when the schedule never fires again."""

    @abstractmethod
    def previous_before(self, t: datetime) -> datetime | None:
        """The last fire time strictly before ``t``; None when there is none."""

    def fires_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every fire time in ``(start, end]``, oldest first, produced lazily.

        For catching up missed runs and backfills; cap with ``itertools.islice`` when the
        range may be long.
        """
        end = _utc(end)
        t = self.next_after(start)
        while t is not None and t <= end:
            yield t
            t = self.next_after(t)

    def period(self, at: datetime) -> timedelta:
        """The length of the default window of a run at ``at``: the time since the previous fire.

        For ``rate(...)`` it is the rate. For cron it is ``at`` minus the last fire time
        before ``at`` (at a fire time: the gap between consecutive runs). When the schedule
        has no earlier fire time (the first run of a cron limited by its year field), the gap
        to the next fire time is used instead.
        """
        at = _utc(at)
        prev = self.previous_before(at)
        if prev is not None:
            return at - prev
        nxt = self.next_after(at)
        if nxt is not None:
            return nxt - at
        raise ConfigError(
            f"{self.expression}: fires only once, so it has no period; give explicit window offsets"
        )

    def __str__(self) -> str:
        return self.expression


@dataclass(frozen=True)
class CronSchedule(ScheduleExpression):
    """A cron schedule, AWS six-field or standard five-field.

    ``croniter_expression`` is what croniter evaluates: for the AWS form it is a seven-field
    croniter string (seconds fixed at 0, day-of-week renumbered to 0=SUN, ``?`` as ``*``).

    >>> s = parse_schedule("cron(0 12 ? * 2 *)")  # AWS: 2 = Monday
    >>> s.croniter_expression
    '0 12 * * 1 0 *'
    >>> s.next_after(datetime(2024, 3, 10, 1, 59, 30)).strftime("%a %Y-%m-%d %H:%M")
    'Mon 2024-03-11 12:00'
    >>> parse_schedule("0 12 * * 2").next_after(datetime(2024, 3, 10)).strftime("%a %d")
    'Tue 12'
    """

    expression: str
    croniter_expression: str
    aws: bool

    def _iter(self, t: datetime) -> croniter:
        return croniter(
            self.croniter_expression,
            _utc(t),
            ret_type=datetime,
            day_or=True,  # Vixie cron; the AWS form always has one day field at '*'
            max_years_between_matches=_MAX_YEARS,
        )

    def next_after(self, t: datetime) -> datetime | None:
        """The first fire time strictly after ``t`` (None past the last year of the year field)."""
        try:
            return _utc(self._iter(t).get_next())
        except CroniterBadDateError:
            return None

    def previous_before(self, t: datetime) -> datetime | None:
        """The last fire time strictly before ``t``."""
        try:
            return _utc(self._iter(t).get_prev())
        except CroniterBadDateError:
            return None

    def fires_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every fire time in ``(start, end]``, oldest first, lazily (one croniter walk).

        >>> s = parse_schedule("cron(0 0/8 ? * * *)")
        >>> [t.hour for t in s.fires_between(datetime(2024, 3, 10), datetime(2024, 3, 11))]
        [8, 16, 0]
        """
        end = _utc(end)
        it = self._iter(start)
        while True:
            try:
                t = _utc(it.get_next())
            except CroniterBadDateError:
                return
            if t > end:
                return
            yield t


@dataclass(frozen=True)
class RateSchedule(ScheduleExpression):
    """``rate(N unit)``: every ``interval``, on multiples of it counted from the Unix epoch.

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


def parse_schedule(expression: str, *, now: datetime | None = None) -> ScheduleExpression:
    """Parse a schedule expression; ``now`` pins the single run of ``NOW`` (ignored otherwise).

    >>> parse_schedule("cron(0 * ? * * *)").next_after(datetime(2024, 3, 10, 1, 59, 30)).hour
    2
    >>> parse_schedule("rate(1 minutes)")
    Traceback (most recent call last):
    ...
    vigil.errors.ConfigError: [config_error] rate(1 minutes): use the singular unit with 1, as in rate(1 minute)
    """  # noqa: E501
    if not isinstance(expression, str):
        raise ConfigError(f"{expression!r}: a schedule expression must be a string; {_EXPECTED}")
    text = expression.strip()
    if not text:
        raise ConfigError(f"empty schedule expression; {_EXPECTED}")
    if text.upper() == "NOW":
        return OneTimeSchedule(expression=text, at=None if now is None else _utc(now))
    m = _RATE_RE.match(text)
    if m:
        return _parse_rate(text, m.group("body"))
    m = _CRON_RE.match(text)
    if m:
        return _parse_aws_cron(text, m.group("body"))
    return _parse_standard_cron(text)


# --- rate(...) ------------------------------------------------------------------------------


def _parse_rate(text: str, body: str) -> RateSchedule:
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
    plural = unit.endswith("s")
    if value == 1 and plural:
        raise ConfigError(f"{text}: use the singular unit with 1, as in rate(1 {base})")
    if value > 1 and not plural:
        raise ConfigError(f"{text}: use the plural unit above 1, as in rate({value} {base}s)")
    return RateSchedule(expression=text, interval=value * _RATE_UNITS[base])


# --- cron -----------------------------------------------------------------------------------


def _value(text: str, field_name: str, raw: str, lo: int, hi: int, names: tuple[str, ...]) -> int:
    """One value of a cron field as a number (names map to ``lo + index``)."""
    if raw.isdigit():
        v = int(raw)
        if not lo <= v <= hi:
            raise ConfigError(f"{text}: {field_name} value {raw} is outside {lo}-{hi}")
        return v
    up = raw.upper()
    if up in names:
        return lo + names.index(up)
    allowed = f"{lo}-{hi}" + (f" or {names[0]}-{names[-1]}" if names else "")
    raise ConfigError(f"{text}: {field_name} value {raw!r} is not {allowed}")


def _aws_field(
    text: str,
    field_name: str,
    spec: str,
    lo: int,
    hi: int,
    names: tuple[str, ...] = (),
    shift: int = 0,
) -> str:
    """Check one AWS cron field (lists, ranges, steps) and renumber it by ``shift``."""
    out = []
    for item in spec.split(","):
        m = _ITEM_RE.match(item)
        if not m:
            raise ConfigError(
                f"{text}: {field_name} item {item!r} is not a value, range, step or '*'"
            )
        step = m.group("step")
        if step is not None and int(step) < 1:
            raise ConfigError(f"{text}: {field_name} step in {item!r} must be at least 1")
        if m.group("star"):
            base = "*"
        else:
            a = _value(text, field_name, m.group("a"), lo, hi, names) + shift
            base = str(a)
            if m.group("b") is not None:
                b = _value(text, field_name, m.group("b"), lo, hi, names) + shift
                base = f"{a}-{b}"
        out.append(base if step is None else f"{base}/{step}")
    return ",".join(out)


def _aws_day_of_month(text: str, spec: str) -> str:
    if spec == "?":
        return "*"
    up = spec.upper()
    if up == "L":
        return "l"
    m = re.fullmatch(r"(\d+)W", up)
    if m:
        _value(text, "day-of-month", m.group(1), 1, 31, ())
        return f"{int(m.group(1))}w"
    if "L" in up or "W" in up:
        raise ConfigError(
            f"{text}: day-of-month {spec!r}: 'L' and 'W' stand alone ('L', '15W'), "
            "not in lists or ranges"
        )
    return _aws_field(text, "day-of-month", spec, 1, 31)


def _aws_day_of_week(text: str, spec: str) -> str:
    """AWS day-of-week (1=SUN..7=SAT) as croniter's (0=SUN..6=SAT)."""
    if spec == "?":
        return "*"
    up = spec.upper()
    if up == "L":  # the last day of the week
        return "6"
    out = []
    for item in up.split(","):
        m = re.fullmatch(r"([0-9A-Z]+)#(\d)", item)
        if m:
            day = _value(text, "day-of-week", m.group(1), 1, 7, _DOW_NAMES) - 1
            nth = int(m.group(2))
            if not 1 <= nth <= 5:
                raise ConfigError(f"{text}: day-of-week {item!r}: the week number must be 1-5")
            out.append(f"{day}#{nth}")
            continue
        m = re.fullmatch(r"([0-9A-Z]+)L", item)
        if m:
            day = _value(text, "day-of-week", m.group(1), 1, 7, _DOW_NAMES) - 1
            out.append(f"l{day}")
            continue
        out.append(_aws_field(text, "day-of-week", item, 1, 7, _DOW_NAMES, shift=-1))
    return ",".join(out)


def _check_fires(text: str, expr: str) -> None:
    """Reject an expression croniter cannot read or that never fires between 1970 and 2099."""
    try:
        it = croniter(
            expr,
            datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
            ret_type=datetime,
            max_years_between_matches=_MAX_YEARS,
        )
    except CroniterError as e:
        raise ConfigError(f"{text}: not a valid cron expression ({e})") from None
    try:
        it.get_next()
    except CroniterBadDateError:
        raise ConfigError(f"{text}: never fires (no such date between 1970 and 2099)") from None


def _parse_aws_cron(text: str, body: str) -> CronSchedule:
    parts = body.split()
    if len(parts) != 6:
        raise ConfigError(
            f"{text}: AWS cron needs six fields, {_AWS_FORM}; found {len(parts)}"
            + ("; for a five-field cron drop 'cron(...)'" if len(parts) == 5 else "")
        )
    minute, hour, dom, month, dow, year = parts
    if (dom == "?") == (dow == "?"):
        raise ConfigError(
            f"{text}: AWS cron needs '?' in day-of-month or day-of-week"
            + (" (exactly one of them)" if dom == "?" else "")
        )
    for name, spec in (("minutes", minute), ("hours", hour), ("month", month), ("year", year)):
        if "?" in spec:
            raise ConfigError(f"{text}: '?' is only allowed in day-of-month or day-of-week")
        if spec.upper() != spec.lower() and name != "month":
            raise ConfigError(f"{text}: {name} {spec!r} takes numbers only")
    year_spec = _aws_field(text, "year", year, 1970, _AWS_MAX_YEAR)
    for item in year_spec.split(","):
        for n in re.findall(r"\d+", item.split("/")[0]):
            if int(n) > _CRONITER_MAX_YEAR:
                raise ConfigError(
                    f"{text}: years after {_CRONITER_MAX_YEAR} are not supported (found {n})"
                )
    fields = [
        _aws_field(text, "minutes", minute, 0, 59),
        _aws_field(text, "hours", hour, 0, 23),
        _aws_day_of_month(text, dom),
        _aws_field(text, "month", month, 1, 12, _MONTH_NAMES),
        _aws_day_of_week(text, dow),
        "0",
        year_spec,
    ]
    expr = " ".join(fields)
    _check_fires(text, expr)
    return CronSchedule(expression=text, croniter_expression=expr, aws=True)


def _parse_standard_cron(text: str) -> CronSchedule:
    expr = _NICKNAMES.get(text.lower(), text)
    if expr.startswith("@"):
        raise ConfigError(f"{text}: unknown nickname; expected one of {', '.join(_NICKNAMES)}")
    parts = expr.split()
    if len(parts) != 5:
        if len(parts) == 6:
            raise ConfigError(f"{text}: six fields are the AWS form; write it as cron({text})")
        raise ConfigError(f"{text}: {_EXPECTED}")
    for item in ",".join(parts).split(","):
        if _HASHED_RE.match(item):
            raise ConfigError(f"{text}: hashed or random values ('H', 'R') are not supported")
    _check_fires(text, expr)
    return CronSchedule(expression=text, croniter_expression=expr, aws=False)


# --- offsets and windows --------------------------------------------------------------------

_OFFSET_RE = re.compile(
    r"^(?P<sign>[+-])?P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)


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
    seconds = float(g["seconds"].replace(",", ".")) if g["seconds"] else 0.0
    delta = timedelta(
        weeks=int(g["weeks"] or 0),
        days=int(g["days"] or 0),
        hours=int(g["hours"] or 0),
        minutes=int(g["minutes"] or 0),
        seconds=seconds,
    )
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
