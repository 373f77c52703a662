"""One monitoring execution: claim, read the window, analyse, write outputs, emit metrics.

Outputs go to ``{reports}/{endpoint}/{schedule}/yyyy/mm/dd/hh/`` (the hour of the scheduled
time) as SageMaker writes them: ``statistics.json``, ``constraints.json``,
``constraint_violations.json``, plus ``report.html`` and ``analysis.json``. Every execution
emits SageMaker's metric names in SageMaker's namespace, with the dimensions ``Endpoint`` and
``MonitoringSchedule``: ``feature_baseline_drift_{f}``, ``feature_non_null_{f}`` (the share
of non-null values) and ``feature_data_{f}`` (a statistic set: count, sum, min, max), and an
``execution_status_{Status}`` count in ``vigil/Executions`` (1 for the execution's status,
0 for the other outcomes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from vigil.analysis.baseline import Baseline
from vigil.analysis.data_quality import Analysis, analyze
from vigil.analysis.estimation import load_cbpe
from vigil.analysis.model_quality import analyze_model_quality
from vigil.capture.ground_truth import join_ground_truth, read_ground_truth
from vigil.capture.window import Window, read_window
from vigil.errors import VigilError
from vigil.monitor.detector_feed import as_utc_list, feed
from vigil.schedule import parse_offset, parse_schedule, window_for
from vigil.store.datum import MetricDatum
from vigil.store.db import Database
from vigil.store.errors import LeaseLostError
from vigil.store.executions import (
    claim_execution,
    claim_rerun,
    finish_execution,
    get_execution,
)
from vigil.store.metrics import MetricStore
from vigil.store.models import BaselineRecord, Endpoint, Event, Execution, Schedule
from vigil.store.settings import Settings, ground_truth_root

log = logging.getLogger(__name__)

DATA_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
EXECUTION_NAMESPACE = "vigil/Executions"
_WINDOW_OPTIONS = (  # schedule.config keys passed to read_window
    "features_attribute",
    "inference_attribute",
    "probability_attribute",
    "feature_names",
    "preprocessor",
    "content",
)

STATUS_METRICS = ("Completed", "CompletedWithViolations", "Failed")


@dataclass
class Runtime:
    """What executions need: settings, database, metric store and this worker's id."""

    settings: Settings
    db: Database
    metrics: MetricStore
    owner: str


def execution_window(schedule: Schedule, scheduled_time: datetime) -> tuple[datetime, datetime]:
    """The window a schedule reads at ``scheduled_time`` (its offsets, else the previous
    period)."""
    start = schedule.window_start_offset or None
    end = schedule.window_end_offset or None
    return window_for(parse_schedule(schedule.expression), scheduled_time, start, end)


def output_dir(settings: Settings, schedule: Schedule, scheduled_time: datetime) -> Path:
    """``{reports}/{endpoint}/{schedule}/yyyy/mm/dd/hh/``."""
    t = scheduled_time.astimezone(timezone.utc)
    return (
        Path(settings.reports_root)
        / schedule.endpoint_name
        / schedule.name
        / f"{t:%Y}"
        / f"{t:%m}"
        / f"{t:%d}"
        / f"{t:%H}"
    )


def run_scheduled(
    rt: Runtime,
    schedule_name: str,
    scheduled_time: datetime,
    *,
    window: tuple[datetime, datetime] | None = None,
) -> Execution | None:
    """Run the execution of ``schedule_name`` at ``scheduled_time`` unless some worker has
    claimed it already (then None): each (schedule, window) runs exactly once."""
    with rt.db.session() as s:
        schedule = s.get(Schedule, schedule_name)
        if schedule is None:
            raise LookupError(f"no schedule named {schedule_name!r}")
    start, end = window or execution_window(schedule, scheduled_time)
    claimed = claim_execution(
        rt.db,
        schedule.name,
        schedule.endpoint_name,
        scheduled_time,
        start,
        end,
        rt.owner,
        rt.settings.lease_seconds,
    )
    if claimed is None:
        return None
    return _execute(rt, schedule, claimed)


def rerun(rt: Runtime, interrupted: Execution) -> Execution | None:
    """Rerun an execution that was marked Failed (interrupted) as its next attempt."""
    with rt.db.session() as s:
        schedule = s.get(Schedule, interrupted.schedule_name)
    if schedule is None:
        return None
    claimed = claim_rerun(rt.db, interrupted, rt.owner, rt.settings.lease_seconds)
    return None if claimed is None else _execute(rt, schedule, claimed)


def _execute(rt: Runtime, schedule: Schedule, ex: Execution) -> Execution:
    try:
        with rt.db.session() as s:
            endpoint = s.get(Endpoint, schedule.endpoint_name)
            record = (
                s.get(BaselineRecord, schedule.baseline_name) if schedule.baseline_name else None
            )
        if endpoint is None:
            raise LookupError(f"endpoint {schedule.endpoint_name!r} does not exist")
        if record is None:
            raise LookupError(
                f"schedule {schedule.name!r} has no baseline ({schedule.baseline_name!r} not found)"
            )
        if schedule.monitor_type == "ModelQuality":
            return _execute_model_quality(rt, schedule, ex, endpoint, record.uri)
        baseline = Baseline.load(record.uri)
        window = _read(rt, schedule, ex, endpoint)
        if window.table.num_rows == 0:
            return _empty(rt, ex, window)
        table = window.features()
        result = analyze(table, baseline)
        result.bad_records = window.bad
        out = output_dir(rt.settings, schedule, ex.scheduled_time)
        result.save(out)
        _emit(rt, schedule, ex, result)
        status = "CompletedWithViolations" if result.violations else "Completed"
        return _finish(
            rt,
            ex,
            status,
            None,
            records_read=result.item_count,
            records_skipped=window.bad.count,
            violation_count=len(result.violations),
            output_uri=str(out),
        )
    except (VigilError, LookupError, OSError, ValueError) as exc:
        log.warning("execution %s of %s failed: %s", ex.id, schedule.name, exc)
        return _finish(rt, ex, "Failed", str(exc))


MODEL_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"


def _read(
    rt: Runtime, schedule: Schedule, ex: Execution, endpoint: Endpoint, **overrides: Any
) -> Window:
    """The execution's window of captures, with the schedule's reading options."""
    options = {k: v for k, v in (schedule.config or {}).items() if k in _WINDOW_OPTIONS}
    options.update(overrides)
    return read_window(
        endpoint.capture_uri or rt.settings.capture_root,
        endpoint.name,
        ex.window_start,
        ex.window_end,
        variant=endpoint.variant,
        **options,
    )


def _empty(rt: Runtime, ex: Execution, window: Window) -> Execution:
    """Fail an execution whose window holds no record, saying where and what was read."""
    return _finish(
        rt, ex, "Failed", window.empty_reason(), records_read=0, records_skipped=window.bad.count
    )


def _execute_model_quality(
    rt: Runtime, schedule: Schedule, ex: Execution, endpoint: Endpoint, baseline_uri: str
) -> Execution:
    """Merge the window's captures with the ground truth collected since the window started,
    compute the metrics against the baseline's constraints, feed the concept-drift detectors
    and estimate performance (CBPE) from the scores of every capture."""
    cfg = dict(schedule.config or {})
    problem_type = cfg.get("problem_type")
    if not problem_type:
        raise ValueError(
            f"schedule {schedule.name!r}: a ModelQuality schedule needs config.problem_type"
        )
    window = _read(rt, schedule, ex, endpoint, content="both")
    if window.table.num_rows == 0:
        return _empty(rt, ex, window)
    columns = window.table.column_names
    prediction = "prediction" if "prediction" in columns else ("_o0" if "_o0" in columns else None)
    probability = "probability" if "probability" in columns else None
    if (
        problem_type == "BinaryClassification"
        and probability is None
        and not cfg.get("inference_attribute")
    ):
        probability, prediction = prediction, None  # a bare CSV output is the score
    threshold = float(cfg.get("probability_threshold", 0.5))
    positive = cfg.get("positive_label")
    dims = {"Endpoint": schedule.endpoint_name, "MonitoringSchedule": schedule.name}
    data: list[MetricDatum] = []
    estimator = load_cbpe(baseline_uri)
    if estimator is not None and probability is not None:
        scores = np.asarray(window.table.column(probability).to_pylist(), dtype=float)
        for key, value in estimator.estimate(scores).items():
            if key != "n" and value == value:
                data.append(
                    MetricDatum(MODEL_NAMESPACE, f"estimated_{key}", dims, ex.scheduled_time, value)
                )
    labels_end = max(ex.scheduled_time, ex.window_end)
    labels = read_ground_truth(ground_truth_root(rt.settings), ex.window_start, labels_end)
    joined = join_ground_truth(window.table, labels)
    for name, value in joined.summary().items():
        data.append(
            MetricDatum(
                MODEL_NAMESPACE,
                f"ground_truth_{name}",
                dims,
                ex.scheduled_time,
                float(value),
                unit="Count",
            )
        )
    if joined.matched == 0:
        rt.metrics.put(data)
        return _finish(
            rt,
            ex,
            "Failed",
            (
                f"no capture of the window found its ground truth: {window.table.num_rows} "
                f"capture(s), {labels.num_rows} label(s) collected between "
                f"{ex.window_start:%Y-%m-%dT%H:%M:%SZ} and {labels_end:%Y-%m-%dT%H:%M:%SZ}, "
                "none matching by inferenceId or eventId"
            ),
            records_read=window.table.num_rows,
            records_skipped=window.bad.count,
        )
    merged = joined.table.sort_by("__inference_time")
    features = merged.drop_columns([c for c in merged.column_names if c.startswith("__")])
    mq = analyze_model_quality(
        features, baseline_uri, problem_type, prediction, "label", probability, threshold, positive
    )
    out = output_dir(rt.settings, schedule, ex.scheduled_time)
    mq.save(out)
    data.extend(
        MetricDatum(MODEL_NAMESPACE, key, dims, ex.scheduled_time, value)
        for key, value in mq.metrics.items()
    )
    data.append(
        MetricDatum(
            MODEL_NAMESPACE,
            "constraint_violations",
            dims,
            ex.scheduled_time,
            float(len(mq.violations)),
            unit="Count",
        )
    )
    rt.metrics.put(data)
    streams = _drift_streams(merged, problem_type, prediction, probability, threshold, positive)
    ids = [
        i or e
        for i, e in zip(
            merged.column("__inference_id").to_pylist(), merged.column("__event_id").to_pylist()
        )
    ]
    feed(
        rt.db,
        rt.metrics,
        endpoint=schedule.endpoint_name,
        schedule=schedule.name,
        streams=streams,
        times=as_utc_list(merged.column("__inference_time").to_pylist()),
        record_ids=ids,
        detectors=cfg.get("detectors"),
    )
    status = "CompletedWithViolations" if mq.violations else "Completed"
    return _finish(
        rt,
        ex,
        status,
        None,
        records_read=joined.matched,
        records_skipped=window.bad.count,
        violation_count=len(mq.violations),
        output_uri=str(out),
    )


def _drift_streams(
    table: Any,
    problem_type: str,
    prediction: str | None,
    probability: str | None,
    threshold: float,
    positive: Any,
) -> dict[str, np.ndarray]:
    """The per-record error stream (0/1 errors, or absolute errors for regression) and the
    score stream, in inference-time order."""
    label = np.asarray(table.column("label").to_pylist(), dtype=object)
    if problem_type == "Regression":
        pred = np.asarray(table.column(prediction).to_pylist(), dtype=float)
        return {"error": np.abs(pred - label.astype(float)), "score": pred}
    if prediction is not None:
        predicted = list(table.column(prediction).to_pylist())
    else:
        scores = np.asarray(table.column(probability).to_pylist(), dtype=float)
        pos = 1 if positive is None else positive
        predicted = [pos if s >= threshold else None for s in scores]
    errors = np.array([0.0 if _same(p, y, positive) else 1.0 for p, y in zip(predicted, label)])
    streams = {"error": errors}
    if probability is not None:
        streams["score"] = np.asarray(table.column(probability).to_pylist(), dtype=float)
    return streams


def _same(predicted: Any, actual: Any, positive: Any) -> bool:
    """Whether a prediction equals a label (None: "not the positive class")."""
    if predicted is None:
        return not _same(1 if positive is None else positive, actual, positive)
    if str(predicted) == str(actual):
        return True
    try:
        return float(predicted) == float(actual)
    except (TypeError, ValueError):
        return False


def _finish(
    rt: Runtime, ex: Execution, status: str, reason: str | None, **counts: Any
) -> Execution:
    try:
        done = finish_execution(rt.db, ex.id, status, reason, owner=rt.owner, **counts)
    except LeaseLostError:  # stopped (or recovered) meanwhile: that status stands
        log.info("execution %s was stopped before it finished", ex.id)
        return get_execution(rt.db, ex.id)
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
    # 1 for the execution's status and 0 for the other outcomes, so that an alarm on
    # ``execution_status_CompletedWithViolations`` sees the clean run that follows a bad one
    rt.metrics.put(
        [
            MetricDatum(
                EXECUTION_NAMESPACE,
                f"execution_status_{name}",
                {"Endpoint": ex.endpoint_name, "MonitoringSchedule": ex.schedule_name},
                ex.scheduled_time,
                1.0 if name == status else 0.0,
                unit="Count",
            )
            for name in dict.fromkeys([status, *STATUS_METRICS])
        ]
    )
    return done


def _emit(rt: Runtime, schedule: Schedule, ex: Execution, result: Analysis) -> None:
    dims = {"Endpoint": schedule.endpoint_name, "MonitoringSchedule": schedule.name}
    t = ex.scheduled_time
    data = [
        MetricDatum(DATA_NAMESPACE, f"feature_baseline_drift_{name}", dims, t, r.value)
        for name, r in result.drift.items()
        if r.value == r.value
    ]
    for f in result.statistics.features:
        common = f.common
        if common is not None and common.num_present + common.num_missing:
            share = common.num_present / (common.num_present + common.num_missing)
            data.append(MetricDatum(DATA_NAMESPACE, f"feature_non_null_{f.name}", dims, t, share))
        ns = f.numerical_statistics
        if ns is not None and ns.common.num_present and ns.sum is not None:
            data.append(
                MetricDatum(
                    DATA_NAMESPACE,
                    f"feature_data_{f.name}",
                    dims,
                    t,
                    sample_count=ns.common.num_present,
                    sum=ns.sum,
                    minimum=ns.min,
                    maximum=ns.max,
                )
            )
    data.append(
        MetricDatum(
            DATA_NAMESPACE,
            "drifted_features",
            dims,
            t,
            float(sum(r.drifted for r in result.drift.values())),
            unit="Count",
        )
    )
    rt.metrics.put(data)


def validate_offsets(start: str | None, end: str | None) -> None:
    """Raise ConfigError for an offset that does not parse."""
    for value in (start, end):
        if value:
            parse_offset(value)
