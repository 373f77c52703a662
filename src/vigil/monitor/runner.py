"""One monitoring execution: claim, read the window, analyse, write outputs, emit metrics.

Outputs go to ``{reports}/{endpoint}/{schedule}/yyyy/mm/dd/hh/`` (the hour of the scheduled
time) as SageMaker writes them: ``statistics.json``, ``constraints.json``,
``constraint_violations.json``, plus ``report.html`` and ``analysis.json``. Every execution
emits SageMaker's metric names in SageMaker's namespace, with the dimensions ``Endpoint`` and
``MonitoringSchedule``: ``feature_baseline_drift_{f}``, ``feature_non_null_{f}`` (the share
of non-null values) and ``feature_data_{f}`` (a statistic set: count, sum, min, max), and an
``execution_status_{Status}`` count in ``vigil/Executions``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vigil.capture.window import read_window
from vigil.errors import VigilError
from vigil.monitor.analysis import Analysis, analyze
from vigil.monitor.baseline import Baseline
from vigil.monitor.schedule import parse_offset, parse_schedule, window_for
from vigil.settings import Settings
from vigil.store.datum import MetricDatum
from vigil.store.db import Database
from vigil.store.executions import (
    claim_execution,
    claim_rerun,
    finish_execution,
)
from vigil.store.metrics import MetricStore
from vigil.store.models import BaselineRecord, Endpoint, Execution, Schedule

log = logging.getLogger(__name__)

DATA_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
EXECUTION_NAMESPACE = "vigil/Executions"
_WINDOW_OPTIONS = (
    "features_attribute",
    "inference_attribute",
    "probability_attribute",
    "feature_names",
    "preprocessor",
    "content",
)


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
        baseline = Baseline.load(record.uri)
        options = {k: v for k, v in (schedule.config or {}).items() if k in _WINDOW_OPTIONS}
        window = read_window(
            endpoint.capture_uri or rt.settings.capture_root,
            endpoint.name,
            ex.window_start,
            ex.window_end,
            variant=endpoint.variant,
            **options,
        )
        if window.table.num_rows == 0:
            return _finish(
                rt,
                ex,
                "Failed",
                window.empty_reason(),
                records_read=0,
                records_skipped=window.bad.count,
            )
        table = window.table.drop_columns(
            [c for c in window.table.column_names if c.startswith("__")]
        )
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


def _finish(
    rt: Runtime, ex: Execution, status: str, reason: str | None, **counts: Any
) -> Execution:
    done = finish_execution(rt.db, ex.id, status, reason, owner=rt.owner, **counts)
    rt.metrics.put(
        [
            MetricDatum(
                EXECUTION_NAMESPACE,
                f"execution_status_{status}",
                {"Endpoint": ex.endpoint_name, "MonitoringSchedule": ex.schedule_name},
                ex.scheduled_time,
                1.0,
                unit="Count",
            )
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
    rt.metrics.put(data)


def validate_offsets(start: str | None, end: str | None) -> None:
    """Raise ConfigError for an offset that does not parse."""
    for value in (start, end):
        if value:
            parse_offset(value)
