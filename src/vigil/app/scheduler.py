"""The in-process scheduler: due windows run exactly once, missed ones are caught up.

Each tick of its thread runs one step of the process's :class:`~vigil.app.execution_loop.
ExecutionLoop` (the due windows and the interrupted executions, claimed once across every
server and worker on the database, handed to worker processes or run inline; none with
``executions=False``, an API-only server), then the cheap work that stays in the server:
alarms, notifications, deliveries, events and rules, retention.

Alarms are evaluated on their cadence (``alarm_interval``) and at once whenever an execution
completes, wherever it ran (:func:`executions_seen` watches the ``execution_completed``
events), so a drifting window pages within seconds of its execution. Every object fails
alone: a faulty alarm, schedule, rule, workflow or subscription (one queued item) is logged
and counted as ``vigil/Scheduler`` ``Errors`` (dimension ``Kind``), and the loop goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from vigil.actions.definitions import dispatch_pending, load
from vigil.actions.engine import Runner
from vigil.actions.recovery import recover_runs
from vigil.alerts.notify import (
    flush_groups,
    make_outbox,
    notify_transitions,
    repush_firing,
    topic_publisher,
)
from vigil.alerts.platform import ensure_platform_alarms
from vigil.alerts.service import evaluate_alarms
from vigil.app.events import EventBus
from vigil.app.execution_loop import MAX_CATCH_UP, ErrorHook, ExecutionLoop, recover, tick
from vigil.app.notice_context import NoticeBuilder
from vigil.app.prom_scrape import ScrapeLoop, start_scraping
from vigil.metrics import contract as mc
from vigil.metrics.datum import MetricDatum
from vigil.monitor.runtime import Runtime
from vigil.store.code_policy import CodePolicy
from vigil.store.models import Event

__all__ = [
    "MAX_CATCH_UP",
    "ErrorCounter",
    "ErrorHook",
    "Scheduler",
    "alarms_and_notifications",
    "apply_retention",
    "executions_seen",
    "recover",
    "tick",
]

log = logging.getLogger(__name__)


def executions_seen(rt: Runtime) -> tuple[Any, int]:
    """A mark that changes whenever some execution completes (on this server or any other
    on the database): the latest creation time of ``execution_completed`` events, and how
    many carry it. Two index lookups (``ix_events_kind_created``), whatever the history.
    Servers sharing a database keep their clocks in step (NTP): a completion stamped before
    the latest one is evaluated at the next cadence (``alarm_interval``) instead."""
    with rt.db.session() as s:
        latest = s.scalar(
            select(func.max(Event.created_at)).where(Event.kind == "execution_completed")
        )
        if latest is None:
            return None, 0
        same = s.scalar(
            select(func.count(Event.id)).where(
                Event.kind == "execution_completed", Event.created_at == latest
            )
        )
    return latest, int(same or 0)


def apply_retention(rt: Runtime, now: datetime | None = None) -> int:
    """Delete datapoints older than the retention period; the number deleted."""
    now = now or datetime.now(timezone.utc)
    return rt.metrics.apply_retention(now - timedelta(days=rt.settings.metric_retention_days))


PARTITION_DAYS_AHEAD = 2


def prepare_partitions(rt: Runtime, now: datetime | None = None) -> int:
    """Make the metric store's partitions of today and the next ``PARTITION_DAYS_AHEAD``
    days where missing (PostgreSQL; nothing on SQLite); how many were made."""
    now = now or datetime.now(timezone.utc)
    return len(rt.metrics.prepare_partitions(now, now + timedelta(days=PARTITION_DAYS_AHEAD)))


def alarms_and_notifications(
    rt: Runtime, outbox: Any, now: datetime | None = None, on_error: ErrorHook | None = None
) -> list[Any]:
    """Evaluate every alarm and queue the notifications of its transitions (a faulty alarm
    fails alone, told to ``on_error``), each with its dashboard links, summary and the
    changes before it (:class:`~vigil.app.notice_context.NoticeBuilder`)."""
    now = now or datetime.now(timezone.utc)
    try:  # new endpoints and hosts get their default alarms before the evaluation
        ensure_platform_alarms(rt.db, rt.metrics)
    except Exception:  # never in the way of the alarms that exist
        log.exception("keeping the default alarms of endpoints and hosts failed")
    transitions = evaluate_alarms(rt.db, rt.metrics, now, on_error=on_error)
    notify_transitions(rt.db, outbox, transitions, now, NoticeBuilder(rt.settings, rt.db))
    flush_groups(rt.db, outbox, now)
    return transitions


class ErrorCounter:
    """Counts the objects that fail alone in the loop as ``vigil/Scheduler`` ``Errors``
    (dimension ``Kind``), at most once a minute per object, and logs each."""

    def __init__(self, rt: Runtime, every: float = 60.0) -> None:
        self.rt, self.every = rt, every
        self._last: dict[tuple[str, str], tuple[float, str]] = {}

    def __call__(self, kind: str, name: str, message: str) -> None:
        now = time.monotonic()
        last = self._last.get((kind, name))
        if last is not None and last[1] == message and now - last[0] < self.every:
            return
        self._last[(kind, name)] = (now, message)
        log.error("%s %s failed: %s", kind, name, message)
        try:
            self.rt.metrics.put(
                [
                    MetricDatum(
                        mc.SCHEDULER_NAMESPACE,
                        mc.SCHEDULER_ERRORS,
                        mc.scheduler_error_dimensions(kind),
                        datetime.now(timezone.utc),
                        1.0,
                        unit="Count",
                    )
                ]
            )
        except Exception:  # counting must not stop the loop
            log.exception("counting the error of %s %s failed", kind, name)


class Scheduler:
    """A background thread ticking every ``interval`` seconds until stopped. Its executions
    are ``executions`` (a loop over worker processes), by default a loop running them in
    this thread; ``run_executions=False`` leaves them to other servers and workers."""

    def __init__(
        self,
        rt: Runtime,
        interval: float = 1.0,
        *,
        executions: ExecutionLoop | None = None,
        run_executions: bool = True,
    ) -> None:
        self.rt, self.interval = rt, interval
        self.executions = (executions or ExecutionLoop(rt)) if run_executions else None
        self._policy = CodePolicy.from_settings(rt.settings)  # what stored actions may run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="vigil-scheduler", daemon=True)
        self.outbox: Any = None
        self.bus: EventBus | None = None
        self.scraping: ScrapeLoop | None = None  # scrape_configs, in a thread of their own

    def _bus(self) -> EventBus:
        if self.bus is None:
            self.bus = EventBus(self.rt.settings, self.rt.db, self.rt.metrics)
        return self.bus

    def _publisher(self) -> Any:
        """What rules' topic targets publish with (the outbox of the alarms' notifications),
        an execution's finding with its links, summary and the changes before it."""
        explain = NoticeBuilder(self.rt.settings, self.rt.db).event
        return topic_publisher(self.rt.db, self._outbox(), explain)

    def _outbox(self) -> Any:
        if self.outbox is None:
            self.outbox = make_outbox(self.rt.db)
        return self.outbox

    def start(self) -> None:
        self._thread.start()
        self.scraping = start_scraping(self.rt, on_error=ErrorCounter(self.rt))

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self.scraping is not None:
            self.scraping.stop(timeout)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        executions = self.executions
        errors = ErrorCounter(self.rt)
        if executions is not None:
            executions.on_error = executions.on_error or errors
            try:
                executions.start()
            except Exception:
                log.exception("recovering interrupted executions failed")
        try:
            _, workflows = load(self.rt.db)
            runner = Runner(self.rt.db, workflows, owner=self.rt.owner, code_policy=self._policy,
                            publish=self._publisher())
            recover_runs(self.rt.db, self.rt.owner, runner=runner)
        except Exception:
            log.exception("recovering interrupted action runs failed")
        last = {"alarms": 0.0, "repush": 0.0, "retention": 0.0}
        seen: tuple[Any, int] | None = None
        while not self._stop.is_set():
            if executions is not None:
                self._step("executions", executions.step)
            mark = self._step("watch", lambda: executions_seen(self.rt))
            # alarms: on the cadence, and at once when some execution completed (here, by
            # POST /schedules/{name}/run or on another server sharing the database)
            fresh = self.rt.settings.alarms_on_execution and mark is not None and mark != seen
            if fresh or time.monotonic() - last["alarms"] >= self.rt.settings.alarm_interval:
                self._step(
                    "alarms",
                    lambda: alarms_and_notifications(self.rt, self._outbox(), on_error=errors),
                )
                last["alarms"] = time.monotonic()
                seen = mark if mark is not None else seen
            self._step("groups", lambda: flush_groups(self.rt.db, self._outbox(), _now()))
            if time.monotonic() - last["repush"] >= 60:
                self._step("repush", lambda: repush_firing(
                    self.rt.db, self._outbox(), _now(), NoticeBuilder(self.rt.settings, self.rt.db)
                ))
                last["repush"] = time.monotonic()
            self._step("deliveries", lambda: self._outbox().deliver_due(_now(), on_error=errors))
            # Vigil's own events archived, counted and (failed runs) notified, then the rules
            self._step("events", lambda: self._bus().publish_own())
            self._step(
                "actions", lambda: dispatch_pending(
                    self.rt.db, self.rt.owner, code_policy=self._policy, on_error=errors,
                    publish=self._publisher(),
                )
            )
            if time.monotonic() - last["retention"] > 3600:
                self._step("partitions", lambda: prepare_partitions(self.rt))
                self._step("retention", lambda: apply_retention(self.rt))
                last["retention"] = time.monotonic()
            self._stop.wait(self.interval)

    def _step(self, what: str, step: Callable[[], Any]) -> Any:
        """Run one step of the loop; a failure is logged and the other steps go on (the
        next tick retries it). The objects at fault are isolated inside each step."""
        try:
            return step()
        except Exception:  # keep ticking
            log.exception("scheduler step %s failed", what)
            return None


def _now() -> datetime:
    return datetime.now(timezone.utc)
