"""One monitoring execution: claim it, run the schedule's job, finish it.

:func:`run_scheduled` claims the execution of a (schedule, window) so that it runs once across
workers, and runs the job of the schedule's monitor type: data quality
(:mod:`vigil.monitor.data_quality`), model quality (:mod:`vigil.monitor.model_quality`), bias
drift (:mod:`vigil.monitor.bias`) or feature attribution drift
(:mod:`vigil.monitor.explainability`).
The claim and the run can happen in different processes: :func:`claim_scheduled` and
:func:`claim_rerun_of` only claim (cheap: one insert), and :func:`execute_claimed` runs a
claimed execution by its id, as a worker process of :mod:`vigil.app.pool` does.
A job that fails on purpose (bad configuration, a missing baseline, unreadable data) ends the
execution ``Failed`` with the error as its reason (:mod:`vigil.monitor.lifecycle`).

Outputs go where :mod:`vigil.store.artifacts` says.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from vigil.errors import VigilError
from vigil.monitor.bias import execute_model_bias
from vigil.monitor.data_quality import execute_data_quality
from vigil.monitor.explainability import execute_model_explainability
from vigil.monitor.lifecycle import FAILED, claim, claim_again, finish
from vigil.monitor.model_quality import execute_model_quality
from vigil.monitor.runtime import Runtime
from vigil.monitor.windows import execution_window
from vigil.store.columns import as_utc
from vigil.store.errors import NotFoundError
from vigil.store.models import BaselineRecord, Endpoint, Execution, Schedule

__all__ = ["claim_rerun_of", "claim_scheduled", "execute_claimed", "rerun", "run_scheduled"]

log = logging.getLogger(__name__)
#: the job of each monitor type (data quality for any other)
_JOBS = {
    "DataQuality": execute_data_quality,
    "ModelQuality": execute_model_quality,
    "ModelBias": execute_model_bias,
    "ModelExplainability": execute_model_explainability,
}


def run_scheduled(
    rt: Runtime,
    schedule_name: str,
    scheduled_time: datetime,
    *,
    window: tuple[datetime, datetime] | None = None,
    retry_failed: bool = False,
) -> Execution | None:
    """Run the execution of ``schedule_name`` at ``scheduled_time`` unless some worker has
    claimed it already (then None): each (schedule, window) runs exactly once. With
    ``retry_failed`` (a run asked for by hand) a window whose latest attempt ended ``Failed``
    runs again as the next attempt."""
    claimed = claim_scheduled(
        rt, schedule_name, scheduled_time, window=window, retry_failed=retry_failed
    )
    return None if claimed is None else _execute(rt, claimed[0], claimed[1])


def claim_scheduled(
    rt: Runtime,
    schedule_name: str,
    scheduled_time: datetime,
    *,
    window: tuple[datetime, datetime] | None = None,
    retry_failed: bool = False,
) -> tuple[Schedule, Execution] | None:
    """Claim (not run) the execution of ``schedule_name`` at ``scheduled_time``, as
    :func:`run_scheduled` does: the schedule and the new ``InProgress`` execution, or None
    when some worker has it already."""
    with rt.db.session() as s:
        schedule = s.get(Schedule, schedule_name)
        if schedule is None:
            raise NotFoundError(f"no schedule named {schedule_name!r}")
    bounds = window or execution_window(schedule, scheduled_time)
    claimed = claim(rt, schedule, scheduled_time, bounds)
    if claimed is None and retry_failed:
        latest = _latest_attempt(rt, schedule_name, bounds)
        if latest is not None and latest.status == FAILED:
            claimed = claim_again(rt, latest)
    return None if claimed is None else (schedule, claimed)


def claim_rerun_of(rt: Runtime, interrupted: Execution) -> Execution | None:
    """Claim (not run) the next attempt of an execution marked Failed (interrupted); None
    when its schedule is gone or another worker has the rerun."""
    with rt.db.session() as s:
        schedule = s.get(Schedule, interrupted.schedule_name)
    return None if schedule is None else claim_again(rt, interrupted)


def execute_claimed(rt: Runtime, execution_id: str) -> Execution:
    """Run the job of an execution claimed under ``rt.owner`` (by :func:`claim_scheduled`
    or :func:`claim_rerun_of`, maybe in another process) and finish it."""
    with rt.db.session() as s:
        ex = s.get(Execution, execution_id)
        schedule = s.get(Schedule, ex.schedule_name) if ex is not None else None
    if ex is None:
        raise NotFoundError(f"no execution has id {execution_id!r}")
    if schedule is None:
        return finish(rt, ex, FAILED, f"schedule {ex.schedule_name!r} does not exist")
    return _execute(rt, schedule, ex)


def _latest_attempt(
    rt: Runtime, schedule_name: str, window: tuple[datetime, datetime]
) -> Execution | None:
    start, end = (as_utc(t, "window") for t in window)
    with rt.db.session() as s:
        return s.scalars(
            select(Execution)
            .where(
                Execution.schedule_name == schedule_name,
                Execution.window_start == start,
                Execution.window_end == end,
            )
            .order_by(Execution.attempt.desc())
            .limit(1)
        ).first()


def rerun(rt: Runtime, interrupted: Execution) -> Execution | None:
    """Rerun an execution that was marked Failed (interrupted) as its next attempt."""
    with rt.db.session() as s:
        schedule = s.get(Schedule, interrupted.schedule_name)
    if schedule is None:
        return None
    claimed = claim_again(rt, interrupted)
    return None if claimed is None else _execute(rt, schedule, claimed)


def _execute(rt: Runtime, schedule: Schedule, ex: Execution) -> Execution:
    """Run the job of the schedule's monitor type; a failure ends the execution Failed."""
    try:
        with rt.db.session() as s:
            endpoint = s.get(Endpoint, schedule.endpoint_name)
            record = (
                s.get(BaselineRecord, schedule.baseline_name) if schedule.baseline_name else None
            )
        if endpoint is None:
            raise NotFoundError(f"endpoint {schedule.endpoint_name!r} does not exist")
        if record is None:
            raise NotFoundError(
                f"schedule {schedule.name!r} has no baseline ({schedule.baseline_name!r} not found)"
            )
        job = _JOBS.get(schedule.monitor_type, execute_data_quality)
        return job(rt, schedule, ex, endpoint, record.uri)
    except (VigilError, LookupError, OSError, ValueError) as exc:
        log.warning("execution %s of %s failed: %s", ex.id, schedule.name, exc)
        return finish(rt, ex, FAILED, str(exc))
    except Exception as exc:  # any error ends it Failed, never InProgress
        log.exception("execution %s of %s raised", ex.id, schedule.name)
        return finish(rt, ex, FAILED, f"{type(exc).__name__}: {exc}")
