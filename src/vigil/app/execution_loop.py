"""The executions of one Vigil process: due windows and interrupted runs, claimed and run.

Each :meth:`ExecutionLoop.step` reads the schedules, and for every ``Scheduled`` one claims the
fire times between its ``last_scheduled_time`` (or its creation) and now, oldest first,
advancing ``last_scheduled_time`` past each one claimed (by this process or another: the
execution claim, a unique (schedule, window), makes each window run once across every server
and worker on the database). Every ``recover_every`` seconds it also takes over the
executions whose lease ran out (their worker died): marked ``Failed`` ("interrupted") and
rerun as the next attempt. At start (:meth:`ExecutionLoop.start`) it does the same for the
executions left ``InProgress`` under its own worker id by its previous life.

With an :class:`~vigil.app.pool.ExecutionPool` the loop only claims, at most as many as the
pool has free processes (a busy worker leaves the rest of the backlog to the others), and
hands each claimed execution to the pool: the step never waits for an analysis. Without one
(``workers = 0``) it runs each execution in its own thread, one after the other (:func:`tick`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from itertools import islice

from sqlalchemy import select

from vigil.app.pool import ExecutionPool
from vigil.monitor.runner import claim_rerun_of, claim_scheduled, rerun, run_scheduled
from vigil.monitor.runtime import Runtime
from vigil.schedule import parse_schedule
from vigil.store.executions import recover_interrupted, release_lease
from vigil.store.models import Execution, Schedule

__all__ = ["MAX_CATCH_UP", "ErrorHook", "ExecutionLoop", "recover", "tick"]

log = logging.getLogger(__name__)
MAX_CATCH_UP = 1000  # fire times run per schedule per tick; the rest wait for the next tick

ErrorHook = Callable[[str, str, str], None]
"""Told ``(kind, name, message)`` of each object that failed alone."""

Start = Callable[[str, datetime], bool]
"""Claims (and runs or hands over) the window of a schedule at a fire time; whether it did."""


def recover(rt: Runtime) -> int:
    """Fail and rerun, here and now, the executions left by this worker's previous life or
    whose lease expired; the number rerun."""
    reruns = 0
    for ex in recover_interrupted(rt.db, owner=rt.owner):
        log.info("rerunning interrupted execution %s of %s", ex.id, ex.schedule_name)
        if rerun(rt, ex) is not None:
            reruns += 1
    return reruns


def tick(rt: Runtime, now: datetime | None = None, on_error: ErrorHook | None = None) -> int:
    """Run, here and now, every due window of every active schedule; the number of
    executions started.

    A schedule that cannot run (its expression no longer parses, its window cannot be
    computed, a run raises outside its execution) fails alone: logged, told to ``on_error``
    and retried next tick; the other schedules run."""

    def start(name: str, t: datetime) -> bool:
        return run_scheduled(rt, name, t) is not None

    return _claim_due(rt, now or datetime.now(timezone.utc), start, None, on_error)


def _claim_due(
    rt: Runtime, now: datetime, start: Start, budget: int | None, on_error: ErrorHook | None
) -> int:
    """Start due windows, oldest first per schedule, at most ``budget`` of them (None: all)."""
    with rt.db.session() as s:
        schedules = list(s.scalars(select(Schedule).where(Schedule.status == "Scheduled")))
    started = 0
    for schedule in schedules:
        if budget is not None and started >= budget:
            break
        left = None if budget is None else budget - started
        try:
            started += _start_schedule(rt, schedule, now, start, left)
        except Exception as exc:  # one schedule fails alone
            log.error("schedule %s cannot run: %s", schedule.name, exc)
            if on_error is not None:
                on_error("schedule", schedule.name, f"{type(exc).__name__}: {exc}")
    return started


def _due(schedule: Schedule, now: datetime) -> Iterator[datetime]:
    expression = parse_schedule(schedule.expression)
    if expression.is_one_time:
        return iter([now] if schedule.last_scheduled_time is None else [])
    since = schedule.last_scheduled_time or schedule.created_at  # first fire after creation
    return islice(expression.fires_between(since, now), MAX_CATCH_UP)


def _start_schedule(
    rt: Runtime, schedule: Schedule, now: datetime, start: Start, budget: int | None
) -> int:
    started = 0
    for t in _due(schedule, now):
        if budget is not None and started >= budget:
            break
        if start(schedule.name, t):
            started += 1
        with rt.db.session() as s:
            row = s.get(Schedule, schedule.name)
            if row is not None and (row.last_scheduled_time is None or row.last_scheduled_time < t):
                row.last_scheduled_time = t
    return started


class ExecutionLoop:
    """Claims and runs the executions of this process: in ``pool`` when given, else inline."""

    def __init__(
        self,
        rt: Runtime,
        pool: ExecutionPool | None = None,
        *,
        on_error: ErrorHook | None = None,
        recover_every: float | None = None,
    ) -> None:
        self.rt, self.pool, self.on_error = rt, pool, on_error
        lease = rt.settings.lease_seconds
        self.recover_every = recover_every if recover_every is not None else min(30.0, lease / 4)
        self._last_recovery = time.monotonic()  # start() recovers first

    def start(self) -> int:
        """Take over the executions this worker id left ``InProgress`` (its previous life)
        and those whose lease expired; the number rerun (or handed to the pool)."""
        self._last_recovery = time.monotonic()
        if self.pool is None:
            return recover(self.rt)
        return sum(self._rerun(ex) for ex in recover_interrupted(self.rt.db, owner=self.rt.owner))

    def step(self, now: datetime | None = None) -> int:
        """One round: interrupted executions (every ``recover_every`` seconds), then the due
        windows; the number of executions started."""
        started = 0
        if time.monotonic() - self._last_recovery >= self.recover_every:
            self._last_recovery = time.monotonic()
            started += self._recover_expired()
        now = now or datetime.now(timezone.utc)
        if self.pool is None:
            return started + tick(self.rt, now, self.on_error)
        free = self.pool.free()
        if free > 0:
            started += _claim_due(self.rt, now, self._hand_over, free, self.on_error)
        return started

    def _recover_expired(self) -> int:
        if self.pool is None:
            found = recover_interrupted(self.rt.db)
            return sum(rerun(self.rt, ex) is not None for ex in found)
        free = self.pool.free()
        if free < 1:
            return 0
        return sum(self._rerun(ex) for ex in recover_interrupted(self.rt.db, limit=free))

    def _rerun(self, interrupted: Execution) -> bool:
        log.info("rerunning interrupted execution %s of %s", interrupted.id,
                 interrupted.schedule_name)
        claimed = claim_rerun_of(self.rt, interrupted)
        return claimed is not None and self._submit(claimed)

    def _hand_over(self, name: str, t: datetime) -> bool:
        claimed = claim_scheduled(self.rt, name, t)
        return claimed is not None and self._submit(claimed[1])

    def _submit(self, ex: Execution) -> bool:
        assert self.pool is not None
        try:
            self.pool.submit(ex.id)
        except Exception:  # stopping: hand the claim back for another worker
            log.exception("execution %s could not be handed to a worker process", ex.id)
            release_lease(self.rt.db, ex.id, self.rt.owner)
            return False
        return True
