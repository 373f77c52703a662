"""The metric contract: the namespaces, names and dimensions that jobs write and alarms read.

Metrics are the contract between monitoring and alerting, as in AWS: a monitor never calls an
alarm, it writes figures; alarms read figures. Both sides spell every namespace, metric name
and dimension through this module, so that a renamed figure cannot leave an alarm reading
nothing. The names are SageMaker Model Monitor's where it has one (its users' dashboards and
alarms keep working), Vigil's own otherwise.

- data quality, in SageMaker's ``aws/sagemaker/Endpoints/data-metrics``:
  ``feature_baseline_drift_{f}``, ``feature_non_null_{f}``, ``feature_data_{f}`` (a statistic
  set) and ``drifted_features``; dimensions ``Endpoint``, ``MonitoringSchedule``;
- model quality, in SageMaker's ``aws/sagemaker/Endpoints/model-metrics``: the metric keys of
  ``statistics.json`` (``auc``, ``mae``, ...), ``estimated_{key}`` (CBPE),
  ``ground_truth_{count}``, ``constraint_violations`` and, for classifiers,
  ``conditional_entropy``, ``conditional_entropy_baseline`` and ``conditional_entropy_change``
  (nats); dimensions ``Endpoint``, ``MonitoringSchedule``;
- bias drift, in Clarify's ``aws/sagemaker/Endpoints/bias-metrics``: ``bias_metric_{NAME}``
  (``bias_metric_DPPL``, ...) with dimensions ``Endpoint``, ``MonitoringSchedule``,
  ``BiasStage``, ``Label``, ``LabelValue``, ``Facet``, ``FacetValue``; and Vigil's
  ``bias_drift_violations`` with ``Endpoint``, ``MonitoringSchedule``;
- feature attribution, in Clarify's ``aws/sagemaker/Endpoints/explainability-metrics``:
  ``feature_{f}`` (global SHAP values) and ``expected_value`` with dimensions ``Endpoint``,
  ``MonitoringSchedule``, ``ExplainabilityMethod``, ``Label``, ``ValueType``; and Vigil's
  ``attribution_ndcg`` and ``feature_attribution_drift_violations`` with ``Endpoint``,
  ``MonitoringSchedule``;
- ``vigil/Executions``: ``execution_status_{Status}``; dimensions ``Endpoint``,
  ``MonitoringSchedule``;
- ``vigil/ConceptDrift``: ``concept_drift_detected``; dimensions ``Endpoint``,
  ``MonitoringSchedule``, ``Detector``, ``Stream``;
- ``vigil/Capture``: a capture writer's counters (``capture_records_written``, ...);
  dimensions ``Endpoint``, ``Variant``;
- ``vigil/Scheduler``: ``Errors``, one per object that failed alone in the server's loop;
  dimension ``Kind`` (``alarm``, ``schedule``, ``rule``, ``workflow``, ``subscription``).

>>> feature_baseline_drift("age"), execution_status("Failed")
('feature_baseline_drift_age', 'execution_status_Failed')
>>> schedule_dimensions("churn", "hourly")
{'Endpoint': 'churn', 'MonitoringSchedule': 'hourly'}
>>> entry(DATA_QUALITY_NAMESPACE, "feature_non_null_age")
'feature_non_null'
>>> entry(MODEL_QUALITY_NAMESPACE, "no_such_metric") is None
True
"""

from __future__ import annotations

from vigil.formats import model_quality as mq
from vigil.metrics.clarify_names import (
    _BIAS,
    _FEATURE,
    ATTRIBUTION_NDCG,
    ATTRIBUTION_VIOLATIONS,
    BIAS_DIMENSIONS,
    BIAS_NAMESPACE,
    BIAS_VIOLATIONS,
    CLARIFY_INFINITY,
    EXPECTED_VALUE,
    EXPLAINABILITY_DIMENSIONS,
    EXPLAINABILITY_NAMESPACE,
    bias_dimensions,
    bias_metric,
    explainability_dimensions,
    feature_attribution,
)

__all__ = [
    "ANOMALY_SHARE",
    "ATTRIBUTION_NDCG",
    "ATTRIBUTION_VIOLATIONS",
    "BIAS_DIMENSIONS",
    "BIAS_NAMESPACE",
    "BIAS_VIOLATIONS",
    "BINARY_CLASSIFICATION_METRICS",
    "CAPTURE_COUNTERS",
    "CAPTURE_DIMENSIONS",
    "CAPTURE_METRICS",
    "CAPTURE_NAMESPACE",
    "CLARIFY_INFINITY",
    "CONCEPT_DRIFT_DETECTED",
    "CONCEPT_DRIFT_NAMESPACE",
    "CONDITIONAL_ENTROPY",
    "CONDITIONAL_ENTROPY_BASELINE",
    "CONDITIONAL_ENTROPY_CHANGE",
    "CONDITIONAL_ENTROPY_METRICS",
    "CONSTRAINT_VIOLATIONS",
    "DATA_QUALITY_NAMESPACE",
    "DETECTOR",
    "DETECTOR_DIMENSIONS",
    "DRIFTED_FEATURES",
    "ENDPOINT",
    "ESTIMATED_METRICS",
    "EXECUTIONS_NAMESPACE",
    "EXECUTION_OUTCOMES",
    "EXECUTION_STATUSES",
    "EXPECTED_VALUE",
    "EXPLAINABILITY_DIMENSIONS",
    "EXPLAINABILITY_NAMESPACE",
    "GROUND_TRUTH_COUNTS",
    "KIND",
    "MODEL_QUALITY_METRICS",
    "MODEL_QUALITY_NAMESPACE",
    "MONITORING_SCHEDULE",
    "MULTICLASS_CLASSIFICATION_METRICS",
    "NAMESPACES",
    "REGRESSION_METRICS",
    "SCHEDULER_ERRORS",
    "SCHEDULER_ERROR_KINDS",
    "SCHEDULER_NAMESPACE",
    "SCHEDULE_DIMENSIONS",
    "STREAM",
    "VARIANT",
    "bias_dimensions",
    "bias_metric",
    "capture_dimensions",
    "detector_dimensions",
    "entry",
    "estimated",
    "execution_status",
    "explainability_dimensions",
    "feature_attribution",
    "feature_baseline_drift",
    "feature_data",
    "feature_non_null",
    "ground_truth",
    "model_quality_metric",
    "prediction",
    "schedule_dimensions",
    "scheduler_error_dimensions",
]

# ---------------------------------------------------------------------------------------------
# namespaces

#: data-quality figures, in SageMaker Model Monitor's namespace
DATA_QUALITY_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
#: model-quality figures, in SageMaker Model Monitor's namespace
MODEL_QUALITY_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
#: one count per execution outcome of a monitoring schedule
EXECUTIONS_NAMESPACE = "vigil/Executions"
#: detections of the streaming concept-drift detectors of a model-quality schedule
CONCEPT_DRIFT_NAMESPACE = "vigil/ConceptDrift"
#: the counters of a capture writer
CAPTURE_NAMESPACE = "vigil/Capture"
#: the errors of the server's own loop, one per object that failed alone
SCHEDULER_NAMESPACE = "vigil/Scheduler"
NAMESPACES: tuple[str, ...] = (
    DATA_QUALITY_NAMESPACE,
    MODEL_QUALITY_NAMESPACE,
    BIAS_NAMESPACE,
    EXPLAINABILITY_NAMESPACE,
    EXECUTIONS_NAMESPACE,
    CONCEPT_DRIFT_NAMESPACE,
    CAPTURE_NAMESPACE,
    SCHEDULER_NAMESPACE,
)

# ---------------------------------------------------------------------------------------------
# dimensions

ENDPOINT = "Endpoint"
MONITORING_SCHEDULE = "MonitoringSchedule"
DETECTOR = "Detector"
STREAM = "Stream"
VARIANT = "Variant"
#: the dimensions of every figure of a monitoring schedule's executions
SCHEDULE_DIMENSIONS: tuple[str, ...] = (ENDPOINT, MONITORING_SCHEDULE)
#: the dimensions of a concept-drift detection
DETECTOR_DIMENSIONS: tuple[str, ...] = (*SCHEDULE_DIMENSIONS, DETECTOR, STREAM)
#: the dimensions of a capture writer's counters
CAPTURE_DIMENSIONS: tuple[str, ...] = (ENDPOINT, VARIANT)
KIND = "Kind"
#: the kinds of object that fail alone in the server's loop (the ``Kind`` of ``Errors``)
SCHEDULER_ERROR_KINDS: tuple[str, ...] = ("alarm", "schedule", "rule", "workflow", "subscription")


def schedule_dimensions(endpoint: str, schedule: str) -> dict[str, str]:
    """The dimensions of a schedule's figures (data and model quality, execution status).

    >>> schedule_dimensions("churn", "hourly")
    {'Endpoint': 'churn', 'MonitoringSchedule': 'hourly'}
    """
    return {ENDPOINT: endpoint, MONITORING_SCHEDULE: schedule}


def detector_dimensions(endpoint: str, schedule: str, detector: str, stream: str) -> dict[str, str]:
    """The dimensions of one detector's detections on one stream of a schedule.

    >>> detector_dimensions("churn", "quality", "ADWIN", "error")["Detector"]
    'ADWIN'
    """
    return {**schedule_dimensions(endpoint, schedule), DETECTOR: detector, STREAM: stream}


def scheduler_error_dimensions(kind: str) -> dict[str, str]:
    """The dimensions of the server loop's ``Errors`` for one kind of object.

    >>> scheduler_error_dimensions("alarm")
    {'Kind': 'alarm'}
    """
    return {KIND: kind}


def capture_dimensions(endpoint: str, variant: str) -> dict[str, str]:
    """The dimensions of a capture writer's counters.

    >>> capture_dimensions("churn", "AllTraffic")
    {'Endpoint': 'churn', 'Variant': 'AllTraffic'}
    """
    return {ENDPOINT: endpoint, VARIANT: variant}


# ---------------------------------------------------------------------------------------------
# data quality (DATA_QUALITY_NAMESPACE)

_BASELINE_DRIFT = "feature_baseline_drift_"
_NON_NULL = "feature_non_null_"
_DATA = "feature_data_"
#: how many features' drift passed their threshold in one execution
DRIFTED_FEATURES = "drifted_features"
#: the share of a window's records that the baseline's outlier model finds anomalous
ANOMALY_SHARE = "anomaly_share"


def feature_baseline_drift(feature: str) -> str:
    """A feature's distribution distance to the baseline (SageMaker's name).

    >>> feature_baseline_drift("_c0")
    'feature_baseline_drift__c0'
    """
    return _BASELINE_DRIFT + feature


def feature_non_null(feature: str) -> str:
    """A feature's share of non-null values in the window.

    >>> feature_non_null("age")
    'feature_non_null_age'
    """
    return _NON_NULL + feature


def feature_data(feature: str) -> str:
    """A numeric feature's statistic set in the window (sample count, sum, minimum, maximum).

    >>> feature_data("age")
    'feature_data_age'
    """
    return _DATA + feature


# ---------------------------------------------------------------------------------------------
# model quality (MODEL_QUALITY_NAMESPACE)

#: the scalar metrics of a regression model, by SageMaker's keys
REGRESSION_METRICS: tuple[str, ...] = tuple(
    k for k in mq.REGRESSION_METRICS if k not in mq.STRUCTURED_METRICS
)
#: the scalar metrics of a binary classifier, by SageMaker's keys
BINARY_CLASSIFICATION_METRICS: tuple[str, ...] = tuple(
    k for k in mq.BINARY_METRICS if k not in mq.STRUCTURED_METRICS
)
#: the scalar metrics of a multiclass classifier, by SageMaker's keys
MULTICLASS_CLASSIFICATION_METRICS: tuple[str, ...] = tuple(
    k for k in mq.MULTICLASS_METRICS if k not in mq.STRUCTURED_METRICS
)
#: every model-quality metric key, whatever the problem type
MODEL_QUALITY_METRICS: frozenset[str] = frozenset(
    REGRESSION_METRICS + BINARY_CLASSIFICATION_METRICS + MULTICLASS_CLASSIFICATION_METRICS
)
#: the metrics CBPE estimates from scores before labels arrive
ESTIMATED_METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1", "roc_auc")
#: the counts of joining a window's captures with the ground truth
GROUND_TRUTH_COUNTS: tuple[str, ...] = (
    "captures_with_label",
    "captures_without_label",
    "labels_without_capture",
)
_ESTIMATED = "estimated_"
_GROUND_TRUTH = "ground_truth_"
#: the distribution of a window's predictions (the score, else the numeric prediction) over
#: every capture, labelled or not: what the model said, before any ground truth
PREDICTION_STATISTICS: tuple[str, ...] = ("mean", "p10", "p50", "p90")
_PREDICTION = "prediction_"
#: how many model-quality constraints one execution violated
CONSTRAINT_VIOLATIONS = "constraint_violations"
#: a classifier's H(label | prediction) in the window, in nats (Vigil's)
CONDITIONAL_ENTROPY = "conditional_entropy"
#: the same figure of the baseline's confusion matrix
CONDITIONAL_ENTROPY_BASELINE = "conditional_entropy_baseline"
#: the window's figure minus the baseline's (constrained by a maximum change)
CONDITIONAL_ENTROPY_CHANGE = "conditional_entropy_change"
#: the conditional-entropy figures of a model-quality execution, in the order they are written
CONDITIONAL_ENTROPY_METRICS: tuple[str, ...] = (
    CONDITIONAL_ENTROPY,
    CONDITIONAL_ENTROPY_BASELINE,
    CONDITIONAL_ENTROPY_CHANGE,
)


def model_quality_metric(key: str) -> str:
    """A model-quality metric's name: its key in ``statistics.json``, as SageMaker emits it.

    >>> model_quality_metric("auc")
    'auc'
    """
    return key


def estimated(key: str) -> str:
    """A metric estimated by CBPE from the window's scores alone.

    >>> estimated("roc_auc")
    'estimated_roc_auc'
    """
    return _ESTIMATED + key


def prediction(statistic: str) -> str:
    """A statistic of the window's predictions (one of :data:`PREDICTION_STATISTICS`).

    >>> prediction("p90")
    'prediction_p90'
    """
    return _PREDICTION + statistic


def ground_truth(count: str) -> str:
    """A count of the ground-truth join (one of :data:`GROUND_TRUTH_COUNTS`).

    >>> ground_truth("captures_with_label")
    'ground_truth_captures_with_label'
    """
    return _GROUND_TRUTH + count


# ---------------------------------------------------------------------------------------------
# executions (EXECUTIONS_NAMESPACE), concept drift, capture

#: the statuses of an execution, as SageMaker names them
EXECUTION_STATUSES: tuple[str, ...] = (
    "Pending",
    "InProgress",
    "Completed",
    "CompletedWithViolations",
    "Failed",
    "Stopping",
    "Stopped",
)
#: the outcomes every finished execution writes a count for (1 for its own, 0 for the others)
EXECUTION_OUTCOMES: tuple[str, ...] = ("Completed", "CompletedWithViolations", "Failed")
_STATUS = "execution_status_"


def execution_status(status: str) -> str:
    """The count of executions that ended with ``status``.

    >>> execution_status("CompletedWithViolations")
    'execution_status_CompletedWithViolations'
    """
    return _STATUS + status


#: one datapoint per detection, at the time of the record where a detector fired
CONCEPT_DRIFT_DETECTED = "concept_drift_detected"
#: a capture writer's counters: the field of its statistics -> the metric's name
CAPTURE_COUNTERS: dict[str, str] = {
    "captured": "capture_records_captured",
    "sampled_out": "capture_records_sampled_out",
    "dropped": "capture_records_dropped",
    "written": "capture_records_written",
    "failed": "capture_records_failed",
    "files": "capture_files_written",
    "bytes": "capture_bytes_written",
    "buffered": "capture_buffer_records",
}
#: a capture writer's metrics, in the order it writes them
CAPTURE_METRICS: tuple[str, ...] = tuple(CAPTURE_COUNTERS.values())
#: one per object (alarm, schedule, rule, workflow, subscription) that failed alone
SCHEDULER_ERRORS = "Errors"


# ---------------------------------------------------------------------------------------------
# reading a name back


def _suffix(name: str, prefix: str) -> str | None:
    return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else None


def entry(namespace: str, name: str) -> str | None:
    """The entry of the contract that names metric ``name`` in ``namespace`` (the builder or
    constant, e.g. ``"feature_data"``, ``"model_quality_metric"``, ``"DRIFTED_FEATURES"``),
    or None when the contract names no such metric.

    >>> entry(DATA_QUALITY_NAMESPACE, "feature_baseline_drift_age")
    'feature_baseline_drift'
    >>> entry(MODEL_QUALITY_NAMESPACE, "estimated_accuracy"), entry(MODEL_QUALITY_NAMESPACE, "f1")
    ('estimated', 'model_quality_metric')
    >>> entry(EXECUTIONS_NAMESPACE, "execution_status_Failed")
    'execution_status'
    >>> entry(DATA_QUALITY_NAMESPACE, "auc") is None, entry("elsewhere", "auc") is None
    (True, True)
    """
    if namespace == DATA_QUALITY_NAMESPACE:
        if name == DRIFTED_FEATURES:
            return "DRIFTED_FEATURES"
        if name == ANOMALY_SHARE:
            return "ANOMALY_SHARE"
        for prefix, builder in (
            (_BASELINE_DRIFT, "feature_baseline_drift"),
            (_NON_NULL, "feature_non_null"),
            (_DATA, "feature_data"),
        ):
            if _suffix(name, prefix) is not None:
                return builder
        return None
    if namespace == MODEL_QUALITY_NAMESPACE:
        if name == CONSTRAINT_VIOLATIONS:
            return "CONSTRAINT_VIOLATIONS"
        if name in MODEL_QUALITY_METRICS:
            return "model_quality_metric"
        if name in CONDITIONAL_ENTROPY_METRICS:
            return "CONDITIONAL_ENTROPY_METRICS"
        if _suffix(name, _ESTIMATED) in ESTIMATED_METRICS:
            return "estimated"
        if _suffix(name, _GROUND_TRUTH) in GROUND_TRUTH_COUNTS:
            return "ground_truth"
        if _suffix(name, _PREDICTION) in PREDICTION_STATISTICS:
            return "prediction"
        return None
    if namespace == BIAS_NAMESPACE:
        if name == BIAS_VIOLATIONS:
            return "BIAS_VIOLATIONS"
        return "bias_metric" if _suffix(name, _BIAS) is not None else None
    if namespace == EXPLAINABILITY_NAMESPACE:
        for constant in ("ATTRIBUTION_NDCG", "ATTRIBUTION_VIOLATIONS", "EXPECTED_VALUE"):
            if name == globals()[constant]:
                return constant
        return "feature_attribution" if _suffix(name, _FEATURE) is not None else None
    if namespace == EXECUTIONS_NAMESPACE:
        return "execution_status" if _suffix(name, _STATUS) in EXECUTION_STATUSES else None
    if namespace == CONCEPT_DRIFT_NAMESPACE:
        return "CONCEPT_DRIFT_DETECTED" if name == CONCEPT_DRIFT_DETECTED else None
    if namespace == CAPTURE_NAMESPACE:
        return "CAPTURE_METRICS" if name in CAPTURE_METRICS else None
    if namespace == SCHEDULER_NAMESPACE:
        return "SCHEDULER_ERRORS" if name == SCHEDULER_ERRORS else None
    return None
