"""Cron schedules: the AWS six-field form (EventBridge, SageMaker Model Monitor) and the
standard five-field form, evaluated by croniter in UTC.

AWS day-of-week counts **1=SUN .. 7=SAT**; ``L``, ``W`` and ``#`` are translated to
croniter's syntax, and every expression is checked to fire at least once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from croniter import CroniterBadDateError, CroniterError, croniter

from vigil.errors import ConfigError
from vigil.schedule.expression import UTC, ScheduleExpression, _utc

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

_ITEM_RE = re.compile(
    r"^(?:(?P<star>\*)|(?P<a>[0-9A-Za-z]+)(?:-(?P<b>[0-9A-Za-z]+))?)(?:/(?P<step>\d+))?$"
)
_HASHED_RE = re.compile(r"^[hr](?:\(.*\))?(?:/\d+)?$", re.IGNORECASE)



@dataclass(frozen=True)
class CronSchedule(ScheduleExpression):
    """A cron schedule, AWS six-field or standard five-field.

    ``croniter_expression`` is what croniter evaluates: for the AWS form it is a seven-field
    croniter string (seconds fixed at 0, day-of-week renumbered to 0=SUN, ``?`` as ``*``).

    >>> from vigil.schedule import parse_schedule
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

        >>> from vigil.schedule import parse_schedule
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


def parse_aws_cron(text: str, body: str) -> CronSchedule:
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


def parse_standard_cron(text: str) -> CronSchedule:
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


