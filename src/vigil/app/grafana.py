"""Vigil's Grafana dashboards over what ``GET /metrics`` exposes (``vigil export grafana``).

Three dashboards, linked to each other by their tag ``vigil``:

- **Vigil: models** (``vigil-models``): monitoring executions (finished by status, running,
  duration), each feature's drift and non-null share, the count of drifted features, the
  alarms by state and each alarm's state, notification deliveries;
- **Vigil: serving** (``vigil-serving``): requests, 4xx/5xx errors and the 5xx ratio, model
  and overhead latency quantiles, captured records;
- **Vigil: platform** (``vigil-platform``): hosts' CPU, memory, disk, network and GPU, named
  processes, training jobs' metrics, platform job and pipeline runs, the Vigil server itself.

Every metric name and label comes from the exporter (:mod:`vigil.app.prom_exporter`'s
constants, :func:`vigil.app.prom_platform.mapping_of` and ``labels_of`` over the metric
contract's names), so a renamed series breaks the export's tests instead of leaving a panel
empty. Threshold lines are the platform's default alarms' thresholds
(:class:`~vigil.alerts.platform.PlatformDefaults`) and the default drift threshold of
suggested constraints; :func:`dashboards` takes other defaults (e.g. an installation's).

Each feature's drift is its own series in the exposition (``..._feature_baseline_drift_<f>``,
``<f>`` the feature's name in snake case): the panels select them by name and take ``<f>``
into a ``feature`` label with ``label_replace``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from vigil.alerts.platform import PlatformDefaults
from vigil.app import prom_exporter as px
from vigil.app.grafana_model import Dashboard, Panel, Row, Target, Threshold, Variable, render
from vigil.app.prom_platform import (
    CAPTURE,
    HOST,
    KNOWN,
    PLATFORM,
    PROCESS,
    SAGEMAKER,
    TRAINING,
    TRAINING_METRIC,
    labels_of,
    mapping_of,
)
from vigil.checks.suggest import ConstraintOptions
from vigil.errors import NotFoundError
from vigil.metrics import contract as mc
from vigil.metrics import serving as sv

__all__ = ["DASHBOARDS", "dashboards", "exported", "file_name"]

RATE = "$__rate_interval"
#: the label Prometheus gives each scraped target: the dashboards read one Vigil server
INSTANCE = "instance"


def _known(namespace: str, metric: str) -> str:
    """The Prometheus name of a stored metric the exporter maps by name (fails otherwise)."""
    mapped = KNOWN.get((namespace, metric))
    if mapped is None:
        raise NotFoundError(f"the exporter maps no {namespace} {metric}")
    return mapped.name


def _label(namespace: str, metric: str, dims: Mapping[str, str], dimension: str) -> str:
    """The label a stored series' dimension becomes (by the exporter's own renaming)."""
    marker = "\x00"
    labels = labels_of(namespace, metric, {**dims, dimension: marker})
    return next(k for k, v in labels.items() if v == marker)


def _name_prefix(namespace: str, name_of: Callable[[str], str]) -> str:
    """The exposed name of a per-feature metric without the feature (``..._drift_``)."""
    full = mapping_of(namespace, name_of("x")).name
    if not full.endswith("_x"):
        raise NotFoundError(f"{full}: a per-feature name does not end with the feature")
    return full[:-1]


# -- the names, from the exporter -----------------------------------------------------------

DQ = mc.DATA_QUALITY_NAMESPACE
_SCHEDULE_DIMS = mc.schedule_dimensions("e", "s")
DRIFT_PREFIX = _name_prefix(DQ, mc.feature_baseline_drift)
NON_NULL_PREFIX = _name_prefix(DQ, mc.feature_non_null)
DRIFTED = mapping_of(DQ, mc.DRIFTED_FEATURES).name
DQ_ENDPOINT = _label(DQ, mc.DRIFTED_FEATURES, _SCHEDULE_DIMS, mc.ENDPOINT)
DQ_SCHEDULE = _label(DQ, mc.DRIFTED_FEATURES, _SCHEDULE_DIMS, mc.MONITORING_SCHEDULE)

_SERVING_DIMS = {"EndpointName": "e", "VariantName": "v"}
INVOCATIONS = _known(SAGEMAKER, sv.INVOCATIONS)
ERRORS = _known(SAGEMAKER, sv.ERRORS_5XX)
MODEL_LATENCY = _known(SAGEMAKER, sv.MODEL_LATENCY)
OVERHEAD_LATENCY = _known(SAGEMAKER, sv.OVERHEAD_LATENCY)
ENDPOINT = _label(SAGEMAKER, sv.INVOCATIONS, _SERVING_DIMS, "EndpointName")
VARIANT = _label(SAGEMAKER, sv.INVOCATIONS, _SERVING_DIMS, "VariantName")
CODE_CLASS = dict(KNOWN[(SAGEMAKER, sv.ERRORS_5XX)].extra)
CAPTURED = mapping_of(CAPTURE, mc.CAPTURE_COUNTERS["captured"]).name
CAPTURE_DROPPED = mapping_of(CAPTURE, mc.CAPTURE_COUNTERS["dropped"]).name
CAPTURE_WRITTEN = mapping_of(CAPTURE, mc.CAPTURE_COUNTERS["written"]).name
CAPTURE_ENDPOINT = _label(CAPTURE, "x", mc.capture_dimensions("e", "v"), mc.ENDPOINT)

_HOST_DIMS = {"Host": "h"}
HOST_CPU = _known(HOST, "CPUUtilization")
HOST_MEMORY = _known(HOST, "MemoryUtilization")
HOST_MEMORY_USED = _known(HOST, "MemoryUsed")
HOST_MEMORY_LIMIT = _known(HOST, "MemoryLimit")
HOST_DISK = _known(HOST, "DiskUtilization")
HOST_RECEIVED = _known(HOST, "NetworkReceived")
HOST_TRANSMITTED = _known(HOST, "NetworkTransmitted")
GPU_UTILIZATION = _known(HOST, "GPUUtilization")
GPU_MEMORY = _known(HOST, "GPUMemoryUtilization")
GPU_MEMORY_USED = _known(HOST, "GPUMemoryUsed")
GPU_TEMPERATURE = _known(HOST, "GPUTemperature")
GPU_POWER = _known(HOST, "GPUPower")
PROCESS_CPU = _known(PROCESS, "ProcessCPUUtilization")
PROCESS_MEMORY = _known(PROCESS, "ProcessMemoryResident")
HOST_LABEL = _label(HOST, "CPUUtilization", {}, "Host")
MOUNT = _label(HOST, "DiskUtilization", _HOST_DIMS, "Mount")
GPU = _label(HOST, "GPUUtilization", _HOST_DIMS, "GPU")
PROCESS_LABEL = _label(PROCESS, "ProcessCPUUtilization", _HOST_DIMS, "Process")

JOB_METRIC = TRAINING_METRIC.name
TRAINING_JOB = _label(TRAINING, "loss", {}, "TrainingJobName")
RUNS_STARTED = _known(PLATFORM, "RunsStarted")
RUNS = _known(PLATFORM, "RunsFailed")
RUN_DURATION = _known(PLATFORM, "RunDuration")
RUN_STATUS = dict(KNOWN[(PLATFORM, "RunsFailed")].extra)


def _sel(metric: str, *matchers: str) -> str:
    """A selector of ``metric`` on the chosen Vigil server (several servers sharing one
    database expose the same figures, so each panel reads one of them)."""
    return metric + "{" + ", ".join((f'{INSTANCE}="$instance"', *matchers)) + "}"


def _ratio(percent: float) -> float:
    return percent / 100.0


def _quantiles(metric: str, by: str, what: str, *matchers: str) -> tuple[Target, ...]:
    bucket = _sel(f"{metric}_bucket", *matchers)
    return tuple(
        Target(
            f"histogram_quantile({q}, sum by (le, {by}) (rate({bucket}[{RATE}])))",
            f"{what} p{round(q * 100)} {{{{{by}}}}}",
        )
        for q in (0.5, 0.9, 0.99)
    )


def _per_feature(prefix: str, *matchers: str) -> str:
    """Every feature's series of a per-feature family, with the feature as a label."""
    series = _sel("", f'__name__=~"{prefix}.+"', *matchers)
    return f'label_replace({series}, "feature", "$1", "__name__", "{prefix}(.+)")'


def _legend(*labels: str) -> str:
    return " ".join("{{" + label + "}}" for label in labels)


_SERVER = Variable(
    "instance", "Vigil server", f"label_values({px.BUILD_INFO}, {INSTANCE})",
    "The Vigil server to read (servers sharing a database expose the same figures).",
    multi=False,
)  # fmt: skip


def _variable(name: str, label: str, metric: str, label_name: str, *matchers: str) -> Variable:
    return Variable(name, label, f"label_values({_sel(metric, *matchers)}, {label_name})")


def models(defaults: PlatformDefaults, drift_threshold: float) -> Dashboard:
    """Monitoring executions, drift, alarms and notifications."""
    sched = 'schedule=~"$schedule"'
    dq = (f'{DQ_ENDPOINT}=~"$endpoint"', f'{DQ_SCHEDULE}=~"$schedule"')
    in_alarm = _sel(px.ALARM_STATE, 'state="ALARM"')
    executions = Row("Monitoring executions", (
        Panel("Executions finished, by status",
              "Executions that ended in each interval (Completed, CompletedWithViolations, "
              "Failed, Stopped).",
              (Target(f"sum by (status) (increase({_sel(px.EXECUTIONS_TOTAL, sched)}[{RATE}]))",
                      _legend("status")),),
              unit="short", min=0, axis_label="executions", width=8),
        Panel("Executions pending or running", "Executions not finished yet, by status.",
              (Target(f"sum by (status) ({_sel(px.EXECUTIONS_ACTIVE, sched)})",
                      _legend("status")),),
              unit="short", min=0, step=True, axis_label="executions", width=8),
        Panel("Execution duration", "Quantiles of finished executions' durations.",
              _quantiles(px.EXECUTION_DURATION, "schedule", "duration", sched),
              unit="s", min=0, axis_label="duration", width=8),
    ))  # fmt: skip
    drift = Row("Drift", (
        Panel("Drift per feature",
              "Each feature's distance to the baseline at each execution "
              "(feature_baseline_drift).",
              (Target(_per_feature(DRIFT_PREFIX, *dq), _legend("feature", DQ_ENDPOINT)),),
              unit="none", min=0, points=True, axis_label="distance",
              thresholds=(Threshold(drift_threshold, "default drift threshold"),)),
        Panel("Drifted features",
              "How many features' drift passed their threshold at each execution; the "
              "schedule's drift alarm fires above 0.",
              (Target(_sel(DRIFTED, *dq), _legend(DQ_SCHEDULE)),),
              unit="short", min=0, step=True, points=True, axis_label="features",
              thresholds=(Threshold(1, "the drift alarm (1 or more)"),), width=6),
        Panel("Non-null share per feature",
              "Each feature's share of values present in the window.",
              (Target(_per_feature(NON_NULL_PREFIX, *dq), _legend("feature")),),
              unit="percentunit", min=0, max=1, points=True, axis_label="present", width=6),
    ))  # fmt: skip
    alarms = Row("Alarms and notifications", (
        Panel("Alarms by state", "How many alarms are in each state.",
              (Target(f"sum by (state) ({_sel(px.ALARMS)})", _legend("state")),),
              unit="short", min=0, step=True, axis_label="alarms", width=8),
        Panel("Alarms in ALARM", "Each alarm: 1 while it is in ALARM, 0 otherwise.",
              (Target(in_alarm, _legend("alarm")),),
              unit="short", min=0, max=1, step=True, axis_label="in ALARM", width=8,
              thresholds=(Threshold(1, "ALARM"),)),
        Panel("Notification deliveries", "Deliveries in the outbox by status; dead ones "
              "failed for good (vigil delivery redrive).",
              (Target(f"sum by (status) ({_sel(px.OUTBOX_ITEMS)})", _legend("status")),),
              unit="short", min=0, step=True, axis_label="deliveries", width=8,
              thresholds=(Threshold(1, "a dead delivery"),)),
    ))  # fmt: skip
    return Dashboard(
        "vigil-models", "Vigil: models",
        "Monitoring executions, drift per feature, alarms and notifications.",
        (executions, drift, alarms),
        (_SERVER,
         _variable("endpoint", "Endpoint", DRIFTED, DQ_ENDPOINT),
         _variable("schedule", "Schedule", px.EXECUTIONS_TOTAL, "schedule")),
        links=(_links(),),
    )  # fmt: skip


def serving(defaults: PlatformDefaults) -> Dashboard:
    """Endpoints' requests, errors, latency and captured records."""
    ep = (f'{ENDPOINT}=~"$endpoint"', f'{VARIANT}=~"$variant"')
    limits = defaults.endpoint_alarms
    code_label, code_5xx = next(iter(CODE_CLASS.items()))
    errors_5xx = _sel(ERRORS, *ep, f'{code_label}="{code_5xx}"')
    ratio = (f"sum by ({ENDPOINT}) (rate({errors_5xx}[{RATE}])) / "
             f"sum by ({ENDPOINT}) (rate({_sel(INVOCATIONS, *ep)}[{RATE}]))")  # fmt: skip
    traffic = Row("Traffic and errors", (
        Panel("Requests", "Requests per second by endpoint and variant.",
              (Target(f"sum by ({ENDPOINT}, {VARIANT}) "
                      f"(rate({_sel(INVOCATIONS, *ep)}[{RATE}]))", _legend(ENDPOINT, VARIANT)),),
              unit="reqps", min=0, axis_label="requests", width=8),
        Panel("Errors", "Requests answered with an error, per second, by status class.",
              (Target(f"sum by ({ENDPOINT}, {code_label}) (rate({_sel(ERRORS, *ep)}[{RATE}]))",
                      _legend(ENDPOINT, code_label)),),
              unit="reqps", min=0, axis_label="errors", width=8),
        Panel("5xx error ratio", "The share of requests answered 5xx; the endpoint's "
              "5xx-errors alarm compares it per minute.",
              (Target(ratio, _legend(ENDPOINT)),),
              unit="percentunit", min=0, axis_label="5xx share", width=8,
              thresholds=(Threshold(limits.error_rate, "default 5xx-errors alarm"),)),
    ))  # fmt: skip
    latency = Row("Latency", (
        Panel("Model latency", "Time the model took to answer (quantiles from the buckets).",
              _quantiles(MODEL_LATENCY, ENDPOINT, "model", *ep),
              unit="s", min=0, axis_label="latency",
              thresholds=(Threshold(limits.p99_latency_ms / 1000.0,
                                    "default p99-latency alarm"),)),
        Panel("Overhead latency", "Time the serving layer added to the model's.",
              _quantiles(OVERHEAD_LATENCY, ENDPOINT, "overhead", *ep),
              unit="s", min=0, axis_label="latency"),
    ))  # fmt: skip
    cep = f'{CAPTURE_ENDPOINT}=~"$endpoint"'
    capture = Row("Data capture", (
        Panel("Captured records", "Records per second the capture writers took, wrote and "
              "dropped.",
              tuple(
                  Target(f"sum by ({CAPTURE_ENDPOINT}) (rate({_sel(metric, cep)}[{RATE}]))",
                         f"{what} {_legend(CAPTURE_ENDPOINT)}")
                  for what, metric in (("captured", CAPTURED), ("written", CAPTURE_WRITTEN),
                                       ("dropped", CAPTURE_DROPPED))
              ),
              unit="cps", min=0, axis_label="records", width=24),
    ))  # fmt: skip
    return Dashboard(
        "vigil-serving", "Vigil: serving",
        "Endpoints' requests, errors, latency and captured records.",
        (traffic, latency, capture),
        (_SERVER,
         _variable("endpoint", "Endpoint", INVOCATIONS, ENDPOINT),
         _variable("variant", "Variant", INVOCATIONS, VARIANT, f'{ENDPOINT}=~"$endpoint"')),
        links=(_links(),),
    )  # fmt: skip


def platform(defaults: PlatformDefaults) -> Dashboard:
    """Hosts, GPUs, processes, training jobs, platform runs and the Vigil server."""
    h = f'{HOST_LABEL}=~"$host"'
    limits = defaults.host_alarms
    hosts = Row("Hosts", (
        Panel("CPU", "CPU in use as a ratio of one vCPU (up to the vCPU count).",
              (Target(_sel(HOST_CPU, h), _legend(HOST_LABEL)),),
              unit="percentunit", min=0, axis_label="CPU", width=8),
        Panel("Memory", "Memory in use as a share of what the host (or its cgroup) allows.",
              (Target(_sel(HOST_MEMORY, h), _legend(HOST_LABEL)),),
              unit="percentunit", min=0, max=1, axis_label="memory", width=8,
              thresholds=(Threshold(_ratio(limits.memory_percent), "default memory alarm"),)),
        Panel("Memory used", "Memory in use and its limit.",
              (Target(_sel(HOST_MEMORY_USED, h), f"used {_legend(HOST_LABEL)}"),
               Target(_sel(HOST_MEMORY_LIMIT, h), f"limit {_legend(HOST_LABEL)}")),
              unit="bytes", min=0, axis_label="memory", width=8),
        Panel("Disk", "Each mount's share in use.",
              (Target(_sel(HOST_DISK, h), _legend(HOST_LABEL, MOUNT)),),
              unit="percentunit", min=0, max=1, axis_label="disk", width=8,
              thresholds=(Threshold(_ratio(limits.disk_percent), "default disk alarm"),)),
        Panel("Network", "Bytes per second received and sent.",
              (Target(f"rate({_sel(HOST_RECEIVED, h)}[{RATE}])", f"in {_legend(HOST_LABEL)}"),
               Target(f"rate({_sel(HOST_TRANSMITTED, h)}[{RATE}])",
                      f"out {_legend(HOST_LABEL)}")),
              unit="Bps", min=0, axis_label="traffic", width=8),
        Panel("Named processes", "CPU of each named process (1 = one core).",
              (Target(_sel(PROCESS_CPU, h), _legend(HOST_LABEL, PROCESS_LABEL)),),
              unit="percentunit", min=0, axis_label="CPU", width=8),
    ))  # fmt: skip
    g = (h, f'{GPU}!=""')  # per device (the host's sums have no device label)
    per_gpu = f"{_legend(HOST_LABEL)} GPU {_legend(GPU)}"
    gpus = Row("GPUs", (
        Panel("GPU utilization", "Share of time a kernel ran, per device.",
              (Target(_sel(GPU_UTILIZATION, *g), per_gpu),),
              unit="percentunit", min=0, max=1, axis_label="busy", width=6),
        Panel("GPU memory", "Device memory in use.",
              (Target(_sel(GPU_MEMORY_USED, *g), per_gpu),),
              unit="bytes", min=0, axis_label="memory", width=6),
        Panel("GPU temperature", "Device temperature.",
              (Target(_sel(GPU_TEMPERATURE, *g), per_gpu),),
              unit="celsius", axis_label="temperature", width=6),
        Panel("GPU power", "Device power draw.",
              (Target(_sel(GPU_POWER, *g), per_gpu),),
              unit="watt", min=0, axis_label="power", width=6),
        Panel("GPU memory share", "Device memory in use as a share of its capacity.",
              (Target(_sel(GPU_MEMORY, *g), per_gpu),),
              unit="percentunit", min=0, max=1, axis_label="memory", width=24, height=6),
    ))  # fmt: skip
    status = next(iter(RUN_STATUS))
    jobs = Row("Training jobs and platform runs", (
        Panel("Training job metrics", "The last value of each training job's metrics "
              "(loss, accuracy...).",
              (Target(_sel(JOB_METRIC, f'{TRAINING_JOB}=~"$training_job"'),
                      _legend(TRAINING_JOB, "metric")),),
              unit="none", axis_label="value", width=8),
        Panel("Job and pipeline runs", "Runs started and finished by status in each "
              "interval.",
              (Target(f"sum by (kind, name) (increase({_sel(RUNS_STARTED)}[{RATE}]))",
                      f"started {_legend('kind', 'name')}"),
               Target(f"sum by (kind, name, {status}) (increase({_sel(RUNS)}[{RATE}]))",
                      _legend(status, "kind", "name"))),
              unit="short", min=0, axis_label="runs", width=8),
        Panel("Run duration", "Quantiles of finished runs' durations.",
              _quantiles(RUN_DURATION, "name", "duration"),
              unit="s", min=0, axis_label="duration", width=8),
    ))  # fmt: skip
    server = Row("Vigil server", (
        Panel("Version", "The Vigil version the server runs.",
              (Target(f"count by (version) ({_sel(px.BUILD_INFO)})", _legend("version"),
                      instant=True),),
              unit="short", kind="stat", text="name", width=4, height=6),
        Panel("Dropped series", "Stored series left out of the exposition (over its cap).",
              (Target(f"max({_sel(px.GENERIC_SERIES_DROPPED)})", "dropped"),),
              unit="short", kind="stat", width=4, height=6,
              thresholds=(Threshold(1, "series dropped"),)),
        Panel("Server CPU", "CPU time the server process uses per second (1 = one core).",
              (Target(f"rate({_sel(px.PROCESS_CPU_SECONDS)}[{RATE}])", _legend(INSTANCE)),),
              unit="percentunit", min=0, axis_label="CPU", width=8, height=6),
        Panel("Server memory", "Resident memory of the server process.",
              (Target(_sel(px.PROCESS_RESIDENT_MEMORY), _legend(INSTANCE)),),
              unit="bytes", min=0, axis_label="memory", width=8, height=6),
        Panel("Events", "Platform events stored per second, by kind.",
              (Target(f"sum by (kind) (rate({_sel(px.EVENTS_TOTAL)}[{RATE}]))",
                      _legend("kind")),),
              unit="ops", min=0, axis_label="events", width=12),
        Panel("Action runs", "Runs of rules' actions and workflows started per interval, "
              "by status.",
              (Target(f"sum by (status) (increase({_sel(px.ACTION_RUNS_TOTAL)}[{RATE}]))",
                      _legend("status")),),
              unit="short", min=0, axis_label="runs", width=12),
    ))  # fmt: skip
    return Dashboard(
        "vigil-platform", "Vigil: platform",
        "Hosts, GPUs and processes, training jobs, platform runs, and the Vigil server.",
        (hosts, gpus, jobs, server),
        (_SERVER,
         _variable("host", "Host", HOST_CPU, HOST_LABEL),
         _variable("training_job", "Training job", JOB_METRIC, TRAINING_JOB)),
        links=(_links(),),
    )  # fmt: skip


def _links() -> dict[str, object]:
    return {
        "title": "Vigil", "type": "dashboards", "tags": ["vigil"], "asDropdown": True,
        "icon": "external link", "tooltip": "", "targetBlank": False, "includeVars": False,
        "keepTime": True,
    }  # fmt: skip


#: the dashboards by short name (``--dashboard``)
DASHBOARDS = ("models", "serving", "platform")


def dashboards(
    defaults: PlatformDefaults | None = None, drift_threshold: float | None = None
) -> dict[str, Dashboard]:
    """Every dashboard by short name; thresholds from ``defaults`` (the platform's own when
    None) and ``drift_threshold`` (suggested constraints' ``comparison_threshold``)."""
    d = defaults or PlatformDefaults()
    t = ConstraintOptions().comparison_threshold if drift_threshold is None else drift_threshold
    return {"models": models(d, t), "serving": serving(d), "platform": platform(d)}


def file_name(board: Dashboard) -> str:
    """The file a dashboard is written to: ``<uid>.json``."""
    return f"{board.uid}.json"


def exported(
    names: tuple[str, ...] = DASHBOARDS, datasource_uid: str | None = None
) -> dict[str, dict[str, object]]:
    """The JSON of the dashboards named (by file name), for sharing unless
    ``datasource_uid`` is given (see :func:`vigil.app.grafana_model.render`)."""
    boards = dashboards()
    return {file_name(boards[n]): render(boards[n], datasource_uid) for n in names}
