"""The model-quality job: a window's captures joined with their ground truth and evaluated.

One execution, in five steps, each a function here:

1. read the window (captures with their outputs) and find which columns hold the prediction
   and the score (:func:`output_columns`);
2. estimate performance from the scores of every capture with the baseline's CBPE
   calibration, before labels arrive (:func:`estimate_performance`);
3. join the ground truth collected since the window started and count what matched
   (:func:`join_labels`);
4. compute the metrics of the matched records against the baseline's constraints and save
   SageMaker's files, ``analysis.json`` and ``report.html`` naming the execution
   (:func:`evaluate`);
5. feed the concept-drift detectors the records in inference-time order
   (:func:`feed_detectors`).

The baseline is read once (:func:`~vigil.analysis.model_quality.load_model_quality_baseline`)
and handed to the steps. The figures are named by :mod:`vigil.metrics.contract`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from vigil.analysis.model_quality import (
    ModelQualityAnalysis,
    ModelQualityBaseline,
    analyze_model_quality,
    load_model_quality_baseline,
)
from vigil.capture.ground_truth import (
    LABEL_COLUMN,
    GroundTruthJoin,
    join_ground_truth,
    read_ground_truth,
)
from vigil.capture.window import Window
from vigil.checks.cbpe import CBPE
from vigil.errors import ConfigError
from vigil.formats.model_quality import ModelQualityConstraints
from vigil.metrics.contract import schedule_dimensions
from vigil.metrics.datum import MetricDatum
from vigil.monitor.detector_feed import Detection, as_utc_list, feed
from vigil.monitor.drift_streams import drift_streams
from vigil.monitor.emission import (
    conditional_entropy_data,
    estimate_data,
    ground_truth_data,
    model_quality_data,
    prediction_data,
)
from vigil.monitor.lifecycle import FAILED, fail_empty, figure_time, finish, outcome
from vigil.monitor.report_context import report_context
from vigil.monitor.runtime import Runtime
from vigil.monitor.windows import read_execution_window
from vigil.store.artifacts import ground_truth_root, output_dir
from vigil.store.models import Endpoint, Execution, Schedule

__all__ = [
    "LabelJoin",
    "OutputColumns",
    "estimate_performance",
    "evaluate",
    "execute_model_quality",
    "feed_detectors",
    "join_labels",
    "no_labels_reason",
    "output_columns",
]


@dataclass(frozen=True)
class OutputColumns:
    """Which columns of a window hold the model's outputs, and how a score is read."""

    problem_type: str
    prediction: str | None
    probability: str | None
    threshold: float
    positive: Any


@dataclass(frozen=True)
class LabelJoin:
    """The window's captures joined with their labels, and the labels' time range."""

    joined: GroundTruthJoin
    labels: pa.Table
    end: datetime


def execute_model_quality(
    rt: Runtime, schedule: Schedule, ex: Execution, endpoint: Endpoint, baseline_uri: str
) -> Execution:
    """Run the model-quality execution ``ex`` against the baseline at ``baseline_uri`` (read
    once) and finish it."""
    cfg = dict(schedule.config or {})
    problem_type = cfg.get("problem_type")
    if not problem_type:
        raise ConfigError(
            f"schedule {schedule.name!r}: a ModelQuality schedule needs config.problem_type"
        )
    baseline = load_model_quality_baseline(baseline_uri)
    window = read_execution_window(rt, schedule, ex, endpoint, content="both")
    if window.table.num_rows == 0:
        return fail_empty(rt, ex, window)
    columns = output_columns(window.table.column_names, str(problem_type), cfg)
    dims = schedule_dimensions(schedule.endpoint_name, schedule.name)
    estimator = baseline.estimator if isinstance(baseline, ModelQualityBaseline) else None
    data = estimate_performance(estimator, window, columns, dims, figure_time(schedule, ex))
    data.extend(predictions(window, columns, dims, figure_time(schedule, ex)))
    labels = join_labels(rt, ex, window)
    data.extend(ground_truth_data(labels.joined.summary(), dims, figure_time(schedule, ex)))
    if labels.joined.matched == 0:
        rt.metrics.put(data)
        return finish(
            rt,
            ex,
            FAILED,
            no_labels_reason(ex, window, labels),
            records_read=window.table.num_rows,
            records_skipped=window.bad.count,
        )
    merged = labels.joined.table.sort_by("__inference_time")
    mq = evaluate(
        merged,
        baseline,
        columns,
        max_conditional_entropy_change=cfg.get("max_conditional_entropy_change"),
        engine=cfg.get("engine"),
        spark_master=cfg.get("spark_master"),
    )
    out = output_dir(rt.settings, schedule, ex.scheduled_time)
    mq.bad_records = window.bad  # the captures that could not be read, with examples
    base_stats = baseline.statistics if isinstance(baseline, ModelQualityBaseline) else None
    mq.save(out, report_context(schedule, ex), base_stats)
    data.extend(model_quality_data(mq.metrics, len(mq.violations), dims, figure_time(schedule, ex)))
    data.extend(conditional_entropy_data(mq.conditional_entropy, dims, figure_time(schedule, ex)))
    rt.metrics.put(data)
    feed_detectors(rt, schedule, merged, columns, cfg.get("detectors"))
    return finish(
        rt,
        ex,
        outcome(len(mq.violations)),
        None,
        records_read=labels.joined.matched,
        records_skipped=window.bad.count,
        violation_count=len(mq.violations),
        output_uri=str(out),
    )


def output_columns(
    names: Sequence[str], problem_type: str, config: Mapping[str, Any]
) -> OutputColumns:
    """The prediction and score columns of a window with columns ``names``: ``prediction``
    (else a bare CSV output ``_o0``) and ``probability``; for a binary classifier without an
    ``inference_attribute``, a bare output is the score.

    >>> c = output_columns(["_c0", "_o0"], "BinaryClassification", {})
    >>> c.prediction, c.probability, c.threshold
    (None, '_o0', 0.5)
    """
    prediction = "prediction" if "prediction" in names else ("_o0" if "_o0" in names else None)
    probability = "probability" if "probability" in names else None
    if (
        problem_type == "BinaryClassification"
        and probability is None
        and not config.get("inference_attribute")
    ):
        probability, prediction = prediction, None  # a bare CSV output is the score
    return OutputColumns(
        problem_type=problem_type,
        prediction=prediction,
        probability=probability,
        threshold=float(config.get("probability_threshold", 0.5)),
        positive=config.get("positive_label"),
    )


def estimate_performance(
    estimator: CBPE | None,
    window: Window,
    columns: OutputColumns,
    dims: Mapping[str, str],
    t: datetime,
) -> list[MetricDatum]:
    """CBPE's estimates from the scores of every capture of the window (none without a
    calibration or a score column)."""
    if estimator is None or columns.probability is None:
        return []
    scores = np.asarray(window.table.column(columns.probability).to_pylist(), dtype=float)
    return estimate_data(estimator.estimate(scores), dims, t)


def predictions(
    window: Window, columns: OutputColumns, dims: Mapping[str, str], t: datetime
) -> list[MetricDatum]:
    """The distribution of the window's scores (else its numeric predictions) over every
    capture, labelled or not (:func:`~vigil.monitor.emission.prediction_data`)."""
    name = columns.probability or columns.prediction
    if name is None:
        return []
    try:
        values = np.asarray(window.table.column(name).to_pylist(), dtype=float)
    except (TypeError, ValueError):  # a categorical prediction has no numeric distribution
        return []
    return prediction_data(values, dims, t)


def join_labels(rt: Runtime, ex: Execution, window: Window) -> LabelJoin:
    """The window's captures joined with the ground truth collected from the window's start
    to the later of its end and the scheduled time (labels arrive after the inference)."""
    end = max(ex.scheduled_time, ex.window_end)
    labels = read_ground_truth(ground_truth_root(rt.settings), ex.window_start, end)
    return LabelJoin(join_ground_truth(window.table, labels), labels, end)


def no_labels_reason(ex: Execution, window: Window, labels: LabelJoin) -> str:
    """Why no capture of the window found its label: counts, the labels' time range, the keys."""
    return (
        f"no capture of the window found its ground truth: {window.table.num_rows} "
        f"capture(s), {labels.labels.num_rows} label(s) collected between "
        f"{ex.window_start:%Y-%m-%dT%H:%M:%SZ} and {labels.end:%Y-%m-%dT%H:%M:%SZ}, "
        "none matching by inferenceId or eventId"
    )


def evaluate(
    merged: pa.Table,
    baseline: ModelQualityBaseline | ModelQualityConstraints,
    columns: OutputColumns,
    *,
    max_conditional_entropy_change: float | None = None,
    engine: str | None = None,
    spark_master: str | None = None,
) -> ModelQualityAnalysis:
    """The metrics of the matched records (``merged``, in inference-time order) checked
    against the baseline's constraints, with the conditional-entropy check (the schedule's
    ``config.max_conditional_entropy_change``, nats; None: the constraints' or 0.2), on the
    schedule's ``config.engine`` (``local`` or ``spark``, with ``config.spark_master``)."""
    features = merged.drop_columns([c for c in merged.column_names if c.startswith("__")])
    return analyze_model_quality(
        features,
        baseline,
        columns.problem_type,
        columns.prediction,
        LABEL_COLUMN,
        columns.probability,
        columns.threshold,
        columns.positive,
        max_conditional_entropy_change=max_conditional_entropy_change,
        engine=engine,
        spark_master=spark_master,
    )


def feed_detectors(
    rt: Runtime,
    schedule: Schedule,
    merged: pa.Table,
    columns: OutputColumns,
    detectors: Mapping[str, Sequence[str]] | None,
) -> list[Detection]:
    """Feed the schedule's concept-drift detectors the error and score streams of the
    matched records, in inference-time order; the detections."""
    streams = drift_streams(
        merged,
        columns.problem_type,
        columns.prediction,
        columns.probability,
        columns.threshold,
        columns.positive,
    )
    ids = [
        i or e
        for i, e in zip(
            merged.column("__inference_id").to_pylist(), merged.column("__event_id").to_pylist()
        )
    ]
    return feed(
        rt.db,
        rt.metrics,
        endpoint=schedule.endpoint_name,
        schedule=schedule.name,
        streams=streams,
        times=as_utc_list(merged.column("__inference_time").to_pylist()),
        record_ids=ids,
        detectors=detectors,
    )
