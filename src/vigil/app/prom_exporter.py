"""What ``GET /metrics`` serves: Vigil's own operation, the process, and the platform figures.

Vigil's own series, each from one grouped SQL query per scrape (so they survive restarts and
count what every server sharing the database did):

* ``vigil_build_info{version,python_version}`` (1);
* ``vigil_executions_total{schedule,status}`` (counter, finished executions by status) and
  ``vigil_executions_active{schedule,status}`` (gauge: ``Pending``, ``InProgress``);
* ``vigil_execution_duration_seconds{schedule}`` (histogram of finished executions);
* ``vigil_alarms{state}`` (every state, zeros included) and ``vigil_alarm_state{alarm,state}``
  (1 for an alarm's state, 0 for the others);
* ``vigil_outbox_items{status}`` (``pending``, ``delivered``, ``dead``...);
* ``vigil_events_total{kind}``, ``vigil_action_runs_total{status}``;
* the process: ``process_cpu_seconds_total``, ``process_resident_memory_bytes``,
  ``process_virtual_memory_bytes``, ``process_open_fds``, ``process_max_fds``,
  ``process_start_time_seconds`` (psutil);
* ``vigil_exporter_generic_series_dropped`` (store series left out over the cap).

Then :class:`~vigil.app.prom_platform.PlatformExporter`'s families (serving, hosts, training,
platform runs, capture writers, any other stored metric).
"""

from __future__ import annotations

import platform
import resource
from collections.abc import Iterable
from typing import Any

import psutil
from sqlalchemy import Float, case, cast, func, select

from vigil._version import __version__
from vigil.alerts.alarms import STATES
from vigil.app.prom_platform import DURATION_BUCKETS, PlatformExporter
from vigil.metrics.exposition import MetricFamily, Sample, histogram_samples, render
from vigil.store.db import Database
from vigil.store.models import ActionRun, AlarmRecord, Event, Execution, OutboxItem
from vigil.store.models.executions import ExecutionStatus

ACTIVE = (ExecutionStatus.PENDING.value, ExecutionStatus.IN_PROGRESS.value, "Stopping")

# The names of Vigil's own families (the Grafana export reads them from here)
BUILD_INFO = "vigil_build_info"
EXECUTIONS_TOTAL = "vigil_executions_total"
EXECUTIONS_ACTIVE = "vigil_executions_active"
EXECUTION_DURATION = "vigil_execution_duration_seconds"
ALARMS = "vigil_alarms"
ALARM_STATE = "vigil_alarm_state"
OUTBOX_ITEMS = "vigil_outbox_items"
EVENTS_TOTAL = "vigil_events_total"
ACTION_RUNS_TOTAL = "vigil_action_runs_total"
GENERIC_SERIES_DROPPED = "vigil_exporter_generic_series_dropped"
PROCESS_CPU_SECONDS = "process_cpu_seconds_total"
PROCESS_RESIDENT_MEMORY = "process_resident_memory_bytes"
PROCESS_VIRTUAL_MEMORY = "process_virtual_memory_bytes"
PROCESS_OPEN_FDS = "process_open_fds"
PROCESS_MAX_FDS = "process_max_fds"
PROCESS_START_TIME = "process_start_time_seconds"


def _seconds_between(db: Database, start: Any, end: Any) -> Any:
    """SQL for ``end - start`` in seconds on the database's dialect."""
    if db.dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return cast(func.extract("epoch", end - start), Float)


def _grouped(conn: Any, *columns: Any) -> list[Any]:
    return list(conn.execute(select(*columns, func.count()).group_by(*columns)))


def own_families(db: Database) -> list[MetricFamily]:
    """Vigil's own operation, from the database."""
    fams = [
        MetricFamily(
            BUILD_INFO, "gauge", "Vigil's version (always 1).",
            [Sample(BUILD_INFO,
                    {"version": __version__, "python_version": platform.python_version()}, 1)],
        )
    ]  # fmt: skip
    done = MetricFamily(EXECUTIONS_TOTAL, "counter", "Finished executions by status.")
    active = MetricFamily(EXECUTIONS_ACTIVE, "gauge", "Executions pending or running.")
    duration = EXECUTION_DURATION
    hist = MetricFamily(duration, "histogram", "Duration of finished executions.")
    alarms = MetricFamily(ALARMS, "gauge", "Alarms by state.")
    alarm_state = MetricFamily(ALARM_STATE, "gauge", "1 for each alarm's current state.")
    outbox = MetricFamily(OUTBOX_ITEMS, "gauge", "Notification deliveries by status.")
    events = MetricFamily(EVENTS_TOTAL, "counter", "Events stored, by kind.")
    runs = MetricFamily(ACTION_RUNS_TOTAL, "counter", "Action runs by status.")
    x = Execution
    seconds = _seconds_between(db, x.started_at, x.ended_at)
    bucket = case(
        *[(seconds <= b, i) for i, b in enumerate(DURATION_BUCKETS)], else_=len(DURATION_BUCKETS)
    )
    with db.engine.connect() as conn:
        for schedule, status, n in _grouped(conn, x.schedule_name, x.status):
            fam = active if status in ACTIVE else done
            fam.samples.append(Sample(fam.name, {"schedule": schedule, "status": status}, n))
        finished = (
            select(x.schedule_name, bucket, func.count(), func.sum(seconds))
            .where(x.started_at.is_not(None), x.ended_at.is_not(None))
            .group_by(x.schedule_name, bucket)
        )
        per: dict[str, list[float]] = {}
        for schedule, b, n, total in conn.execute(finished):
            held = per.setdefault(schedule, [0.0] * (len(DURATION_BUCKETS) + 2))
            held[int(b)] += n
            held[-1] += float(total or 0)
        for schedule, counts in sorted(per.items()):
            hist.samples.extend(
                histogram_samples(duration, {"schedule": schedule}, DURATION_BUCKETS,
                                  counts[:-1], counts[-1])
            )  # fmt: skip
        states = dict.fromkeys(STATES, 0)
        for name, state in conn.execute(
            select(AlarmRecord.name, AlarmRecord.state).order_by(AlarmRecord.name)
        ):
            states[state] = states.get(state, 0) + 1
            for s in STATES:
                alarm_state.samples.append(
                    Sample(alarm_state.name, {"alarm": name, "state": s}, float(s == state))
                )
        alarms.samples.extend(Sample(alarms.name, {"state": s}, n) for s, n in states.items())
        found = dict.fromkeys(("pending", "dead"), 0)
        found.update({status: n for status, n in _grouped(conn, OutboxItem.status)})
        outbox.samples.extend(Sample(outbox.name, {"status": s}, n) for s, n in found.items())
        for kind, n in _grouped(conn, Event.kind):
            events.samples.append(Sample(events.name, {"kind": kind}, n))
        for status, n in _grouped(conn, ActionRun.status):
            runs.samples.append(Sample(runs.name, {"status": status}, n))
    return [*fams, done, active, hist, alarms, alarm_state, outbox, events, runs]


def process_families() -> list[MetricFamily]:
    """The standard ``process_*`` series of this process (as Prometheus' client libraries)."""
    me = psutil.Process()
    with me.oneshot():
        cpu, memory, started = me.cpu_times(), me.memory_info(), me.create_time()
        fds = me.num_fds()
    max_fds = resource.getrlimit(resource.RLIMIT_NOFILE)[0]

    def one(name: str, kind: str, help_: str, value: float) -> MetricFamily:
        return MetricFamily(name, kind, help_, [Sample(name, {}, float(value))])

    return [
        one(PROCESS_CPU_SECONDS, "counter", "User and system CPU time spent, seconds.",
            cpu.user + cpu.system),
        one(PROCESS_RESIDENT_MEMORY, "gauge", "Resident memory size.", memory.rss),
        one(PROCESS_VIRTUAL_MEMORY, "gauge", "Virtual memory size.", memory.vms),
        one(PROCESS_OPEN_FDS, "gauge", "Open file descriptors.", fds),
        one(PROCESS_MAX_FDS, "gauge", "Maximum number of open file descriptors.",
            max_fds if max_fds != resource.RLIM_INFINITY else float("inf")),
        one(PROCESS_START_TIME, "gauge", "Start time since the epoch, seconds.",
            started),
    ]  # fmt: skip


class Exporter:
    """The whole exposition of one server: build one per process and call :meth:`render`."""

    def __init__(self, db: Database, platform_exporter: PlatformExporter | None = None) -> None:
        self.db = db
        self.platform = platform_exporter or PlatformExporter(db)

    def families(self) -> Iterable[MetricFamily]:
        """Every family: own operation, process, platform figures."""
        fams = [*own_families(self.db), *process_families(), *self.platform.families()]
        fams.append(
            MetricFamily(
                GENERIC_SERIES_DROPPED, "gauge",
                "Stored series left out of this exposition (over the cap).",
                [Sample(GENERIC_SERIES_DROPPED, {}, self.platform.dropped)],
            )
        )  # fmt: skip
        return fams

    def render(self) -> str:
        """The text exposition (format 0.0.4)."""
        return render(self.families())
