"""A ModelExplainability schedule: the window's captured inputs explained with SHAP against
the baseline rows, feature attribution drift by NDCG, and one inference's explanation over the
API.

A logistic regression on three features (``income`` matters most, then ``age``, then
``tenure``) is saved with joblib in the operator's code directory. The baseline is
``vigil.explain`` on training data. Hours 1-2 of traffic look like training; from hour 3 income
is nearly constant and tenure varies widely, so tenure's attribution overtakes income's: NDCG
drops under 0.9 and those hours end CompletedWithViolations. Every local value is checked
against brute-force Shapley values of the model's probability against the baseline row.
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import joblib
import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import select

import vigil
from live_server import LiveServer
from vigil.app.bootstrap import open_database
from vigil.app.catalog import register_baseline, upsert_endpoint, upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.checks.attribution import ndcg
from vigil.monitor.runner import Runtime, run_scheduled
from vigil.store.metrics import MetricStore
from vigil.store.models import Execution
from vigil.store.settings import Settings

T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
PER_HOUR, HOURS, CHANGE_HOUR = 40, 4, 2
FEATURES = ["income", "age", "tenure"]
BASE_ROW = [50.0, 40.0, 5.0]
CONFIG = {
    "headers": FEATURES,
    "methods": {"shap": {"baseline": [BASE_ROW], "save_local_shap_values": True}},
    "predictor": {"probability": 1},
}


def _inputs(rng: np.random.Generator, n: int, changed: bool) -> np.ndarray:
    income = rng.normal(50, 1 if changed else 20, n)
    age = rng.normal(40, 10, n)
    tenure = rng.normal(5, 30 if changed else 2, n)
    return np.column_stack([income, age, tenure]).round(2)


def _brute_force(model: LogisticRegression, row: np.ndarray) -> np.ndarray:
    """Exact Shapley values of P(y=1) with absent features taken from the baseline row."""
    m = len(row)
    base = np.array(BASE_ROW)

    def value(subset: tuple[int, ...]) -> float:
        x = base.copy()
        x[list(subset)] = row[list(subset)]
        return float(model.predict_proba(x[None, :])[0, 1])

    phi = np.zeros(m)
    for i in range(m):
        others = [j for j in range(m) if j != i]
        for k in range(m):
            for s in itertools.combinations(others, k):
                w = math.factorial(k) * math.factorial(m - k - 1) / math.factorial(m)
                phi[i] += w * (value(tuple(sorted((*s, i)))) - value(s))
    return phi


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("explain")
    rng = np.random.default_rng(3)
    x = _inputs(rng, 2000, False)
    logit = 0.08 * (x[:, 0] - 50) + 0.05 * (x[:, 1] - 40) + 0.02 * (x[:, 2] - 5)
    y = (rng.uniform(size=len(x)) < 1 / (1 + np.exp(-logit))).astype(int)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    code = tmp / "code"
    code.mkdir()
    joblib.dump(model, code / "model.joblib")

    train = pa.table({f: x[:300, i] for i, f in enumerate(FEATURES)})
    base = vigil.explain(train, CONFIG, str(code / "model.joblib"))
    bdir = tmp / "baseline"
    bdir.mkdir()
    (bdir / "analysis.json").write_text(json.dumps(base.to_analysis()))
    (bdir / "analysis_config.json").write_text(json.dumps(CONFIG))

    settings = Settings(data_dir=tmp / "data", code_dir=str(code))
    db = open_database(settings)
    rt = Runtime(settings=settings, db=db, metrics=MetricStore(db), owner="t")
    upsert_endpoint(db, EndpointSpec(name="churn"))
    register_baseline(settings, db, BaselineSpec(name="shap", endpoint="churn", path=str(bdir)))
    upsert_schedule(db, ScheduleSpec(
        name="attribution", endpoint="churn", baseline="shap", expression="rate(1 hour)",
        monitor_type="ModelExplainability", config={"model": "model.joblib"}))

    served = np.concatenate([_inputs(rng, PER_HOUR, h >= CHANGE_HOUR) for h in range(HOURS)])
    root = Path(settings.capture_root) / "churn" / "AllTraffic"
    for h in range(HOURS):
        t = T0 + timedelta(hours=h)
        folder = root / f"{t:%Y/%m/%d/%H}"
        folder.mkdir(parents=True)
        lines = []
        for i in range(h * PER_HOUR, (h + 1) * PER_HOUR):
            ts = (t + timedelta(seconds=60 * (i % PER_HOUR))).strftime("%Y-%m-%dT%H:%M:%SZ")
            lines.append(json.dumps({
                "captureData": {"endpointInput": {
                    "observedContentType": "text/csv", "mode": "INPUT",
                    "data": ",".join(repr(float(v)) for v in served[i]), "encoding": "CSV"}},
                "eventMetadata": {"eventId": f"e{i}", "inferenceId": f"r{i}",
                                  "inferenceTime": ts},
                "eventVersion": "0"}))
        (folder / "00-00-000-a.jsonl").write_text("\n".join(lines) + "\n")
    for h in range(1, HOURS + 1):
        run_scheduled(rt, "attribution", T0 + timedelta(hours=h))
    with db.session() as s:
        executions = list(s.scalars(select(Execution).order_by(Execution.window_start)))
    return {"rt": rt, "executions": executions, "served": served, "model": model,
            "baseline": base}


def test_attribution_drift_pages_when_the_ranking_of_features_changes(scenario: dict):
    statuses = [e.status for e in scenario["executions"]]
    assert statuses == ["Completed"] * CHANGE_HOUR + ["CompletedWithViolations"] * (
        HOURS - CHANGE_HOUR), [(e.status, e.failure_reason) for e in scenario["executions"]]
    base = scenario["baseline"].labels[0].global_shap_values
    for ex in scenario["executions"]:
        out = Path(ex.output_uri)
        doc = json.loads((out / "analysis.json").read_text())
        (label,) = doc["explanations"]["kernel_shap"]
        window = doc["explanations"]["kernel_shap"][label]["global_shap_values"]
        score = ndcg(base, window)
        violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
        if ex.status == "Completed":
            assert violations == [] and score >= 0.9
        else:
            (v,) = violations
            assert v == {"label": label, "metric_name": "shap",
                         "constraint_check_type": "feature_attribution_drift_check",
                         "description": f"Feature attribution drift {score!r} exceeds "
                                        "threshold 0.9"}
        assert "<svg" in (out / "report.html").read_text()


def test_local_values_are_the_exact_shapley_values_of_the_probability(scenario: dict):
    ex = scenario["executions"][-1]
    out = Path(ex.output_uri)
    rows = (out / "explanations_shap" / "out.csv").read_text().splitlines()
    assert rows[0].split(",") == FEATURES
    local = np.array([[float(v) for v in r.split(",")] for r in rows[1:]])
    served = scenario["served"][(HOURS - 1) * PER_HOUR:]
    assert local.shape == served.shape
    for i in (0, 7, PER_HOUR - 1):
        assert local[i] == pytest.approx(_brute_force(scenario["model"], served[i]), abs=1e-9)


def test_one_inference_explained_over_the_api(scenario: dict):
    rt = scenario["rt"]
    i = (HOURS - 1) * PER_HOUR + 5
    with LiveServer(rt.settings, {"reader": "read"}, db=rt.db) as srv:
        client = srv.client("reader")
        by_id = client.get(f"/endpoints/churn/explanations/r{i}")
        by_event = client.get(f"/endpoints/churn/explanations/e{i}")
        missing = client.get("/endpoints/churn/explanations/nope")
        no_token = srv.client(None).get(f"/endpoints/churn/explanations/r{i}")
    assert by_id.status_code == 200, by_id.text
    doc = by_id.json()
    assert doc == by_event.json()
    assert doc["inference_id"] == f"r{i}" and doc["event_id"] == f"e{i}"
    assert doc["schedule"] == "attribution"
    assert doc["features"] == dict(zip(FEATURES, scenario["served"][i].tolist()))
    (label,) = doc["explanations"].values()
    phi = _brute_force(scenario["model"], scenario["served"][i])
    assert [label["shap_values"][f] for f in FEATURES] == pytest.approx(phi, abs=1e-9)
    p = scenario["model"].predict_proba(scenario["served"][i][None, :])[0, 1]
    assert label["expected_value"] + sum(label["shap_values"].values()) == pytest.approx(p)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert no_token.status_code == 401


def test_a_model_outside_the_code_directory_is_refused(scenario: dict, tmp_path: Path):
    rt = scenario["rt"]
    joblib.dump(scenario["model"], tmp_path / "elsewhere.joblib")
    upsert_schedule(rt.db, ScheduleSpec(
        name="rogue", endpoint="churn", baseline="shap", expression="rate(1 hour)",
        monitor_type="ModelExplainability",
        config={"model": str(tmp_path / "elsewhere.joblib")}))
    ex = run_scheduled(rt, "rogue", T0 + timedelta(hours=1))
    assert ex is not None and ex.status == "Failed"
    assert "VIGIL_CODE_DIR" in (ex.failure_reason or "")


def test_a_serving_endpoint_that_does_not_answer_fails_the_execution_naming_it(scenario: dict):
    from live_server import free_port

    rt = scenario["rt"]
    url = f"http://127.0.0.1:{free_port()}/invocations"
    upsert_schedule(rt.db, ScheduleSpec(
        name="down", endpoint="churn", baseline="shap", expression="rate(1 hour)",
        monitor_type="ModelExplainability", config={"model": url}))
    ex = run_scheduled(rt, "down", T0 + timedelta(hours=1))
    assert ex is not None and ex.status == "Failed"
    assert url in (ex.failure_reason or ""), ex.failure_reason


def test_a_damaged_line_of_the_records_is_skipped_not_a_server_error(scenario: dict):
    from vigil.app.explanations import find_explanation
    from vigil.errors import NotFoundError

    rt = scenario["rt"]
    records = Path(scenario["executions"][-1].output_uri) / "explanations_shap" / "records.jsonl"
    text = records.read_text()
    records.write_text('{"inference_id": "r-broken", tru\n' + text)
    try:
        i = (HOURS - 1) * PER_HOUR + 1
        assert find_explanation(rt.db, "churn", f"r{i}")["inference_id"] == f"r{i}"
        with pytest.raises(NotFoundError):
            find_explanation(rt.db, "churn", "r-broken")
    finally:
        records.write_text(text)


def test_the_endpoint_page_charts_the_attribution_figures_over_time(scenario: dict):
    """The endpoint page draws the attribution schedule's figures as the store holds them."""
    from clarify_page import assert_charted
    from vigil.metrics import contract as mc

    assert_charted(scenario["rt"], "churn", "attribution", mc.EXPLAINABILITY_NAMESPACE,
                   len(scenario["executions"]), T0, T0 + timedelta(days=2))
