"""Clarify's part of the metric contract (:mod:`vigil.metrics.contract` re-exports every
name): the bias and explainability namespaces, metric names and dimensions, as SageMaker
Clarify publishes them, and Vigil's per-execution counts beside them."""

from __future__ import annotations

__all__ = [
    "ATTRIBUTION_NDCG",
    "ATTRIBUTION_VIOLATIONS",
    "BIAS_DIMENSIONS",
    "BIAS_NAMESPACE",
    "BIAS_VIOLATIONS",
    "CLARIFY_INFINITY",
    "EXPECTED_VALUE",
    "EXPLAINABILITY_DIMENSIONS",
    "EXPLAINABILITY_NAMESPACE",
    "bias_dimensions",
    "bias_metric",
    "explainability_dimensions",
    "feature_attribution",
]

#: bias-drift figures, in SageMaker Clarify's namespace
BIAS_NAMESPACE = "aws/sagemaker/Endpoints/bias-metrics"
#: feature-attribution figures, in SageMaker Clarify's namespace
EXPLAINABILITY_NAMESPACE = "aws/sagemaker/Endpoints/explainability-metrics"
_SCHEDULE_DIMENSIONS = ("Endpoint", "MonitoringSchedule")


def _schedule(endpoint: str, schedule: str) -> dict[str, str]:
    return {"Endpoint": endpoint, "MonitoringSchedule": schedule}


# ---------------------------------------------------------------------------------------------
# bias drift (BIAS_NAMESPACE) and feature attribution (EXPLAINABILITY_NAMESPACE), as Clarify

#: the dimensions of one bias metric of one facet value, as Clarify publishes them
BIAS_DIMENSIONS: tuple[str, ...] = (
    *_SCHEDULE_DIMENSIONS,
    "BiasStage",
    "Label",
    "LabelValue",
    "Facet",
    "FacetValue",
)
#: the dimensions of one global SHAP value or expected value, as Clarify publishes them
EXPLAINABILITY_DIMENSIONS: tuple[str, ...] = (
    *_SCHEDULE_DIMENSIONS,
    "ExplainabilityMethod",
    "Label",
    "ValueType",
)
#: how Clarify publishes +/-infinity (CloudWatch takes no infinite value)
CLARIFY_INFINITY = 2.348543e108
#: how many bias metrics of one execution were worse than the baseline's (Vigil's figure)
BIAS_VIOLATIONS = "bias_drift_violations"
#: the lowest NDCG of the window's attributions against the baseline's, over the labels
ATTRIBUTION_NDCG = "attribution_ndcg"
#: how many labels' attributions drifted (NDCG under the threshold) in one execution
ATTRIBUTION_VIOLATIONS = "feature_attribution_drift_violations"
#: the metric name of the model's output on the SHAP baseline
EXPECTED_VALUE = "expected_value"
_BIAS = "bias_metric_"
_FEATURE = "feature_"
_STAGES = {"pre_training": "Pre-training", "post_training": "Post-Training"}


def bias_metric(name: str) -> str:
    """A bias metric's name, as Clarify publishes it.

    >>> bias_metric("DPPL")
    'bias_metric_DPPL'
    """
    return _BIAS + name


def bias_dimensions(
    endpoint: str, schedule: str, stage: str, label: str, label_value: str, facet: str, value: str
) -> dict[str, str]:
    """The dimensions of one bias metric; ``stage`` is ``pre_training`` or ``post_training``
    (published as Clarify spells them, ``Pre-training`` / ``Post-Training``).

    >>> bias_dimensions("churn", "bias", "post_training", "y", "1", "sex", "0")["BiasStage"]
    'Post-Training'
    """
    return {
        **_schedule(endpoint, schedule),
        "BiasStage": _STAGES.get(stage, stage),
        "Label": label,
        "LabelValue": label_value,
        "Facet": facet,
        "FacetValue": value,
    }


def feature_attribution(feature: str) -> str:
    """A feature's global SHAP value, as Clarify publishes it.

    >>> feature_attribution("age")
    'feature_age'
    """
    return _FEATURE + feature


def explainability_dimensions(
    endpoint: str, schedule: str, label: str, value_type: str
) -> dict[str, str]:
    """The dimensions of one explainability figure; ``value_type`` is ``GlobalShapValues`` or
    ``ExpectedValue``.

    >>> dims = explainability_dimensions("churn", "shap", "label0", "ExpectedValue")
    >>> dims["ExplainabilityMethod"], dims["ValueType"]
    ('KernelShap', 'ExpectedValue')
    """
    return {
        **_schedule(endpoint, schedule),
        "ExplainabilityMethod": "KernelShap",
        "Label": label,
        "ValueType": value_type,
    }
