"""Parse a schedule expression: when a monitor runs and which window of capture it reads.

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

>>> from datetime import timezone
>>> s = parse_schedule("cron(0 */6 ? * MON-FRI *)")
>>> s.next_after(datetime(2024, 3, 10, 1, 59, 30, tzinfo=timezone.utc)).isoformat()
'2024-03-11T00:00:00+00:00'
>>> from vigil.schedule.window import window_for
>>> window_for("rate(1 hour)", datetime(2024, 3, 11, 6, 0, tzinfo=timezone.utc))[0].isoformat()
'2024-03-11T05:00:00+00:00'
"""

from __future__ import annotations

import re
from datetime import datetime

from vigil.errors import ConfigError
from vigil.schedule.cron import _EXPECTED, parse_aws_cron, parse_standard_cron
from vigil.schedule.expression import ScheduleExpression, _utc
from vigil.schedule.rate import OneTimeSchedule, parse_rate

_CRON_RE = re.compile(r"^cron\((?P<body>.*)\)$", re.IGNORECASE | re.DOTALL)
_RATE_RE = re.compile(r"^rate\((?P<body>.*)\)$", re.IGNORECASE | re.DOTALL)


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
        return parse_rate(text, m.group("body"))
    m = _CRON_RE.match(text)
    if m:
        return parse_aws_cron(text, m.group("body"))
    return parse_standard_cron(text)


