"""The data-quality job: a window's captures profiled and checked against the baseline.

Outputs go to the execution's folder (:func:`vigil.store.artifacts.output_dir`) as SageMaker
writes them: ``statistics.json``, ``constraints.json``, ``constraint_violations.json``, plus
``report.html`` and ``analysis.json`` (and ``anomalies.json`` when the baseline carries an
outlier model: every record scored, top records named by inference id). The figures: each
feature's drift, non-null share and statistic set, the count of drifted features (and the
share of anomalous records), named by :mod:`vigil.metrics.contract`
(:func:`vigil.monitor.emission.data_quality_data`).
"""

from __future__ import annotations

from vigil.analysis.baseline import Baseline
from vigil.analysis.data_quality import analyze
from vigil.capture.window import META_COLUMNS
from vigil.metrics.contract import schedule_dimensions
from vigil.monitor.emission import data_quality_data
from vigil.monitor.lifecycle import fail_empty, figure_time, finish, outcome
from vigil.monitor.report_context import report_context
from vigil.monitor.runtime import Runtime
from vigil.monitor.windows import read_execution_window
from vigil.store.artifacts import output_dir
from vigil.store.models import Endpoint, Execution, Schedule

__all__ = ["execute_data_quality"]


def execute_data_quality(
    rt: Runtime, schedule: Schedule, ex: Execution, endpoint: Endpoint, baseline_uri: str
) -> Execution:
    """Run the data-quality execution ``ex`` against the baseline at ``baseline_uri`` (read
    once) and finish it."""
    baseline = Baseline.load(baseline_uri)
    window = read_execution_window(rt, schedule, ex, endpoint)
    if window.table.num_rows == 0:
        return fail_empty(rt, ex, window)
    ids = window.table.select([c for c in META_COLUMNS if c in window.table.column_names])
    config = schedule.config or {}
    result = analyze(
        window.features(),
        baseline,
        record_ids=ids,
        engine=config.get("engine"),
        spark_master=config.get("spark_master"),
    )
    result.bad_records = window.bad
    out = output_dir(rt.settings, schedule, ex.scheduled_time)
    result.save(out, report_context(schedule, ex))
    dims = schedule_dimensions(schedule.endpoint_name, schedule.name)
    rt.metrics.put(data_quality_data(result, dims, figure_time(schedule, ex)))
    return finish(
        rt,
        ex,
        outcome(len(result.violations)),
        None,
        records_read=result.item_count,
        records_skipped=window.bad.count,
        violation_count=len(result.violations),
        output_uri=str(out),
    )
