"""The lifecycle of an execution: claimed once, finished once with its event and figures.

:func:`claim` creates the ``InProgress`` execution of a (schedule, window) unless some worker
has it already; :func:`finish` ends it with its status and counts, records an
``execution_completed`` event and emits the status figures
(:func:`~vigil.metrics.contract.execution_status`), before the event so that whoever reacts
to it finds them. Every figure of an execution is stamped at its window's start
(:func:`figure_time`). An
execution stopped (or recovered) meanwhile keeps the status it was given then.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from vigil.capture.window import Window
from vigil.errors import VigilError
from vigil.monitor.emission import execution_status_data
from vigil.monitor.runtime import Runtime
from vigil.schedule import parse_schedule
from vigil.store.errors import LeaseLostError
from vigil.store.executions import claim_execution, claim_rerun, finish_execution, get_execution
from vigil.store.models import Event, Execution, ExecutionStatus, Schedule

__all__ = [
    "COMPLETED",
    "COMPLETED_WITH_VIOLATIONS",
    "FAILED",
    "claim",
    "claim_again",
    "fail_empty",
    "figure_time",
    "finish",
    "outcome",
]

log = logging.getLogger(__name__)

COMPLETED = ExecutionStatus.COMPLETED.value
COMPLETED_WITH_VIOLATIONS = ExecutionStatus.COMPLETED_WITH_VIOLATIONS.value
FAILED = ExecutionStatus.FAILED.value


def claim(
    rt: Runtime, schedule: Schedule, scheduled_time: datetime, window: tuple[datetime, datetime]
) -> Execution | None:
    """The new ``InProgress`` execution of ``schedule`` over ``window``, leased to this
    worker, or None when some worker has claimed it already."""
    start, end = window
    ex = claim_execution(
        rt.db,
        schedule.name,
        schedule.endpoint_name,
        scheduled_time,
        start,
        end,
        rt.owner,
        rt.settings.lease_seconds,
    )
    if ex is not None:
        log.info("execution started", extra={"execution": ex.id, "schedule": ex.schedule_name})
    return ex


def claim_again(rt: Runtime, interrupted: Execution) -> Execution | None:
    """The next attempt of an interrupted execution, or None when another worker has it."""
    return claim_rerun(rt.db, interrupted, rt.owner, rt.settings.lease_seconds)


def figure_time(schedule: Schedule | None, ex: Execution) -> datetime:
    """The time an execution's figures are stamped at: the start of the schedule's period
    that the execution closes (``scheduled - period``; for the default window, the window's
    start; for a one-time schedule, the window's start). A figure thus lands in the period it
    describes, and an alarm whose period is the schedule's evaluates that period as soon as
    the execution ends: the run at 16:00 over [15:00, 16:00) writes at 15:00, in the period
    [15:00, 16:00), complete at 16:00."""
    if schedule is not None:
        try:
            expression = parse_schedule(schedule.expression)
            if not expression.is_one_time:
                return ex.scheduled_time - expression.period(ex.scheduled_time)
        except (VigilError, ValueError):  # an expression that no longer parses: the window tells
            pass
    return ex.window_start


def outcome(violations: int) -> str:
    """The status of an execution that ran to the end with ``violations`` violations."""
    return COMPLETED_WITH_VIOLATIONS if violations else COMPLETED


def finish(rt: Runtime, ex: Execution, status: str, reason: str | None, **counts: Any) -> Execution:
    """End ``ex`` with ``status`` (and ``reason``, counts); record its event and status
    figures. An execution this worker no longer owns is returned as it stands."""
    try:
        done = finish_execution(rt.db, ex.id, status, reason, owner=rt.owner, **counts)
    except LeaseLostError:  # stopped (or recovered) meanwhile: that status stands
        log.info("execution %s was stopped before it finished", ex.id)
        return get_execution(rt.db, ex.id)
    with rt.db.session() as s:
        schedule = s.get(Schedule, ex.schedule_name)
    # the figures first, then the event: whoever reacts to the event finds them
    rt.metrics.put(
        execution_status_data(
            status, ex.endpoint_name, ex.schedule_name, figure_time(schedule, ex)
        )
    )
    with rt.db.session() as s:
        s.add(
            Event(
                kind="execution_completed",
                endpoint_name=ex.endpoint_name,
                schedule_name=ex.schedule_name,
                time=ex.scheduled_time,
                detail={
                    "execution_id": ex.id,
                    "status": status,
                    "failure_reason": reason,
                    "violation_count": counts.get("violation_count"),
                },
            )
        )
    fields = {"execution": ex.id, "schedule": ex.schedule_name, "status": status, "reason": reason}
    (log.warning if status == FAILED else log.info)("execution ended %s", status, extra=fields)
    return done


def fail_empty(rt: Runtime, ex: Execution, window: Window) -> Execution:
    """Fail an execution whose window holds no record, saying where and what was read."""
    return finish(
        rt, ex, FAILED, window.empty_reason(), records_read=0, records_skipped=window.bad.count
    )
