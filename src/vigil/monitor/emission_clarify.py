"""The figures of the bias and explainability jobs, as Clarify publishes them.

Read straight from the ``analysis.json`` document (the same one written to the execution's
folder), so that what a dashboard plots and what the file says cannot differ:

- every bias metric with a value, ``bias_metric_{NAME}`` in
  :data:`~vigil.metrics.contract.BIAS_NAMESPACE` with the stage, label, label value, facet and
  facet value as dimensions; ``null`` (errored) metrics are not published and +/-inf is
  published as +/-:data:`~vigil.metrics.contract.CLARIFY_INFINITY`, as Clarify does;
- every global SHAP value (``feature_{f}``, ``ValueType`` ``GlobalShapValues``) and each
  label's expected value (``ValueType`` ``ExpectedValue``) in
  :data:`~vigil.metrics.contract.EXPLAINABILITY_NAMESPACE`;
- Vigil's counts for the default alarms: the bias metrics that drifted, the lowest NDCG and the
  labels whose attributions drifted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from vigil.metrics import contract as mc
from vigil.metrics.datum import MetricDatum

__all__ = ["bias_data", "clarify_number", "explainability_data"]

_SECTIONS = {
    "pre_training_bias_metrics": "pre_training",
    "post_training_bias_metrics": "post_training",
}
_MAX_NAME = 255
#: the key of a label's expected value in analysis.json: the same word as the metric's name
_EXPECTED_KEY = mc.EXPECTED_VALUE


def clarify_number(value: Any) -> float | None:
    """A metric value of ``analysis.json`` as a publishable number: ``"Infinity"`` and inf
    become +/-2.348543e108, ``null``/NaN/non-numbers None.

    >>> clarify_number("-Infinity"), clarify_number(0.25), clarify_number(None)
    (-2.348543e+108, 0.25, None)
    """
    if isinstance(value, str):
        value = {"Infinity": math.inf, "-Infinity": -math.inf}.get(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number):
        return math.copysign(mc.CLARIFY_INFINITY, number)
    return number


def bias_data(
    analysis: Mapping[str, Any],
    violations: int,
    endpoint: str,
    schedule: str,
    t: datetime,
) -> list[MetricDatum]:
    """The bias metrics of an ``analysis.json`` document and the count of drifted ones."""
    ns = mc.BIAS_NAMESPACE
    data: list[MetricDatum] = []
    for key, stage in _SECTIONS.items():
        section = analysis.get(key)
        if not isinstance(section, Mapping):
            continue
        label = str(section.get("label", ""))
        label_value = str(section.get("label_value_or_threshold", ""))
        for facet, entries in (section.get("facets") or {}).items():
            for entry in entries or []:
                value_or_threshold = str(entry.get("value_or_threshold", ""))
                dims = mc.bias_dimensions(
                    endpoint, schedule, stage, label, label_value, str(facet), value_or_threshold
                )
                if any(not v or len(v) > _MAX_NAME for v in dims.values()):
                    continue  # CloudWatch takes no empty or over-long dimension value
                for metric in entry.get("metrics") or []:
                    number = clarify_number(metric.get("value"))
                    if number is not None:
                        name = mc.bias_metric(str(metric.get("name")))
                        data.append(MetricDatum(ns, name, dims, t, number))
    data.append(
        MetricDatum(
            ns, mc.BIAS_VIOLATIONS, mc.schedule_dimensions(endpoint, schedule), t, violations
        )
    )
    return data


def explainability_data(
    analysis: Mapping[str, Any],
    ndcg: Mapping[str, float],
    violations: int,
    endpoint: str,
    schedule: str,
    t: datetime,
) -> list[MetricDatum]:
    """The global SHAP values and expected values of an ``analysis.json`` document, the lowest
    NDCG against the baseline (``ndcg``: label -> score; none without a baseline) and the
    count of labels that drifted."""
    ns = mc.EXPLAINABILITY_NAMESPACE
    data: list[MetricDatum] = []
    methods = (analysis.get("explanations") or {}).get("kernel_shap") or {}
    for label, doc in methods.items():
        values: Mapping[str, Any] = doc.get("global_shap_values") or {}
        dims = mc.explainability_dimensions(endpoint, schedule, str(label), "GlobalShapValues")
        for feature, value in values.items():
            number = clarify_number(value)
            name = mc.feature_attribution(str(feature))
            if number is not None and len(name) <= _MAX_NAME:
                data.append(MetricDatum(ns, name, dims, t, number))
        expected = clarify_number(doc.get(_EXPECTED_KEY))
        if expected is not None:
            dims = mc.explainability_dimensions(endpoint, schedule, str(label), "ExpectedValue")
            data.append(MetricDatum(ns, mc.EXPECTED_VALUE, dims, t, expected))
    sched = mc.schedule_dimensions(endpoint, schedule)
    scores = _finite(ndcg.values())
    if scores:
        data.append(MetricDatum(ns, mc.ATTRIBUTION_NDCG, sched, t, min(scores)))
    data.append(MetricDatum(ns, mc.ATTRIBUTION_VIOLATIONS, sched, t, violations))
    return data


def _finite(values: Iterable[float]) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
