"""``H(label | prediction)`` per model-quality window: scipy on the same counts, the baseline's
figure and the change, the violation in ``constraint_violations.json`` and the figures in the
metric store, through the ModelQuality execution path.

The reference is scipy's: ``scipy.stats.entropy`` of each predicted class's column of actual
labels, weighted by the column's share, and (independently) ``H(Y, Y_hat) - H(Y_hat)`` of the
raw labels' joint counts.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

import vigil.metrics.contract as mc
from test_runtime import _runtime
from vigil.analysis.model_quality import analyze_model_quality, suggest_model_quality_baseline
from vigil.app.catalog import register_baseline, upsert_endpoint, upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.capture.ground_truth import write_ground_truth
from vigil.checks.model_quality.entropy import (
    DEFAULT_MAX_CONDITIONAL_ENTROPY_CHANGE,
    conditional_entropy,
)
from vigil.errors import ConfigError
from vigil.monitor.runner import run_scheduled
from vigil.store.artifacts import ground_truth_root

LABELS = ["a", "b", "c"]


def _scipy_by_column(cm: np.ndarray) -> float:
    """sum over predicted classes p of P(p) * scipy.stats.entropy(actual | p)."""
    total = cm.sum()
    return float(sum(cm[:, j].sum() / total * stats.entropy(cm[:, j])
                     for j in range(cm.shape[1]) if cm[:, j].sum() > 0))


def _scipy_joint(y: np.ndarray, p: np.ndarray) -> float:
    """H(Y, Y_hat) - H(Y_hat) from the raw pairs."""
    _, joint = np.unique(np.stack([y.astype(str), p.astype(str)]), axis=1, return_counts=True)
    _, pred = np.unique(p.astype(str), return_counts=True)
    return float(stats.entropy(joint) - stats.entropy(pred))


def _model(rng: np.random.Generator, y: np.ndarray, accuracy: float) -> np.ndarray:
    """Predictions right with probability ``accuracy``, else a random label."""
    wrong = rng.uniform(size=y.size) > accuracy
    return np.where(wrong, rng.choice(LABELS, size=y.size), y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_scipy_on_the_same_counts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = 2 + seed
    cm = rng.integers(0, 60, size=(k, k)).astype(float)
    cm[:, -1] = 0  # a predicted class no row has: it adds nothing
    assert conditional_entropy(cm) == pytest.approx(_scipy_by_column(cm), rel=1e-12)
    as_dict = {str(a): {str(b): int(cm[a, b]) for b in range(k)} for a in range(k)}
    assert conditional_entropy(as_dict) == pytest.approx(_scipy_by_column(cm), rel=1e-12)


def test_bounds() -> None:
    assert conditional_entropy(np.diag([3.0, 4.0, 5.0])) == 0.0
    uninformative = np.outer([0.2, 0.3, 0.5], [10, 20, 30])  # labels independent of predictions
    assert conditional_entropy(uninformative) == pytest.approx(stats.entropy([0.2, 0.3, 0.5]))
    assert math.isnan(conditional_entropy(np.zeros((2, 2))))
    with pytest.raises(ConfigError, match="non-negative"):
        conditional_entropy(np.array([[1.0, -1.0], [0.0, 1.0]]))


def _frames(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    y_base, y_win = rng.choice(LABELS, 600), rng.choice(LABELS, 400)
    base = pd.DataFrame({"label": y_base, "pred": _model(rng, y_base, 0.9)})
    window = pd.DataFrame({"label": y_win, "pred": _model(rng, y_win, 0.55)})
    return base, window


def test_the_analysis_figures_and_violation_equal_scipy(tmp_path: Path) -> None:
    base, window = _frames()
    baseline = suggest_model_quality_baseline(base, "MulticlassClassification", "pred", "label")
    a = analyze_model_quality(window, baseline, inference_attribute="pred",
                              ground_truth_attribute="label")
    ce = a.conditional_entropy
    assert ce is not None
    h_win = _scipy_joint(window["label"].to_numpy(), window["pred"].to_numpy())
    h_base = _scipy_joint(base["label"].to_numpy(), base["pred"].to_numpy())
    assert ce.value == pytest.approx(h_win, rel=1e-12)
    assert ce.baseline == pytest.approx(h_base, rel=1e-12)
    assert ce.change == pytest.approx(h_win - h_base, rel=1e-12)
    assert ce.change > DEFAULT_MAX_CONDITIONAL_ENTROPY_CHANGE
    found = [v for v in a.violations if v.metric_name == mc.CONDITIONAL_ENTROPY_CHANGE]
    assert len(found) == 1
    assert found[0].constraint_check_type == "GreaterThanThreshold"
    assert found[0].description == (
        f"Metric conditional_entropy_change with {ce.change!r} +/- NaN was "
        "GreaterThanThreshold '0.2'"
    )
    # the baseline's constraints are saved as they were; the violation is in the file
    a.save(tmp_path)
    saved = json.loads((tmp_path / "constraint_violations.json").read_text())
    assert mc.CONDITIONAL_ENTROPY_CHANGE in [v["metric_name"] for v in saved["violations"]]
    assert mc.CONDITIONAL_ENTROPY_CHANGE not in json.loads(
        (tmp_path / "constraints.json").read_text())["multiclass_classification_constraints"]


def test_the_threshold_the_argument_and_the_constraints_file(tmp_path: Path) -> None:
    base, window = _frames()
    baseline = suggest_model_quality_baseline(base, "MulticlassClassification", "pred", "label")
    change = analyze_model_quality(window, baseline, inference_attribute="pred",
                                   ground_truth_attribute="label").conditional_entropy
    assert change is not None

    def fired(b: object, **kw: object) -> bool:
        a = analyze_model_quality(window, b, inference_attribute="pred",  # type: ignore[arg-type]
                                  ground_truth_attribute="label", **kw)  # type: ignore[arg-type]
        return any(v.metric_name == mc.CONDITIONAL_ENTROPY_CHANGE for v in a.violations)

    assert not fired(baseline, max_conditional_entropy_change=change.change + 0.01)
    assert fired(baseline, max_conditional_entropy_change=change.change - 0.01)
    assert not fired(baseline, max_conditional_entropy_change=math.inf)
    # a constraint written in constraints.json (Vigil's extension) is the threshold
    baseline.save(tmp_path / "b")
    path = tmp_path / "b" / "constraints.json"
    doc = json.loads(path.read_text())
    doc["multiclass_classification_constraints"][mc.CONDITIONAL_ENTROPY_CHANGE] = {
        "threshold": change.change + 0.01, "comparison_operator": "GreaterThanThreshold"}
    path.write_text(json.dumps(doc))
    assert not fired(tmp_path / "b")
    assert fired(tmp_path / "b", max_conditional_entropy_change=0.0)  # the argument wins
    # constraints.json alone: no baseline matrix, so no change and no violation
    alone = analyze_model_quality(window, path, inference_attribute="pred",
                                  ground_truth_attribute="label",
                                  max_conditional_entropy_change=0.0)
    assert alone.conditional_entropy is not None and math.isnan(alone.conditional_entropy.change)
    assert all(v.metric_name != mc.CONDITIONAL_ENTROPY_CHANGE for v in alone.violations)
    with pytest.raises(ConfigError, match="max_conditional_entropy_change"):
        analyze_model_quality(window, baseline, inference_attribute="pred",
                              ground_truth_attribute="label", max_conditional_entropy_change=-1)


def test_binary_from_scores_and_regression_skipped() -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 500)
    score = np.clip(y * 0.6 + rng.uniform(0, 0.5, 500), 0, 1)
    t = pa.table({"y": y, "s": score})
    b = suggest_model_quality_baseline(t, "BinaryClassification", None, "y", "s")
    a = analyze_model_quality(t, b, ground_truth_attribute="y", probability_attribute="s")
    assert a.conditional_entropy is not None
    assert a.conditional_entropy.value == pytest.approx(
        _scipy_joint(y, (score >= 0.5).astype(int)), rel=1e-12)
    assert a.conditional_entropy.change == 0.0
    r = pa.table({"y": [1.0, 2.0, 3.0], "p": [1.0, 2.5, 2.0]})
    rb = suggest_model_quality_baseline(r, "Regression", "p", "y")
    ra = analyze_model_quality(r, rb, inference_attribute="p", ground_truth_attribute="y")
    assert ra.conditional_entropy is None


T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
PER_HOUR = 150


def test_the_violation_through_a_model_quality_schedule(tmp_path: Path) -> None:
    """A multiclass ModelQuality schedule: the first hour's model is as good as the
    baseline's, the second hour's predictions are mostly noise (a concept change). Only the
    conditional-entropy constraint is left in the baseline, so it alone decides."""
    rng = np.random.default_rng(11)
    y_base = rng.choice(LABELS, 600)
    base = pd.DataFrame({"label": y_base, "pred": _model(rng, y_base, 0.9)})
    baseline = suggest_model_quality_baseline(base, "MulticlassClassification", "pred", "label")
    baseline.constraints.multiclass_classification_constraints = {}
    baseline.save(tmp_path / "baseline")

    rt = _runtime(tmp_path / "data")
    upsert_endpoint(rt.db, EndpointSpec(name="triage"))
    register_baseline(rt.settings, rt.db,
                      BaselineSpec(name="mq", endpoint="triage", path=str(tmp_path / "baseline")))
    upsert_schedule(rt.db, ScheduleSpec(
        name="quality", endpoint="triage", baseline="mq", expression="rate(1 hour)",
        window_start_offset="-P1DT1H", window_end_offset="-P1D", monitor_type="ModelQuality",
        config={"problem_type": "MulticlassClassification"}))
    hours = []
    for h, accuracy in enumerate((0.9, 0.4)):
        t = T0 + timedelta(hours=h)
        y = rng.choice(LABELS, PER_HOUR)
        pred = _model(rng, y, accuracy)
        hours.append((y, pred))
        folder = Path(rt.settings.capture_root) / "triage" / "AllTraffic" / f"{t:%Y/%m/%d/%H}"
        folder.mkdir(parents=True)
        folder.joinpath("00-00-000-a.jsonl").write_text("".join(
            '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
            '"data":"1,2","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv",'
            f'"mode":"OUTPUT","data":"{p}","encoding":"CSV"}}}},"eventMetadata":{{"eventId":'
            f'"e{h}-{i}","inferenceId":"r{h}-{i}","inferenceTime":'
            f'"{t + timedelta(seconds=20 * i):%Y-%m-%dT%H:%M:%SZ}"}},"eventVersion":"0"}}\n'
            for i, p in enumerate(pred)
        ))
        write_ground_truth(ground_truth_root(rt.settings),
                           {f"r{h}-{i}": str(v) for i, v in enumerate(y)},
                           collected_at=t + timedelta(days=1, minutes=30))
    executions = [run_scheduled(rt, "quality", T0 + timedelta(days=1, hours=h)) for h in (1, 2)]
    assert [e.status if e else None for e in executions] == [
        "Completed", "CompletedWithViolations"], [e and e.failure_reason for e in executions]
    second = executions[1]
    assert second is not None and second.output_uri is not None
    violations = json.loads(
        (Path(second.output_uri) / "constraint_violations.json").read_text())["violations"]
    assert [v["metric_name"] for v in violations] == [mc.CONDITIONAL_ENTROPY_CHANGE]

    h_base = _scipy_joint(y_base, base["pred"].to_numpy())
    dims = mc.schedule_dimensions("triage", "quality")
    for name, expected in (
        (mc.CONDITIONAL_ENTROPY, [_scipy_joint(y, p) for y, p in hours]),
        (mc.CONDITIONAL_ENTROPY_BASELINE, [h_base, h_base]),
        (mc.CONDITIONAL_ENTROPY_CHANGE, [_scipy_joint(y, p) - h_base for y, p in hours]),
    ):
        rows = rt.metrics.query(mc.MODEL_QUALITY_NAMESPACE, name, dims, T0,
                                T0 + timedelta(days=2), 3600, ["Maximum"])
        assert [r["Maximum"] for r in rows] == pytest.approx(expected, rel=1e-9), name
    first_change = _scipy_joint(*hours[0]) - h_base
    assert first_change <= DEFAULT_MAX_CONDITIONAL_ENTROPY_CHANGE < _scipy_joint(*hours[1]) - h_base
