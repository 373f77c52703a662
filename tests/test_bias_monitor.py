"""A ModelBias schedule: captured scores joined with their labels, Clarify's bias metrics per
window, bias drift against a baseline analysis.json written by ``vigil.bias``.

A loan model scores applicants (features ``group``, ``income``, ``age``); the baseline is
its behaviour on training data, where both groups are approved alike. Six hours are captured;
from hour 4 the model approves group 1 less (its score is lowered by 0.3): DPPL and DI move
away from their ideal, so those hours end CompletedWithViolations naming them, and the
figures published are those of the execution's analysis.json, which equal an independent
computation from the captured records.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import select

import vigil
from vigil.alerts.defaults import default_alarms
from vigil.app.bootstrap import open_database
from vigil.app.catalog import register_baseline, upsert_endpoint, upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.capture.ground_truth import write_ground_truth
from vigil.checks.bias import bias_drift_check, read_violations
from vigil.monitor.runner import Runtime, run_scheduled
from vigil.store.artifacts import ground_truth_root
from vigil.store.metrics import MetricStore
from vigil.store.models import Execution
from vigil.store.settings import Settings

T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
PER_HOUR, HOURS, CHANGE_HOUR = 400, 6, 3
CONFIG = {
    "label_values_or_threshold": [1],
    "facet": [{"name_or_index": "group", "value_or_threshold": [1]}],
    "headers": ["group", "income", "age"],
    "label": "approved",
}


def _people(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    group = rng.integers(0, 2, n)
    income = rng.normal(50, 15, n).round(1)
    age = rng.integers(20, 70, n)
    score = 1 / (1 + np.exp(-(income - 50) / 10))
    label = (rng.uniform(size=n) < score).astype(int)
    return np.column_stack([group, income, age]), score, label


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("bias")
    rng = np.random.default_rng(7)
    x, score, label = _people(rng, 4000)
    train = pa.table({"group": x[:, 0].astype(int), "income": x[:, 1], "age": x[:, 2].astype(int),
                      "approved": label, "score": score})
    baseline = vigil.bias(train, {**CONFIG, "predictor": {"probability": "score"}})
    bdir = tmp / "baseline"
    bdir.mkdir()
    baseline.save(bdir / "analysis.json")
    (bdir / "analysis_config.json").write_text(json.dumps(CONFIG))

    settings = Settings(data_dir=tmp / "data")
    db = open_database(settings)
    rt = Runtime(settings=settings, db=db, metrics=MetricStore(db), owner="t")
    upsert_endpoint(db, EndpointSpec(name="loans"))
    register_baseline(settings, db, BaselineSpec(name="fair", endpoint="loans", path=str(bdir)))
    spec = ScheduleSpec(name="bias", endpoint="loans", baseline="fair",
                        expression="rate(1 hour)", window_start_offset="-P1DT1H",
                        window_end_offset="-P1D", monitor_type="ModelBias",
                        config={"bootstrap": {"n_resamples": 500, "seed": 0}})
    upsert_schedule(db, spec)
    # the same schedule deciding as Clarify does, without the bootstrap
    upsert_schedule(db, spec.model_copy(update={"name": "clarify", "config": {}}))

    x, score, label = _people(rng, PER_HOUR * HOURS)
    hour = np.arange(len(score)) // PER_HOUR
    served = np.where((hour >= CHANGE_HOUR) & (x[:, 0] == 1), score - 0.3, score)
    served = np.clip(served, 0, 1).round(6)
    root = Path(settings.capture_root) / "loans" / "AllTraffic"
    for h in range(HOURS):
        t = T0 + timedelta(hours=h)
        folder = root / f"{t:%Y/%m/%d/%H}"
        folder.mkdir(parents=True)
        lines = []
        for i in range(h * PER_HOUR, (h + 1) * PER_HOUR):
            ts = (t + timedelta(seconds=8 * (i % PER_HOUR))).strftime("%Y-%m-%dT%H:%M:%SZ")
            row = f"{int(x[i, 0])},{x[i, 1]:.1f},{int(x[i, 2])}"
            lines.append(json.dumps({
                "captureData": {
                    "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                      "data": row, "encoding": "CSV"},
                    "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                       "data": f"{served[i]:.6f}", "encoding": "CSV"}},
                "eventMetadata": {"eventId": f"e{i}", "inferenceId": f"r{i}",
                                  "inferenceTime": ts},
                "eventVersion": "0"}))
        (folder / "00-00-000-a.jsonl").write_text("\n".join(lines) + "\n")
        write_ground_truth(
            ground_truth_root(settings),
            {f"r{i}": int(label[i]) for i in range(h * PER_HOUR, (h + 1) * PER_HOUR)},
            collected_at=t + timedelta(days=1, minutes=30),
        )
    for h in range(1, HOURS + 1):
        run_scheduled(rt, "bias", T0 + timedelta(days=1, hours=h))
        run_scheduled(rt, "clarify", T0 + timedelta(days=1, hours=h))
    with db.session() as s:
        executions = list(s.scalars(select(Execution).order_by(Execution.window_start)))
    return {"rt": rt, "executions": [e for e in executions if e.schedule_name == "bias"],
            "clarify": [e for e in executions if e.schedule_name == "clarify"],
            "x": x, "served": served, "label": label, "spec": spec}


def test_the_biased_hours_end_with_violations_naming_the_metrics(scenario: dict):
    statuses = [e.status for e in scenario["executions"]]
    assert statuses == ["Completed"] * CHANGE_HOUR + ["CompletedWithViolations"] * (
        HOURS - CHANGE_HOUR), [(e.status, e.failure_reason) for e in scenario["executions"]]
    last = Path(scenario["executions"][-1].output_uri)
    doc = json.loads((last / "constraint_violations.json").read_text())
    names = {v["metric_name"] for v in doc["violations"]}
    assert {"DPPL", "DI"} <= names
    assert all(v["constraint_check_type"] == "bias_drift_check" for v in doc["violations"])
    assert all(v["facet"] == "group" and v["facet_value"] == "1" for v in doc["violations"])
    parsed = read_violations(doc)
    for p in parsed:  # farther from the ideal (1 for DI, else 0) than the baseline's value
        ideal = 1.0 if p.metric_name == "DI" else 0.0
        assert abs(p.value - ideal) > abs(p.threshold - ideal), p
    assert "<svg" in (last / "report.html").read_text()


def test_without_the_bootstrap_a_near_zero_baseline_pages_on_noise_as_clarify_does(
    scenario: dict,
):
    """Clarify's rule alone: the baseline's DPPL is near 0, so a fair hour of 400 records is
    'worse' by chance; the bootstrap is what keeps the fair hours quiet."""
    first = scenario["clarify"][0]
    assert first.status == "CompletedWithViolations"
    doc = json.loads((Path(first.output_uri) / "constraint_violations.json").read_text())
    assert len(doc["violations"]) > 3


def test_window_figures_equal_an_independent_computation(scenario: dict):
    x, served = scenario["x"], scenario["served"]
    rt = scenario["rt"]
    for h, ex in enumerate(scenario["executions"]):
        sl = slice(h * PER_HOUR, (h + 1) * PER_HOUR)
        d = x[sl, 0] == 1
        pred = served[sl] > 0.5
        dppl = pred[~d].mean() - pred[d].mean()
        di = pred[d].mean() / pred[~d].mean()
        doc = json.loads((Path(ex.output_uri) / "analysis.json").read_text())
        post = doc["post_training_bias_metrics"]
        assert post["label"] == "approved" and post["label_value_or_threshold"] == "1"
        (entry,) = post["facets"]["group"]
        values = {m["name"]: m["value"] for m in entry["metrics"]}
        assert values["DPPL"] == pytest.approx(dppl, abs=1e-12)
        assert values["DI"] == pytest.approx(di, abs=1e-12)
        assert "pre_training_bias_metrics" not in doc  # not asked for: the model's bias only
        t = ex.scheduled_time - timedelta(hours=1)  # stamped at the period's start
        rows = rt.metrics.query(
            "aws/sagemaker/Endpoints/bias-metrics", "bias_metric_DPPL",
            {"Endpoint": "loans", "MonitoringSchedule": "bias", "BiasStage": "Post-Training",
             "Label": "approved", "LabelValue": "1", "Facet": "group", "FacetValue": "1"},
            t, t + timedelta(hours=1), 3600, ["Maximum"])
        assert [r["Maximum"] for r in rows] == [pytest.approx(dppl, abs=1e-12)]


def test_default_alarms_read_the_count_of_drifted_metrics(scenario: dict):
    alarms = {a.name: a for a in default_alarms(scenario["spec"])}
    assert set(alarms) == {"bias-violations", "bias-failed", "bias-bias"}
    own = alarms["bias-bias"]
    assert own.namespace == "aws/sagemaker/Endpoints/bias-metrics"
    rt = scenario["rt"]
    counts = rt.metrics.query(own.namespace, own.metric_name, dict(own.dimensions), T0,
                              T0 + timedelta(days=2), 3600, ["Maximum"])
    assert [r["Maximum"] > 0 for r in counts] == [False] * CHANGE_HOUR + [True] * (
        HOURS - CHANGE_HOUR)


def test_a_bias_schedule_without_an_analysis_config_fails_saying_what_it_needs(
    scenario: dict, tmp_path: Path
):
    rt = scenario["rt"]
    lone = tmp_path / "lone.json"
    src = Path(scenario["executions"][0].output_uri) / "analysis.json"
    lone.write_text(src.read_text())
    register_baseline(rt.settings, rt.db, BaselineSpec(name="noconf", endpoint="loans",
                                                       path=str(lone)))
    upsert_schedule(rt.db, ScheduleSpec(
        name="bias2", endpoint="loans", baseline="noconf", expression="rate(1 hour)",
        window_start_offset="-P1DT1H", window_end_offset="-P1D", monitor_type="ModelBias"))
    ex = run_scheduled(rt, "bias2", T0 + timedelta(days=1, hours=1))
    assert ex is not None and ex.status == "Failed"
    assert "config.analysis_config" in (ex.failure_reason or "")


def test_a_window_without_a_positive_prediction_is_measured_not_failed():
    """Clarify fails the whole job when the model predicted no positive (a complaint of its
    users); a monitoring window computes the metrics by Clarify's division rules instead."""
    from vigil.formats.clarify_config import AnalysisConfig

    cfg = AnalysisConfig.from_dict({**CONFIG, "predicted_label": "pred"})
    table = pa.table({"group": pa.array([0, 1, 0, 1, 1, 0]).dictionary_encode(),
                      "income": [1.0] * 6, "age": [30] * 6,
                      "approved": pa.array([1, 0, 1, 1, 0, 0]).dictionary_encode(),
                      "pred": pa.array([0] * 6).dictionary_encode()})
    baseline = {"version": "1.0", "post_training_bias_metrics": {
        "label": "approved", "label_value_or_threshold": "1", "facets": {"group": [
            {"value_or_threshold": "1", "metrics": [
                {"name": "DPPL", "description": "x", "value": 0.01}]}]}}}
    drift = bias_drift_check(table, cfg, baseline, stages=["post_training"])
    metrics = {m["name"]: m["value"] for m in
               drift.analysis.to_dict()["post_training_bias_metrics"]["facets"]["group"][0][
                   "metrics"]}
    assert metrics["DPPL"] == 0.0 and drift.violations == []


def test_a_small_window_keeps_the_baselines_categorical_facet(scenario: dict):
    """Clarify infers an int column of 40 rows or fewer as continuous, so `[1]` would select
    nothing in a small window; the monitor keeps the kinds the baseline used."""
    from vigil.formats.clarify_analysis import AnalysisDocument
    from vigil.formats.clarify_config import AnalysisConfig
    from vigil.monitor.bias import bias_table
    from vigil.monitor.windows import named_features

    base = AnalysisDocument.load(scenario["rt"].settings.baselines_root + "/fair")
    training = AnalysisConfig.from_dict({**CONFIG, "headers": [*CONFIG["headers"], "score"],
                                         "predictor": {"probability": "score"}})
    # the training config's headers name the captured inputs, less label and score
    assert named_features({}, training.headers, training.label, training.predicted_label,
                          training.probability) == {"feature_names": ["group", "income", "age"]}
    merged = pa.table({"group": [0, 1, 1, 0, 1], "income": [1.0] * 5, "age": [30] * 5,
                       "_o0": ["0.9", "0.2", "0.7", "0.4", "0.6"], "label": [1, 0, 1, 0, 1]})
    table, cfg = bias_table(merged, training, {}, base)
    assert pa.types.is_dictionary(table.schema.field("group").type)
    assert table.column(cfg.predicted_label).to_pylist() == [1, 0, 1, 0, 1]
    doc = bias_drift_check(table, cfg, base, stages=["post_training"]).analysis.to_dict()
    (entry,) = doc["post_training_bias_metrics"]["facets"]["group"]
    values = {m["name"]: m["value"] for m in entry["metrics"]}
    assert entry["value_or_threshold"] == "1" and values["DPPL"] == pytest.approx(0.5 - 2 / 3)


def test_a_facet_missing_from_the_window_fails_the_execution_naming_it(scenario: dict):
    rt = scenario["rt"]
    upsert_schedule(rt.db, ScheduleSpec(
        name="bias3", endpoint="loans", baseline="fair", expression="rate(1 hour)",
        window_start_offset="-P1DT1H", window_end_offset="-P1D", monitor_type="ModelBias",
        config={"analysis_config": {**CONFIG, "facet": [{"name_or_index": "gender",
                                                          "value_or_threshold": [1]}]}}))
    ex = run_scheduled(rt, "bias3", T0 + timedelta(days=1, hours=1))
    assert ex is not None and ex.status == "Failed"
    assert "facet 'gender' is not a column of the data" in (ex.failure_reason or "")



def test_the_endpoint_page_charts_both_bias_schedules_over_time(scenario: dict):
    """The endpoint page draws each bias schedule's figures as the store holds them."""
    from clarify_page import assert_charted
    from vigil.metrics import contract as mc

    for schedule, runs in (("bias", scenario["executions"]), ("clarify", scenario["clarify"])):
        assert_charted(scenario["rt"], "loans", schedule, mc.BIAS_NAMESPACE, len(runs), T0,
                       T0 + timedelta(days=3))
