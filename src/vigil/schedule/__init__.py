"""Schedule expressions: when a monitor runs and which window of capture it reads.

:func:`parse_schedule` takes the AWS six-field cron, a standard five-field cron,
``rate(...)`` or ``NOW`` (:mod:`~vigil.schedule.parse` says how each is read);
:func:`window_for` gives the window ``[start, end)`` a run reads (:mod:`~vigil.schedule.window`).
"""

from vigil.schedule.cron import CronSchedule
from vigil.schedule.expression import EPOCH, ScheduleExpression
from vigil.schedule.parse import parse_schedule
from vigil.schedule.rate import OneTimeSchedule, RateSchedule
from vigil.schedule.window import parse_offset, window_for

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
