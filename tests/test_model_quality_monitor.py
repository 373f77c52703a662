"""A ModelQuality schedule on real data with a known change: metrics, drops, detectors, CBPE.

scikit-learn's breast-cancer data (569 real cases): a logistic regression is trained on 200
rows and baselined on 220 others (accuracy, AUC and F1 constrained). Six hours of traffic
are captured from the remaining rows; from record 300 on (the start of hour 4) the
documented change is applied: 35% of the labels are flipped, a concept change (P(y | x)
moves while the inputs do not). Labels arrive a day late; the schedule reads each hour with
offsets -P1DT1H / -P1D.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sqlalchemy import select

from vigil.analysis.estimation import fit_cbpe, save_cbpe
from vigil.analysis.model_quality import suggest_model_quality_baseline
from vigil.app.bootstrap import open_database
from vigil.app.catalog import register_baseline, upsert_endpoint, upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.capture.ground_truth import write_ground_truth
from vigil.metrics import contract as mc
from vigil.monitor.runner import Runtime, run_scheduled
from vigil.store.artifacts import ground_truth_root
from vigil.store.metrics import MetricStore
from vigil.store.models import Event, Execution
from vigil.store.settings import Settings

T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
PER_HOUR, HOURS, CHANGE = 100, 6, 300


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("mq")
    data = load_breast_cancer()
    x, y = data.data, data.target
    idx = np.random.default_rng(0).permutation(len(y))
    train, base, serve = idx[:200], idx[200:420], idx[420:]
    model = LogisticRegression(max_iter=5000).fit(x[train], y[train])
    ref = pd.DataFrame({"probability": model.predict_proba(x[base])[:, 1], "label": y[base]})
    bdir = tmp / "baseline"
    baseline = suggest_model_quality_baseline(
        ref,
        "BinaryClassification",
        None,
        "label",
        "probability",
        positive_label=1,
        tolerance=0.1,
        std_multiplier=3,
    )
    # constrain the headline figures only: rates of a few cases are noise at 100 an hour
    section = baseline.constraints.binary_classification_constraints
    for key in list(section):
        if key not in ("accuracy", "auc", "f1"):
            del section[key]
    baseline.save(bdir)
    save_cbpe(bdir, fit_cbpe(ref, "label", "probability", 1))

    settings = Settings(data_dir=tmp / "data")
    db = open_database(settings)
    rt = Runtime(settings=settings, db=db, metrics=MetricStore(db), owner="t")
    upsert_endpoint(db, EndpointSpec(name="cancer"))
    register_baseline(settings, db, BaselineSpec(name="mq", endpoint="cancer", path=str(bdir)))
    upsert_schedule(
        db,
        ScheduleSpec(
            name="quality",
            endpoint="cancer",
            baseline="mq",
            expression="rate(1 hour)",
            window_start_offset="-P1DT1H",
            window_end_offset="-P1D",
            monitor_type="ModelQuality",
            config={"problem_type": "BinaryClassification", "positive_label": 1},
        ),
    )

    rng = np.random.default_rng(1)
    rows = rng.choice(serve, size=PER_HOUR * HOURS)
    labels = y[rows].copy()
    flip = (np.arange(len(rows)) >= CHANGE) & (rng.uniform(size=len(rows)) < 0.35)
    labels[flip] = 1 - labels[flip]
    prob = model.predict_proba(x[rows])[:, 1]
    root = Path(settings.capture_root) / "cancer" / "AllTraffic"
    for h in range(HOURS):
        t = T0 + timedelta(hours=h)
        folder = root / f"{t:%Y/%m/%d/%H}"
        folder.mkdir(parents=True)
        lines = []
        for i in range(h * PER_HOUR, (h + 1) * PER_HOUR):
            ts = (t + timedelta(seconds=30 * (i % PER_HOUR))).strftime("%Y-%m-%dT%H:%M:%SZ")
            features = ",".join(f"{v:.5g}" for v in x[rows[i]])
            lines.append(
                '{"captureData":{"endpointInput":{"observedContentType":"text/csv",'
                f'"mode":"INPUT","data":"{features}","encoding":"CSV"}},"endpointOutput":'
                '{"observedContentType":"text/csv","mode":"OUTPUT",'
                f'"data":"{prob[i]:.6f}","encoding":"CSV"}}}},"eventMetadata":{{"eventId":'
                f'"e{i}","inferenceId":"r{i}","inferenceTime":"{ts}"}},"eventVersion":"0"}}'
            )
        (folder / "00-00-000-a.jsonl").write_text("\n".join(lines) + "\n")
        write_ground_truth(
            ground_truth_root(settings),
            {f"r{i}": int(labels[i]) for i in range(h * PER_HOUR, (h + 1) * PER_HOUR)},
            collected_at=t + timedelta(days=1, minutes=30),
        )
    for h in range(1, HOURS + 1):
        run_scheduled(rt, "quality", T0 + timedelta(days=1, hours=h))
    with db.session() as s:
        executions = list(s.scalars(select(Execution).order_by(Execution.window_start)))
        events = list(
            s.scalars(select(Event).where(Event.kind == "concept_drift").order_by(Event.time))
        )
    return {
        "rt": rt,
        "executions": executions,
        "events": events,
        "labels": labels,
        "prob": np.round(prob, 6),
        "rows": rows,
    }


def test_the_monitor_reports_the_drop_after_the_change(scenario: dict):
    statuses = [e.status for e in scenario["executions"]]
    assert statuses == ["Completed"] * 3 + ["CompletedWithViolations"] * 3, [
        (e.status, e.failure_reason) for e in scenario["executions"]
    ]
    assert all(e.records_read == PER_HOUR for e in scenario["executions"])
    rt = scenario["rt"]
    rows = rt.metrics.query(
        "aws/sagemaker/Endpoints/model-metrics",
        "accuracy",
        {"Endpoint": "cancer", "MonitoringSchedule": "quality"},
        T0,
        T0 + timedelta(days=2),
        3600,
        ["Maximum"],
    )
    accuracy = [r["Maximum"] for r in rows]
    labels, prob = scenario["labels"], scenario["prob"]
    for h, value in enumerate(accuracy):  # every hour's figure equals scikit-learn's
        sl = slice(h * PER_HOUR, (h + 1) * PER_HOUR)
        assert value == pytest.approx(accuracy_score(labels[sl], prob[sl] >= 0.5), abs=1e-12)
    assert min(accuracy[:3]) > max(accuracy[3:])
    matched = rt.metrics.query(
        "aws/sagemaker/Endpoints/model-metrics",
        "ground_truth_captures_with_label",
        {"Endpoint": "cancer", "MonitoringSchedule": "quality"},
        T0,
        T0 + timedelta(days=2),
        86400 * 2,
        ["Sum"],
    )
    assert matched[0]["Sum"] == PER_HOUR * HOURS


def test_detectors_fire_after_the_change_point_and_not_before(scenario: dict):
    drifts = [e for e in scenario["events"] if e.detail["stream"] == "error"]
    assert drifts, "the error-stream detectors saw the change"
    first = min(int(e.detail["record_id"][1:]) for e in drifts)
    assert first >= CHANGE
    assert first < CHANGE + 3 * PER_HOUR


def test_estimated_performance_before_labels(scenario: dict):
    """CBPE from the scores alone: before the change the estimate is within 0.1 of the
    realised accuracy (100 records an hour); a pure concept change is invisible to it."""
    rt = scenario["rt"]
    dims = {"Endpoint": "cancer", "MonitoringSchedule": "quality"}
    est = rt.metrics.query(
        "aws/sagemaker/Endpoints/model-metrics",
        "estimated_accuracy",
        dims,
        T0,
        T0 + timedelta(days=2),
        3600,
        ["Maximum"],
    )
    real = rt.metrics.query(
        "aws/sagemaker/Endpoints/model-metrics",
        "accuracy",
        dims,
        T0,
        T0 + timedelta(days=2),
        3600,
        ["Maximum"],
    )
    assert len(est) == HOURS
    for e, r in list(zip(est, real))[:3]:
        assert e["Maximum"] == pytest.approx(r["Maximum"], abs=0.1)


def test_the_prediction_distribution_of_every_window(scenario: dict):
    """Each window's scores (every capture, labelled or not): mean and the 10th, 50th and
    90th percentiles equal NumPy's over the scores the captures carried."""
    rt = scenario["rt"]
    dims = {"Endpoint": "cancer", "MonitoringSchedule": "quality"}
    prob = scenario["prob"]
    for statistic in mc.PREDICTION_STATISTICS:
        rows = rt.metrics.query("aws/sagemaker/Endpoints/model-metrics",
                                mc.prediction(statistic), dims, T0, T0 + timedelta(days=2),
                                3600, ["Maximum"])
        assert len(rows) == HOURS, statistic
        for h, row in enumerate(rows):
            hour = prob[h * PER_HOUR:(h + 1) * PER_HOUR]
            expected = hour.mean() if statistic == "mean" else np.percentile(
                hour, int(statistic[1:]))
            assert row["Maximum"] == pytest.approx(expected, rel=1e-12), (statistic, h)
