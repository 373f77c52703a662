"""The figures the monitoring jobs emit, as metric-store datapoints named by the contract.

Every name, namespace and dimension comes from :mod:`vigil.metrics.contract`; this module
decides which figure becomes which datapoint (value or statistic set, unit). The jobs put
them into the metric store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from vigil.analysis.data_quality import Analysis
from vigil.checks.model_quality.entropy import ConditionalEntropy
from vigil.metrics import contract as mc
from vigil.metrics.datum import MetricDatum
from vigil.store.models import ExecutionStatus

__all__ = [
    "concept_drift_datum",
    "conditional_entropy_data",
    "data_quality_data",
    "estimate_data",
    "execution_status_data",
    "ground_truth_data",
    "model_quality_data",
]

_COUNT = "Count"
_FAILED = ExecutionStatus.FAILED.value


def data_quality_data(
    result: Analysis, dims: Mapping[str, str], t: datetime
) -> list[MetricDatum]:
    """A data-quality execution's figures: each feature's drift (NaN left out), non-null share
    and statistic set (numeric features), the count of drifted features, and the share of
    anomalous records when the baseline carries an outlier model."""
    ns = mc.DATA_QUALITY_NAMESPACE
    data = [
        MetricDatum(ns, mc.feature_baseline_drift(name), dims, t, r.value)
        for name, r in result.drift.items()
        if r.value == r.value
    ]
    for f in result.statistics.features:
        common = f.common
        if common is not None and common.num_present + common.num_missing:
            share = common.num_present / (common.num_present + common.num_missing)
            data.append(MetricDatum(ns, mc.feature_non_null(f.name), dims, t, share))
        num = f.numerical_statistics
        if num is not None and num.common.num_present and num.sum is not None:
            data.append(
                MetricDatum(
                    ns,
                    mc.feature_data(f.name),
                    dims,
                    t,
                    sample_count=num.common.num_present,
                    sum=num.sum,
                    minimum=num.min,
                    maximum=num.max,
                )
            )
    data.append(
        MetricDatum(
            ns,
            mc.DRIFTED_FEATURES,
            dims,
            t,
            float(sum(r.drifted for r in result.drift.values())),
            unit=_COUNT,
        )
    )
    if result.anomalies is not None:
        data.append(MetricDatum(ns, mc.ANOMALY_SHARE, dims, t, result.anomalies.share))
    return data


def estimate_data(
    estimates: Mapping[str, float], dims: Mapping[str, str], t: datetime
) -> list[MetricDatum]:
    """CBPE's estimates (:func:`~vigil.metrics.contract.estimated`), NaN estimates and the row
    count left out."""
    return [
        MetricDatum(mc.MODEL_QUALITY_NAMESPACE, mc.estimated(key), dims, t, value)
        for key, value in estimates.items()
        if key != "n" and value == value
    ]


def prediction_data(
    values: Sequence[float] | np.ndarray, dims: Mapping[str, str], t: datetime
) -> list[MetricDatum]:
    """The distribution of a window's predictions (:func:`~vigil.metrics.contract.prediction`):
    mean and the 10th, 50th and 90th percentiles (NumPy's linear interpolation), NaN left out;
    none for an empty window.

    >>> from datetime import timezone
    >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> data = prediction_data([0.1, 0.2, 0.3, 0.9, float("nan")], {}, t)
    >>> [(d.name, round(d.value, 6)) for d in data]  # doctest: +NORMALIZE_WHITESPACE
    [('prediction_mean', 0.375), ('prediction_p10', 0.13), ('prediction_p50', 0.25),
     ('prediction_p90', 0.72)]
    """
    scores = np.asarray(values, dtype=float)
    scores = scores[np.isfinite(scores)]
    if scores.size == 0:
        return []
    p10, p50, p90 = np.percentile(scores, [10, 50, 90])
    figures = {"mean": scores.mean(), "p10": p10, "p50": p50, "p90": p90}
    return [
        MetricDatum(mc.MODEL_QUALITY_NAMESPACE, mc.prediction(k), dims, t, float(v))
        for k, v in figures.items()
    ]


def ground_truth_data(
    counts: Mapping[str, int], dims: Mapping[str, str], t: datetime
) -> list[MetricDatum]:
    """The counts of the ground-truth join (:func:`~vigil.metrics.contract.ground_truth`)."""
    return [
        MetricDatum(
            mc.MODEL_QUALITY_NAMESPACE, mc.ground_truth(name), dims, t, float(value), unit=_COUNT
        )
        for name, value in counts.items()
    ]


def model_quality_data(
    metrics: Mapping[str, float], violations: int, dims: Mapping[str, str], t: datetime
) -> list[MetricDatum]:
    """A model-quality execution's metrics by their keys, and its count of violations."""
    ns = mc.MODEL_QUALITY_NAMESPACE
    data = [
        MetricDatum(ns, mc.model_quality_metric(key), dims, t, value)
        for key, value in metrics.items()
    ]
    data.append(MetricDatum(ns, mc.CONSTRAINT_VIOLATIONS, dims, t, float(violations), unit=_COUNT))
    return data


def conditional_entropy_data(
    figures: ConditionalEntropy | None, dims: Mapping[str, str], t: datetime
) -> list[MetricDatum]:
    """A classifier's ``H(label | prediction)``, the baseline's and the change
    (:data:`~vigil.metrics.contract.CONDITIONAL_ENTROPY_METRICS`, nats), NaN figures left out;
    none for regression (``figures`` None)."""
    if figures is None:
        return []
    return [
        MetricDatum(mc.MODEL_QUALITY_NAMESPACE, name, dims, t, value)
        for name, value in figures.metrics().items()
        if value == value
    ]


def execution_status_data(
    status: str, endpoint: str, schedule: str, t: datetime
) -> list[MetricDatum]:
    """The status counts (:func:`~vigil.metrics.contract.execution_status`): 1 for the
    execution's status and 0 for the other outcomes, so that an alarm on the count of
    ``CompletedWithViolations`` sees the clean run that follows a bad one. A ``Failed``
    execution writes its own count alone: it says nothing about violations, so no alarm
    reports OK for a period whose execution did not run to the end."""
    dims = mc.schedule_dimensions(endpoint, schedule)
    names = [status] if status == _FAILED else dict.fromkeys([status, *mc.EXECUTION_OUTCOMES])
    return [
        MetricDatum(
            mc.EXECUTIONS_NAMESPACE,
            mc.execution_status(name),
            dims,
            t,
            1.0 if name == status else 0.0,
            unit=_COUNT,
        )
        for name in names
    ]


def concept_drift_datum(
    endpoint: str, schedule: str, detector: str, stream: str, t: datetime
) -> MetricDatum:
    """One detection of a concept-drift detector, at the time of the record it fired on."""
    return MetricDatum(
        mc.CONCEPT_DRIFT_NAMESPACE,
        mc.CONCEPT_DRIFT_DETECTED,
        mc.detector_dimensions(endpoint, schedule, detector, stream),
        t,
        1.0,
        unit=_COUNT,
    )
