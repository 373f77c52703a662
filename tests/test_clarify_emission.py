"""Clarify's figures as metric datapoints and report.html, from real and Vigil-written
analysis.json documents."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

from vigil.metrics import contract as mc
from vigil.monitor.emission_clarify import bias_data, explainability_data
from vigil.report.clarify import render_bias_report, render_explainability_report

T = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)


def _fixture(sagemaker_dir: Path) -> dict:
    return json.loads((sagemaker_dir / "clarify_pretraining_bias_analysis.json").read_text())


def test_bias_metrics_of_a_real_clarify_file_are_published_as_clarify_names_them(
    sagemaker_dir: Path,
):
    doc = _fixture(sagemaker_dir)
    data = bias_data(doc, 2, "churn", "bias", T)
    metrics = doc["pre_training_bias_metrics"]["facets"]["F1"][0]["metrics"]
    published = {d.name: d for d in data if d.name != mc.BIAS_VIOLATIONS}
    assert set(published) == {"bias_metric_" + m["name"] for m in metrics}
    for m in metrics:
        d = published["bias_metric_" + m["name"]]
        assert d.namespace == "aws/sagemaker/Endpoints/bias-metrics"
        assert d.value == m["value"]
        assert dict(d.dimensions) == {
            "Endpoint": "churn",
            "MonitoringSchedule": "bias",
            "BiasStage": "Pre-training",
            "Label": "Label",
            "LabelValue": "1",
            "Facet": "F1",
            "FacetValue": "(0.5, 0.9936148802477393]",
        }
    (count,) = [d for d in data if d.name == mc.BIAS_VIOLATIONS]
    assert count.value == 2 and dict(count.dimensions) == {
        "Endpoint": "churn", "MonitoringSchedule": "bias"}


def test_infinity_is_published_as_clarify_does_and_errored_metrics_are_not(sagemaker_dir: Path):
    doc = _fixture(sagemaker_dir)
    post = copy.deepcopy(doc["pre_training_bias_metrics"])
    post["facets"]["F1"][0]["metrics"] = [
        {"name": "TE", "description": "Treatment Equality (TE)", "value": "Infinity"},
        {"name": "DI", "description": "Disparate Impact (DI)", "value": "-Infinity"},
        {"name": "CDDPL", "description": "x", "value": None, "error": "Group variable is empty"},
    ]
    doc["post_training_bias_metrics"] = post
    data = [d for d in bias_data(doc, 0, "e", "s", T)
            if d.dimensions.get("BiasStage") == "Post-Training"]
    values = {d.name: d.value for d in data}
    assert values == {"bias_metric_TE": 2.348543e108, "bias_metric_DI": -2.348543e108}


def test_explainability_figures():
    doc = {"version": "1.0", "explanations": {"kernel_shap": {"label0": {
        "global_shap_values": {"age": 0.3, "income": 0.1}, "expected_value": 0.42}}}}
    data = explainability_data(doc, {"label0": 0.75}, 1, "churn", "shap", T)
    by = {(d.name, d.dimensions.get("ValueType")): d for d in data}
    assert by[("feature_age", "GlobalShapValues")].value == 0.3
    assert by[("feature_income", "GlobalShapValues")].value == 0.1
    expected = by[("expected_value", "ExpectedValue")]
    assert expected.value == 0.42 and expected.dimensions["ExplainabilityMethod"] == "KernelShap"
    assert expected.namespace == "aws/sagemaker/Endpoints/explainability-metrics"
    assert by[(mc.ATTRIBUTION_NDCG, None)].value == 0.75
    assert by[(mc.ATTRIBUTION_VIOLATIONS, None)].value == 1
    # every name is one the contract knows
    assert all(mc.entry(d.namespace, d.name) is not None for d in data)


def test_reports_show_baseline_window_and_violations(sagemaker_dir: Path):
    base = _fixture(sagemaker_dir)
    window = copy.deepcopy(base)
    window["pre_training_bias_metrics"]["facets"]["F1"][0]["metrics"][1]["value"] = -0.5
    violation = {"facet": "F1", "facet_value": "(0.5, 0.9936148802477393]", "metric_name": "CI",
                 "constraint_check_type": "bias_drift_check",
                 "description": "Metric value -0.5 doesn't meet the baseline constraint "
                                "requirement -0.08"}
    html = render_bias_report(window, base, [violation], records=120)
    assert "<svg" in html and "bias_drift_check" in html and "-0.08" in html and "-0.5" in html
    assert "120 records" in html
    doc = {"explanations": {"kernel_shap": {"label0": {
        "global_shap_values": {"age": 0.3, "<b>x</b>": 0.1}, "expected_value": 0.4}}}}
    html = render_explainability_report(doc, doc, {"label0": 1.0}, [], records=5, threshold=0.9)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "No violations" in html
