"""The metric store's platform figures as Prometheus families (what ``GET /metrics`` adds).

Named by Prometheus' conventions (``platform.md`` §3.3):

* counters from the stored per-minute sets, the sum of every stored ``Sum`` of a series:
  ``vigil_endpoint_invocations_total{endpoint,variant}``,
  ``vigil_endpoint_invocation_errors_total{endpoint,variant,code_class}`` (``4xx``, ``5xx``),
  ``vigil_job_runs_started_total{kind,name}``, ``vigil_job_runs_total{kind,name,status}``
  (``succeeded``, ``failed``, ``stopped``),
  ``vigil_instance_network_{receive,transmit}_bytes_total``;
* histograms: ``vigil_endpoint_model_latency_seconds`` and
  ``vigil_endpoint_overhead_latency_seconds`` (OpenTelemetry's buckets 0.005 to 10 s, from the
  stored microseconds), ``vigil_job_duration_seconds`` (1 s to 1 day). A stored statistic set
  counts in the bucket of its maximum: exact for the telemetry's sets (minimum == maximum per
  quantised value), an upper bound otherwise;
* gauges, the last value (the average of a statistic set) in the last ``window`` (a day for
  training metrics; two days, ``run_window``, for the monitoring executions' figures, which
  an hourly or daily schedule stamps at the start of the period it closes,
  :data:`MONITORING`): ``vigil_instance_{cpu,memory,disk,gpu,gpu_memory}_utilization_ratio``
  (percent / 100; CPU is SageMaker's 0-100 x vCPUs, so up to the vCPU count),
  ``vigil_instance_memory_used_bytes``, ``..._memory_limit_bytes``, ``..._gpu_memory_used_bytes``,
  ``..._gpu_temperature_celsius``, ``..._gpu_power_watts``,
  ``vigil_process_cpu_utilization_ratio{host,process}``,
  ``vigil_process_resident_memory_bytes``, ``vigil_training_job_metric{job,metric}``, the capture
  writers' counters ``vigil_capture_records_captured_total{endpoint,variant}`` (cumulative
  since the writer started, so they reset with it), and every other stored metric as
  ``vigil_<namespace>_<name>`` (snake case) with its dimensions as labels, at most
  ``max_generic`` series.

Cheap per scrape: the counters and histograms are kept in memory and advanced by the
datapoints added since the previous scrape (ids above the last one seen: one indexed range),
so only the first scrape after a start reads the whole history, which is also what keeps the
counters from resetting across a restart. Retention deleting old datapoints lowers the totals
after a restart: Prometheus reads that as a counter reset, which ``rate()`` handles.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from sqlalchemy import func, or_, select

from vigil.metrics import contract as mc
from vigil.metrics.exposition import (
    LATENCY_BUCKETS,
    MetricFamily,
    Sample,
    histogram_samples,
    label_name,
    snake,
)
from vigil.store.db import Database
from vigil.store.models import Datapoint, MetricSeries

SAGEMAKER = "AWS/SageMaker"
PLATFORM = "vigil/Platform"
HOST = "vigil/Host"
PROCESS = "vigil/Process"
TRAINING = "/aws/sagemaker/TrainingJobs"
CAPTURE = "vigil/Capture"
#: the monitoring executions' namespaces: written once a run, stamped at the start of the
#: schedule's period, so their gauges keep the last value for ``run_window``
MONITORING: frozenset[str] = frozenset({
    mc.DATA_QUALITY_NAMESPACE, mc.MODEL_QUALITY_NAMESPACE, mc.BIAS_NAMESPACE,
    mc.EXPLAINABILITY_NAMESPACE, mc.EXECUTIONS_NAMESPACE, mc.CONCEPT_DRIFT_NAMESPACE,
})  # fmt: skip
DURATION_BUCKETS: tuple[float, ...] = (
    1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400,
)  # fmt: skip

#: dimension -> label for the known namespaces (others: :func:`label_name`)
LABELS = {
    "EndpointName": "endpoint", "VariantName": "variant", "Host": "host", "Mount": "mount",
    "Interface": "interface", "GPU": "gpu", "GPUUUID": "gpu_uuid", "Process": "process",
    "Kind": "kind", "Name": "name", "TrainingJobName": "job", "Endpoint": "endpoint",
    "Variant": "variant",
}  # fmt: skip


@dataclass(frozen=True)
class Mapped:
    """How one stored metric becomes a Prometheus family."""

    name: str
    type: str  # counter | gauge | histogram
    help: str
    extra: tuple[tuple[str, str], ...] = ()  # labels added to every sample
    scale: float = 1.0  # stored value x scale = exposed value
    bounds: tuple[float, ...] = ()  # histogram bucket bounds (exposed units)


def _m(name: str, type_: str, help_: str, **kw: Any) -> Mapped:
    return Mapped(name, type_, help_, **kw)


_ERRORS = "Invocations answered with an error, by status class."
_RUNS = "Finished runs of platform jobs and pipelines, by status."
KNOWN: dict[tuple[str, str], Mapped] = {
    (SAGEMAKER, "Invocations"): _m(
        "vigil_endpoint_invocations_total", "counter", "Requests to an endpoint variant."
    ),
    (SAGEMAKER, "Invocation4XXErrors"): _m(
        "vigil_endpoint_invocation_errors_total", "counter", _ERRORS, extra=(("code_class", "4xx"),)
    ),
    (SAGEMAKER, "Invocation5XXErrors"): _m(
        "vigil_endpoint_invocation_errors_total", "counter", _ERRORS, extra=(("code_class", "5xx"),)
    ),
    (SAGEMAKER, "ModelLatency"): _m(
        "vigil_endpoint_model_latency_seconds", "histogram",
        "Time the model took to answer.", scale=1e-6, bounds=LATENCY_BUCKETS,
    ),
    (SAGEMAKER, "OverheadLatency"): _m(
        "vigil_endpoint_overhead_latency_seconds", "histogram",
        "Time the serving layer added to the model's.", scale=1e-6, bounds=LATENCY_BUCKETS,
    ),
    (PLATFORM, "RunsStarted"): _m(
        "vigil_job_runs_started_total", "counter", "Runs of platform jobs and pipelines started."
    ),
    (PLATFORM, "RunsSucceeded"): _m(
        "vigil_job_runs_total", "counter", _RUNS, extra=(("status", "succeeded"),)
    ),
    (PLATFORM, "RunsFailed"): _m(
        "vigil_job_runs_total", "counter", _RUNS, extra=(("status", "failed"),)
    ),
    (PLATFORM, "RunsStopped"): _m(
        "vigil_job_runs_total", "counter", _RUNS, extra=(("status", "stopped"),)
    ),
    (PLATFORM, "RunDuration"): _m(
        "vigil_job_duration_seconds", "histogram", "Duration of finished runs.",
        bounds=DURATION_BUCKETS,
    ),
    (HOST, "NetworkReceived"): _m(
        "vigil_instance_network_receive_bytes_total", "counter", "Bytes received."
    ),
    (HOST, "NetworkTransmitted"): _m(
        "vigil_instance_network_transmit_bytes_total", "counter", "Bytes sent."
    ),
}  # fmt: skip
_UTIL = {
    "CPUUtilization": "cpu", "MemoryUtilization": "memory", "DiskUtilization": "disk",
    "GPUUtilization": "gpu", "GPUMemoryUtilization": "gpu_memory",
}  # fmt: skip
for _metric, _part in _UTIL.items():
    KNOWN[(HOST, _metric)] = _m(
        f"vigil_instance_{_part}_utilization_ratio", "gauge",
        f"{_metric} of the host as a ratio (percent / 100).", scale=0.01,
    )  # fmt: skip
for _metric, _prom, _help in (
    ("MemoryUsed", "vigil_instance_memory_used_bytes", "Memory in use."),
    ("MemoryLimit", "vigil_instance_memory_limit_bytes", "Memory available (cgroup limit)."),
    ("GPUMemoryUsed", "vigil_instance_gpu_memory_used_bytes", "GPU memory in use."),
    ("GPUTemperature", "vigil_instance_gpu_temperature_celsius", "GPU temperature."),
    ("GPUPower", "vigil_instance_gpu_power_watts", "GPU power draw."),
):
    KNOWN[(HOST, _metric)] = _m(_prom, "gauge", _help)
KNOWN[(PROCESS, "ProcessCPUUtilization")] = _m(
    "vigil_process_cpu_utilization_ratio", "gauge", "CPU of a named process (1 = one core).",
    scale=0.01,
)  # fmt: skip
KNOWN[(PROCESS, "ProcessMemoryResident")] = _m(
    "vigil_process_resident_memory_bytes", "gauge", "Resident memory of a named process."
)
TRAINING_METRIC = _m(
    "vigil_training_job_metric", "gauge", "The last value of a training job's metric."
)


def _capture(metric: str) -> Mapped:
    if metric == "capture_buffer_records":
        return _m("vigil_capture_buffer_records", "gauge", "Records waiting in a capture buffer.")
    return _m(f"vigil_{metric}_total", "counter", f"{metric} since the capture writer started.")


def mapping_of(namespace: str, metric: str) -> Mapped:
    """The family a stored metric is exposed as.

    >>> mapping_of("AWS/SageMaker", "Invocations").name
    'vigil_endpoint_invocations_total'
    >>> m = mapping_of("vigil/Host", "CPUUtilization"); m.name, m.scale
    ('vigil_instance_cpu_utilization_ratio', 0.01)
    >>> mapping_of("my/App", "QueueDepth").name
    'vigil_my_app_queue_depth'
    """
    known = KNOWN.get((namespace, metric))
    if known is not None:
        return known
    if namespace == TRAINING:
        return TRAINING_METRIC
    if namespace == CAPTURE:
        return _capture(metric)
    name = re.sub("_+", "_", f"vigil_{snake(namespace)}_{snake(metric)}")
    return _m(name, "gauge", f"{namespace} {metric}")


def labels_of(namespace: str, metric: str, dims: Mapping[str, str]) -> dict[str, str]:
    """The labels of a stored series (its dimensions renamed; the first of two that clash).

    >>> labels_of("AWS/SageMaker", "Invocations", {"EndpointName": "e", "VariantName": "v"})
    {'endpoint': 'e', 'variant': 'v'}
    >>> labels_of("/aws/sagemaker/TrainingJobs", "validation:loss", {"TrainingJobName": "j"})
    {'job': 'j', 'metric': 'validation:loss'}
    """
    out: dict[str, str] = {}
    for key, value in sorted(dims.items()):
        out.setdefault(LABELS.get(key) or label_name(key), value)
    if namespace == TRAINING:
        out["metric"] = metric
    return out


_UNIT_SCALE = {"Microseconds": 1e-6, "Milliseconds": 1e-3, "Seconds": 1.0}


class PlatformExporter:
    """The store's figures as families; counters and histograms advance incrementally."""

    def __init__(
        self,
        db: Database,
        *,
        window: timedelta = timedelta(minutes=10),
        training_window: timedelta = timedelta(days=1),
        run_window: timedelta = timedelta(days=2),
        max_generic: int = 5000,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.db, self.window, self.training_window = db, window, training_window
        self.run_window = run_window
        self.max_generic, self.clock = max_generic, clock
        self._lock = threading.Lock()
        self._series: dict[int, tuple[str, str, dict[str, str]]] = {}
        self._last_series = 0
        self._last_point = 0
        self._totals: dict[int, float] = {}  # counter series -> sum of Sum
        self._hist: dict[int, list[float]] = {}  # histogram series -> bucket counts + [sum]
        self._latest: dict[int, tuple[datetime, float]] = {}  # gauge series -> last (time, value)
        self._gauge_point: int | None = None  # the last datapoint id the gauges have seen
        self.dropped = 0  # generic series left out at the last scrape (over max_generic)

    def _load_series(self, conn: Any) -> None:
        s = MetricSeries
        rows = conn.execute(
            select(s.id, s.namespace, s.name, s.dimensions_key).where(s.id > self._last_series)
        )
        for sid, ns, name, key in rows:
            self._series[int(sid)] = (ns, name, orjson.loads(key))
            self._last_series = max(self._last_series, int(sid))

    def _ids(self, kind: str) -> list[int]:
        return [
            sid for sid, (ns, name, _) in self._series.items()
            if (ns, name) in KNOWN and KNOWN[(ns, name)].type == kind
        ]  # fmt: skip

    def _advance(self, conn: Any) -> None:
        d = Datapoint
        top = conn.scalar(select(func.max(d.id))) or 0
        if top <= self._last_point:
            return
        # the datapoints stored since the last scrape, by primary key (a range SQLite reads
        # directly: a series filter here would make it walk each series' whole index)
        span = (d.id > self._last_point, d.id <= top)
        counters = set(self._ids("counter"))
        rows = conn.execute(
            select(d.series_id, func.sum(func.coalesce(d.sum, d.value)))
            .where(*span)
            .group_by(d.series_id)
        )
        for sid, total in rows:
            if int(sid) in counters:
                self._totals[int(sid)] = self._totals.get(int(sid), 0.0) + float(total or 0)
        hists = set(self._ids("histogram"))
        point = func.coalesce(d.maximum, d.value)
        rows = conn.execute(
            select(
                d.series_id, d.unit, point,
                func.sum(func.coalesce(d.sample_count, 1.0)),
                func.sum(func.coalesce(d.sum, d.value)),
            )
            .where(*span)
            .group_by(d.series_id, d.unit, point)
        )  # fmt: skip
        for sid, unit, value, count, total in rows:
            if int(sid) not in hists:
                continue
            ns, name, _ = self._series[int(sid)]
            m = KNOWN[(ns, name)]
            scale = _UNIT_SCALE.get(unit, m.scale) if m.scale != 1.0 else 1.0
            held = self._hist.setdefault(int(sid), [0.0] * (len(m.bounds) + 2))
            # bisect_left: a value equal to a bound belongs to that bound's bucket (le)
            held[bisect.bisect_left(m.bounds, float(value) * scale * (1 - 1e-12))] += count
            held[-1] += float(total) * scale
        self._last_point = top

    def _gauges(self, conn: Any) -> dict[int, tuple[datetime, float]]:
        """The last value of each gauge series within its window. The first scrape reads the
        window's datapoints by time (one scan); later ones only the datapoints stored since
        (a primary-key range), so a scrape's cost follows what changed, not the store's size."""
        d, s = Datapoint, MetricSeries
        now = self.clock()
        top = conn.scalar(select(func.max(d.id))) or 0
        if self._gauge_point is None:
            training = select(s.id).where(s.namespace == TRAINING)
            monitoring = select(s.id).where(s.namespace.in_(sorted(MONITORING)))
            where: Any = or_(
                d.timestamp >= now - self.window,
                (d.timestamp >= now - self.training_window) & d.series_id.in_(training),
                (d.timestamp >= now - self.run_window) & d.series_id.in_(monitoring),
            )
        else:
            where = (d.id > self._gauge_point) & (d.id <= top)
        rows = conn.execute(
            select(d.series_id, d.timestamp, d.value, d.sample_count, d.sum).where(where)
        )
        last = self._latest
        for sid, ts, value, count, total in rows:
            sid = int(sid)
            if sid in self._totals or sid in self._hist:
                continue
            v = float(value) if value is not None else float(total) / float(count)
            held = last.get(sid)
            if held is None or ts >= held[0]:
                last[sid] = (ts, v)
        self._gauge_point = top
        oldest = now - max(self.window, self.training_window, self.run_window)
        for sid in [k for k, (ts, _) in last.items() if ts < oldest]:
            del last[sid]  # older than any window: gone for good
        return {
            sid: held for sid, held in last.items()
            if held[0] >= now - self._window_of(self._series.get(sid, ("",))[0])
        }  # fmt: skip

    def _window_of(self, namespace: str) -> timedelta:
        if namespace == TRAINING:
            return self.training_window
        return self.run_window if namespace in MONITORING else self.window

    def families(self) -> list[MetricFamily]:
        """Every platform family, with the datapoints stored up to now."""
        with self._lock, self.db.engine.connect() as conn:
            self._load_series(conn)
            self._advance(conn)
            gauges = self._gauges(conn)
        out: dict[str, MetricFamily] = {}
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()

        def family(m: Mapped) -> MetricFamily:
            fam = out.get(m.name)
            if fam is None:
                fam = out[m.name] = MetricFamily(m.name, m.type, m.help)
            return fam

        for sid, total in sorted(self._totals.items()):
            ns, name, dims = self._series[sid]
            m = KNOWN[(ns, name)]
            labels = {**labels_of(ns, name, dims), **dict(m.extra)}
            family(m).samples.append(Sample(m.name, labels, total))
        for sid, counts in sorted(self._hist.items()):
            ns, name, dims = self._series[sid]
            m = KNOWN[(ns, name)]
            family(m).samples.extend(
                histogram_samples(m.name, labels_of(ns, name, dims), m.bounds, counts[:-1],
                                  counts[-1])
            )  # fmt: skip
        generic = 0
        self.dropped = 0
        for sid, (_, value) in sorted(gauges.items()):
            ns, name, dims = self._series[sid]
            m = mapping_of(ns, name)
            labels = {**labels_of(ns, name, dims), **dict(m.extra)}
            key = (m.name, tuple(sorted(labels.items())))
            if key in seen or not math.isfinite(value):
                continue
            if (ns, name) not in KNOWN and ns not in (TRAINING, CAPTURE):
                if generic >= self.max_generic:
                    self.dropped += 1
                    continue
                generic += 1
            seen.add(key)
            family(m).samples.append(Sample(m.name, labels, value * m.scale))
        return list(out.values())
