"""The in-process scheduler: due windows run exactly once, missed ones are caught up.

Each tick reads the schedules, and for every ``Scheduled`` one runs the fire times between its
``last_scheduled_time`` (or its creation) and now, oldest first, then advances
``last_scheduled_time``. Several servers may tick on one database: the execution claim
(a unique (schedule, window)) makes each window run once. At start-up, executions left
``InProgress`` by a crashed worker (lease expired, or owned by this worker's id) are marked
``Failed`` ("interrupted") and rerun.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from vigil.actions.definitions import dispatch_pending, load
from vigil.actions.engine import Runner
from vigil.actions.recovery import recover_runs
from vigil.alerts.notify import flush_groups, make_outbox, notify_transitions, repush_firing
from vigil.alerts.service import evaluate_alarms
from vigil.monitor.runner import rerun, run_scheduled
from vigil.monitor.runtime import Runtime
from vigil.schedule import parse_schedule
from vigil.store.code_policy import CodePolicy
from vigil.store.executions import recover_interrupted
from vigil.store.models import Schedule

log = logging.getLogger(__name__)
MAX_CATCH_UP = 1000  # fire times run per schedule per tick; the rest wait for the next tick


def recover(rt: Runtime) -> int:
    """Fail and rerun interrupted executions; the number rerun."""
    reruns = 0
    for ex in recover_interrupted(rt.db, owner=rt.owner):
        log.info("rerunning interrupted execution %s of %s", ex.id, ex.schedule_name)
        if rerun(rt, ex) is not None:
            reruns += 1
    return reruns


def tick(rt: Runtime, now: datetime | None = None) -> int:
    """Run every due window of every active schedule; the number of executions started."""
    now = now or datetime.now(timezone.utc)
    with rt.db.session() as s:
        schedules = list(s.scalars(select(Schedule).where(Schedule.status == "Scheduled")))
    started = 0
    for schedule in schedules:
        try:
            expression = parse_schedule(schedule.expression)
        except ValueError as exc:
            log.error("schedule %s: %s", schedule.name, exc)
            continue
        since = schedule.last_scheduled_time or schedule.created_at  # first fire after creation
        due = []
        if expression.is_one_time:
            if schedule.last_scheduled_time is None:
                due = [now]
        else:
            for t in expression.fires_between(since, now):
                due.append(t)
                if len(due) >= MAX_CATCH_UP:
                    break
        for t in due:
            if run_scheduled(rt, schedule.name, t) is not None:
                started += 1
            with rt.db.session() as s:
                row = s.get(Schedule, schedule.name)
                if row is not None and (
                    row.last_scheduled_time is None or row.last_scheduled_time < t
                ):
                    row.last_scheduled_time = t
    return started


def apply_retention(rt: Runtime, now: datetime | None = None) -> int:
    """Delete datapoints older than the retention period; the number deleted."""
    now = now or datetime.now(timezone.utc)
    return rt.metrics.apply_retention(now - timedelta(days=rt.settings.metric_retention_days))


def alarms_and_notifications(rt: Runtime, outbox: Any, now: datetime | None = None) -> list[Any]:
    """Evaluate every alarm and queue the notifications of its transitions."""
    now = now or datetime.now(timezone.utc)
    transitions = evaluate_alarms(rt.db, rt.metrics, now)
    notify_transitions(rt.db, outbox, transitions, now)
    flush_groups(rt.db, outbox, now)
    return transitions


class Scheduler:
    """A background thread ticking every ``interval`` seconds until stopped."""

    def __init__(self, rt: Runtime, interval: float = 1.0) -> None:
        self.rt, self.interval = rt, interval
        self._policy = CodePolicy.from_settings(rt.settings)  # what stored actions may run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="vigil-scheduler", daemon=True)
        self.outbox: Any = None

    def _outbox(self) -> Any:
        if self.outbox is None:
            self.outbox = make_outbox(self.rt.db)
        return self.outbox

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            recover(self.rt)
        except Exception:
            log.exception("recovering interrupted executions failed")
        try:
            _, workflows = load(self.rt.db)
            runner = Runner(self.rt.db, workflows, owner=self.rt.owner, code_policy=self._policy)
            recover_runs(self.rt.db, self.rt.owner, runner=runner)
        except Exception:
            log.exception("recovering interrupted action runs failed")
        last_retention = last_alarms = last_repush = 0.0
        while not self._stop.is_set():
            try:
                tick(self.rt)
                if time.monotonic() - last_alarms >= self.rt.settings.alarm_interval:
                    alarms_and_notifications(self.rt, self._outbox())
                    last_alarms = time.monotonic()
                flush_groups(self.rt.db, self._outbox(), datetime.now(timezone.utc))
                if time.monotonic() - last_repush >= 60:
                    repush_firing(self.rt.db, self._outbox(), datetime.now(timezone.utc))
                    last_repush = time.monotonic()
                self._outbox().deliver_due(datetime.now(timezone.utc))
                dispatch_pending(self.rt.db, self.rt.owner, code_policy=self._policy)
                if time.monotonic() - last_retention > 3600:
                    apply_retention(self.rt)
                    last_retention = time.monotonic()
            except Exception:  # keep ticking; the next tick retries
                log.exception("scheduler tick failed")
            self._stop.wait(self.interval)
