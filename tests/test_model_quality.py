"""Model quality: metrics against scikit-learn, SageMaker's files and wording, monitors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn import metrics as skm

from vigil.analysis.model_quality import (
    ModelQualityBaseline,
    analyze_model_quality,
    suggest_model_quality_baseline,
)
from vigil.checks.model_quality import (
    BINARY_METRICS,
    MULTICLASS_METRICS,
    REGRESSION_METRICS,
    check_model_quality,
    compute_metrics,
    suggest_model_quality_constraints,
)
from vigil.errors import (
    BaselineMismatchError,
    ConfigError,
    EmptyInputError,
    FormatError,
    InputError,
)
from vigil.formats.model_quality import (
    MetricValue,
    ModelQualityConstraints,
    ModelQualityStatistics,
)

SAGEMAKER = Path("/work/shared/data/sagemaker")
SM_STATS = SAGEMAKER / "model_quality_regression_statistics.json"
SM_STATS_TIME = SAGEMAKER / "model_quality_regression_statistics_with_evaluation_time.json"
SM_CONSTRAINTS = SAGEMAKER / "model_quality_regression_constraints.json"
needs_samples = pytest.mark.skipif(not SM_STATS.exists(), reason="SageMaker samples not present")

BETAS = {"f0_5": 0.5, "f1": 1.0, "f2": 2.0}


def binary_data(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    score = np.clip(0.35 * y + rng.normal(0.35, 0.2, n), 0, 1).round(3)  # ties on purpose
    return y, score


def sk_binary(y: np.ndarray, pred: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """The binary scalar metrics, each straight from scikit-learn."""
    const = np.ones_like(y)
    out = {
        "recall": skm.recall_score(y, pred, zero_division=0),
        "precision": skm.precision_score(y, pred, zero_division=0),
        "accuracy": skm.accuracy_score(y, pred),
        "recall_best_constant_classifier": skm.recall_score(y, const, zero_division=0),
        "precision_best_constant_classifier": skm.precision_score(y, const, zero_division=0),
        "accuracy_best_constant_classifier": skm.accuracy_score(y, const),
        "true_positive_rate": skm.recall_score(y, pred, zero_division=0),
        "true_negative_rate": skm.recall_score(y, pred, pos_label=0, zero_division=0),
        "false_positive_rate": 1 - skm.recall_score(y, pred, pos_label=0, zero_division=1),
        "false_negative_rate": 1 - skm.recall_score(y, pred, zero_division=1),
        "auc": skm.roc_auc_score(y, score) if 0 < y.sum() < len(y) else math.nan,
    }
    for name, beta in BETAS.items():
        out[name] = skm.fbeta_score(y, pred, beta=beta, zero_division=0)
        out[name + "_best_constant_classifier"] = skm.fbeta_score(
            y, const, beta=beta, zero_division=0
        )
    return {k: float(v) for k, v in out.items()}


def sk_multiclass(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    values, counts = np.unique(y, return_counts=True)
    const = np.full_like(y, values[np.argmax(counts)])
    out: dict[str, float] = {}
    for suffix, p in (("", pred), ("_best_constant_classifier", const)):
        out["accuracy" + suffix] = skm.accuracy_score(y, p)
        out["weighted_recall" + suffix] = skm.recall_score(
            y, p, average="weighted", zero_division=0
        )
        out["weighted_precision" + suffix] = skm.precision_score(
            y, p, average="weighted", zero_division=0
        )
        for name, beta in BETAS.items():
            out[f"weighted_{name}{suffix}"] = skm.fbeta_score(
                y, p, beta=beta, average="weighted", zero_division=0
            )
    return {k: float(v) for k, v in out.items()}


def sk_regression(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    mse = skm.mean_squared_error(y, pred)
    return {"mae": skm.mean_absolute_error(y, pred), "mse": mse, "rmse": math.sqrt(mse),
            "r2": skm.r2_score(y, pred)}


def assert_values(result, expected: dict[str, float]) -> None:
    for key, value in expected.items():
        got = result[key]
        if math.isnan(value):
            assert math.isnan(got), key
        else:
            assert got == pytest.approx(value, rel=1e-12, abs=1e-15), key


# ---------------------------------------------------------------------------------------------
# formats


@needs_samples
@pytest.mark.parametrize("path", [SM_STATS, SM_STATS_TIME])
def test_sagemaker_statistics_round_trip_byte_for_byte(path: Path) -> None:
    raw = path.read_text()
    stats = ModelQualityStatistics.loads(raw)
    assert stats.dumps() == raw
    assert stats.problem_type == "Regression"
    assert set(stats.metrics) == set(REGRESSION_METRICS)


@needs_samples
def test_sagemaker_constraints_round_trip_byte_for_byte(tmp_path: Path) -> None:
    raw = SM_CONSTRAINTS.read_text()
    cons = ModelQualityConstraints.loads(raw)
    assert cons.dumps() == raw
    assert cons.constraints["r2"].comparison_operator == "LessThanThreshold"
    cons.save(tmp_path / "c.json")
    assert (tmp_path / "c.json").read_text() == raw


@needs_samples
def test_nan_standard_deviation_stays_the_string() -> None:
    stats = ModelQualityStatistics.load(SM_STATS)
    mae = stats.metrics["mae"]
    assert isinstance(mae, MetricValue) and mae.standard_deviation == "NaN"
    assert '"standard_deviation" : "NaN"' in stats.dumps()


@pytest.mark.parametrize("ptype", ["BinaryClassification", "MulticlassClassification"])
def test_classification_statistics_round_trip(ptype: str) -> None:
    y, score = binary_data(300)
    pred = (score >= 0.5).astype(int)
    if ptype == "BinaryClassification":
        result = compute_metrics(ptype, y, None, score)
    else:
        result = compute_metrics(ptype, y, pred)
    text = result.to_statistics(evaluation_time="2024-01-01T00:00:00.000Z").dumps()
    again = ModelQualityStatistics.loads(text)
    assert again.dumps() == text
    section = json.loads(text)[
        "binary_classification_metrics" if ptype == "BinaryClassification"
        else "multiclass_classification_metrics"
    ]
    assert list(section) == list(BINARY_METRICS if ptype == "BinaryClassification"
                                 else MULTICLASS_METRICS)


def test_bad_statistics_name_the_field() -> None:
    with pytest.raises(FormatError, match="dataset"):
        ModelQualityStatistics.loads('{"version": 0.0, "regression_metrics": {}}')
    with pytest.raises(FormatError, match="comparison_operator"):
        ModelQualityConstraints.loads(
            '{"regression_constraints": {"mae": {"threshold": 1.0, "comparison_operator": "X"}}}'
        )


# ---------------------------------------------------------------------------------------------
# metrics equal scikit-learn's


def test_binary_metrics_equal_sklearn() -> None:
    y, score = binary_data(1000)
    result = compute_metrics("BinaryClassification", y, None, score, probability_threshold=0.5,
                             max_curve_points=None)
    pred = (score >= 0.5).astype(int)
    assert_values(result, sk_binary(y, pred, score))
    cm = skm.confusion_matrix(y, pred, labels=[0, 1])
    assert result["confusion_matrix"] == {
        "0": {"0": int(cm[0, 0]), "1": int(cm[0, 1])},
        "1": {"0": int(cm[1, 0]), "1": int(cm[1, 1])},
    }
    fpr, tpr, _ = skm.roc_curve(y, score)
    roc = result["receiver_operating_characteristic_curve"]
    assert roc["false_positive_rates"] == fpr.tolist()
    assert roc["true_positive_rates"] == tpr.tolist()
    precision, recall, _ = skm.precision_recall_curve(y, score, drop_intermediate=True)
    pr = result["precision_recall_curve"]
    assert pr["precisions"] == precision[::-1].tolist()
    assert pr["recalls"] == recall[::-1].tolist()
    assert result.item_count == 1000 and result.skipped == {}


def test_binary_with_given_predictions_and_string_labels() -> None:
    y, score = binary_data(500, seed=3)
    rng = np.random.default_rng(4)
    pred = np.where(rng.random(500) < 0.8, y, 1 - y)
    names = np.array(["no", "yes"])
    result = compute_metrics("BinaryClassification", names[y], names[pred], score,
                             positive_label="yes")
    assert_values(result, sk_binary(y, pred, score))


def test_binary_threshold_and_numeric_positive_label_as_text() -> None:
    y, score = binary_data(400, seed=5)
    result = compute_metrics("BinaryClassification", y, None, score, probability_threshold=0.7,
                             positive_label="1")
    assert_values(result, sk_binary(y, (score >= 0.7).astype(int), score))


def test_binary_matches_sagemaker_documented_example() -> None:
    # SageMaker's documented sample: confusion matrix {"0": {"0": 1, "1": 2}, "1": {"0": 0,
    # "1": 1}} with recall 1.0, precision 1/3 and the best constant classifier's figures.
    y = np.array([0, 0, 0, 1])
    pred = np.array([0, 1, 1, 1])
    r = compute_metrics("BinaryClassification", y, pred)
    assert r["confusion_matrix"] == {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    expected = {
        "recall": 1.0, "precision": 0.3333333333333333, "accuracy": 0.5,
        "recall_best_constant_classifier": 1.0, "precision_best_constant_classifier": 0.25,
        "accuracy_best_constant_classifier": 0.25, "true_positive_rate": 1.0,
        "true_negative_rate": 0.33333333333333337, "false_positive_rate": 0.6666666666666666,
        "false_negative_rate": 0.0, "f0_5": 0.3846153846153846, "f1": 0.5,
        "f2": 0.7142857142857143, "f0_5_best_constant_classifier": 0.29411764705882354,
        "f1_best_constant_classifier": 0.4, "f2_best_constant_classifier": 0.625,
    }
    for key, value in expected.items():
        assert r[key] == pytest.approx(value, rel=1e-12), key
        assert r.metrics[key]["standard_deviation"] == "NaN"


def test_multiclass_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(7)
    classes = np.array(["cat", "dog", "eel", "fox"])
    y = classes[rng.choice(4, 2000, p=[0.1, 0.5, 0.3, 0.1])]
    pred = np.where(rng.random(2000) < 0.6, y, classes[rng.integers(0, 4, 2000)])
    result = compute_metrics("MulticlassClassification", y, pred)
    assert_values(result, sk_multiclass(y, pred))
    cm = skm.confusion_matrix(y, pred, labels=classes)
    assert result["confusion_matrix"] == {
        a: {b: int(cm[i, j]) for j, b in enumerate(classes)} for i, a in enumerate(classes)
    }
    # the original reported all 0.0 here; these are real figures
    assert 0.5 < result["weighted_f1"] < 0.8


def test_multiclass_matches_sagemaker_documented_model_figures() -> None:
    # SageMaker's documented multiclass sample: confusion matrix [[1180, 510], [268, 138]].
    y = np.repeat([0, 0, 1, 1], [1180, 510, 268, 138])
    pred = np.repeat([0, 1, 0, 1], [1180, 510, 268, 138])
    r = compute_metrics("MulticlassClassification", y, pred)
    assert r["confusion_matrix"] == {"0": {"0": 1180, "1": 510}, "1": {"0": 268, "1": 138}}
    documented = {"accuracy": 0.6288167938931297, "weighted_recall": 0.6288167938931297,
                  "weighted_precision": 0.6983172269629505, "weighted_f0_5": 0.6803947317178771,
                  "weighted_f1": 0.6571162346664904, "weighted_f2": 0.6384024354394601}
    for key, value in documented.items():
        assert r[key] == pytest.approx(value, rel=1e-12), key
    # our best constant classifier predicts the majority class (share 1690 / 2096)
    p = 1690 / 2096
    assert r["accuracy_best_constant_classifier"] == pytest.approx(p)
    assert r["weighted_precision_best_constant_classifier"] == pytest.approx(p * p)
    assert r["weighted_f1_best_constant_classifier"] == pytest.approx(p * 2 * p / (1 + p))


def test_multiclass_with_labels_and_unseen_label() -> None:
    y = np.array([1, 2, 3, 3, 2, 1, 4])
    pred = np.array([1, 2, 3, 2, 2, 3, 1])
    r = compute_metrics("MulticlassClassification", y, pred, labels=[3, 2, 1])
    keep = y != 4
    assert r.skipped == {"label not in labels": 1}
    assert list(r["confusion_matrix"]) == ["3", "2", "1"]
    assert_values(r, sk_multiclass(y[keep], pred[keep]))


def test_regression_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(11)
    y = rng.normal(10, 3, 1500)
    pred = y + rng.normal(0.5, 1.5, 1500)
    result = compute_metrics("Regression", y, pred)
    assert_values(result, sk_regression(y, pred))
    assert list(result.metrics) == list(REGRESSION_METRICS)


# ---------------------------------------------------------------------------------------------
# edge cases


def test_one_class_only_window() -> None:
    y = np.zeros(300, dtype=int)
    score = np.random.default_rng(2).random(300)
    r = compute_metrics("BinaryClassification", y, None, score)
    assert math.isnan(r["auc"])
    assert r.metrics["auc"]["standard_deviation"] == "NaN"
    assert r["receiver_operating_characteristic_curve"]["true_positive_rates"] == []
    assert_values(r, sk_binary(y, (score >= 0.5).astype(int), score))
    text = r.to_statistics().dumps()
    assert '"auc" : {\n      "value" : "NaN"' in text
    assert ModelQualityStatistics.loads(text).dumps() == text
    # and in multiclass
    m = compute_metrics("MulticlassClassification", ["a"] * 5, ["a", "a", "b", "a", "a"])
    assert_values(m, sk_multiclass(np.array(["a"] * 5), np.array(["a", "a", "b", "a", "a"])))


def test_empty_window_is_a_clear_error() -> None:
    with pytest.raises(EmptyInputError, match="no rows to evaluate"):
        compute_metrics("BinaryClassification", [], None, [])
    with pytest.raises(InputError, match="ground-truth label and a prediction and a score"):
        compute_metrics("BinaryClassification", [1, 0], [1, 0], [math.nan, math.nan])
    with pytest.raises(EmptyInputError):
        analyze_model_quality(
            pa.table({"y": pa.array([], pa.float64()), "p": pa.array([], pa.float64())}),
            ModelQualityConstraints.load(SM_CONSTRAINTS) if SM_CONSTRAINTS.exists()
            else suggest_model_quality_constraints(compute_metrics("Regression", [1.0], [1.0])),
            ground_truth_attribute="y", inference_attribute="p",
        )


def test_nan_scores_are_skipped_and_counted() -> None:
    y, score = binary_data(600, seed=9)
    score = score.astype(float)
    score[::7] = np.nan
    r = compute_metrics("BinaryClassification", y, None, score)
    keep = ~np.isnan(score)
    assert r.skipped == {"score missing or NaN": int((~keep).sum())}
    assert r.item_count == int(keep.sum())
    assert_values(r, sk_binary(y[keep], (score[keep] >= 0.5).astype(int), score[keep]))


def test_missing_labels_skipped() -> None:
    y = np.array(["a", None, "b", "b", "a"], dtype=object)
    pred = np.array(["a", "a", None, "b", "b"], dtype=object)
    r = compute_metrics("MulticlassClassification", y, pred)
    assert r.skipped == {"ground truth missing": 1, "prediction missing": 1}
    assert_values(r, sk_multiclass(np.array(["a", "b", "a"]), np.array(["a", "b", "b"])))
    rr = compute_metrics("Regression", [1.0, math.nan, 3.0], [1.0, 2.0, 5.0])
    assert rr.skipped == {"ground truth missing": 1} and rr["mae"] == 1.0


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="not known"):
        compute_metrics("Ranking", [1], [1])
    with pytest.raises(InputError, match="expected one per row"):
        compute_metrics("Regression", [1.0, 2.0], [1.0])
    with pytest.raises(InputError, match="not a number"):
        compute_metrics("Regression", ["x", "y"], [1.0, 2.0])


def test_curves_are_thinned_to_the_limit() -> None:
    y, _ = binary_data(5000)
    score = np.random.default_rng(0).random(5000) * 0.8 + 0.2 * y
    r = compute_metrics("BinaryClassification", y, None, score, max_curve_points=50,
                        standard_deviation=False)
    roc = r["receiver_operating_characteristic_curve"]
    assert len(roc["false_positive_rates"]) == 50
    fpr, tpr, _ = skm.roc_curve(y, score)
    assert roc["false_positive_rates"][0] == fpr[0] and roc["true_positive_rates"][-1] == tpr[-1]
    assert r["auc"] == pytest.approx(skm.roc_auc_score(y, score), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# the standard-deviation rule


def subsample_std(n: int, metric, seed: int = 0) -> float:
    """Independent reimplementation: five Bernoulli(0.8) subsamples, population std."""
    rng = np.random.default_rng(seed)
    return float(np.std([metric(rng.random(n) < 0.8) for _ in range(5)]))


def test_std_is_nan_below_200_rows() -> None:
    y, score = binary_data(199)
    r = compute_metrics("BinaryClassification", y, None, score)
    assert all(v["standard_deviation"] == "NaN" for v in r.metrics.values()
               if isinstance(v, dict) and "value" in v)


def test_std_at_200_rows_reproduced_with_sklearn() -> None:
    y, score = binary_data(200)
    pred = (score >= 0.5).astype(int)
    r = compute_metrics("BinaryClassification", y, None, score, seed=42)
    assert r.metrics["auc"]["standard_deviation"] == pytest.approx(
        subsample_std(200, lambda m: skm.roc_auc_score(y[m], score[m]), seed=42), rel=1e-9)
    assert r.metrics["f1"]["standard_deviation"] == pytest.approx(
        subsample_std(200, lambda m: skm.f1_score(y[m], pred[m]), seed=42), rel=1e-9)
    assert r.metrics["accuracy_best_constant_classifier"]["standard_deviation"] == pytest.approx(
        subsample_std(200, lambda m: y[m].mean(), seed=42), rel=1e-9)

    rng = np.random.default_rng(1)
    yr = rng.normal(size=200)
    pr = yr + rng.normal(size=200)
    rr = compute_metrics("Regression", yr, pr)
    for key, fn in (("mae", skm.mean_absolute_error), ("r2", skm.r2_score)):
        assert rr.metrics[key]["standard_deviation"] == pytest.approx(
            subsample_std(200, lambda m, fn=fn: fn(yr[m], pr[m])), rel=1e-9)

    ym = rng.integers(0, 3, 200)
    pm = np.where(rng.random(200) < 0.7, ym, rng.integers(0, 3, 200))
    rm = compute_metrics("MulticlassClassification", ym, pm)
    assert rm.metrics["weighted_f2"]["standard_deviation"] == pytest.approx(subsample_std(
        200, lambda m: skm.fbeta_score(ym[m], pm[m], beta=2, average="weighted",
                                       zero_division=0)), rel=1e-9)


# ---------------------------------------------------------------------------------------------
# constraints and violations


def stats_with(ptype_key: str, **metrics: tuple[float, float | str]) -> ModelQualityStatistics:
    return ModelQualityStatistics.model_validate({
        "version": 0.0, "dataset": {"item_count": 1000},
        ptype_key: {k: {"value": v, "standard_deviation": s} for k, (v, s) in metrics.items()},
    })


def test_violation_wording_matches_sagemaker() -> None:
    stats = stats_with("binary_classification_metrics", auc=(0.51, 0.007), f1=(0.9, "NaN"))
    cons = ModelQualityConstraints.model_validate({"binary_classification_constraints": {
        "auc": {"threshold": 0.94, "comparison_operator": "LessThanThreshold"},
        "f1": {"threshold": 0.95, "comparison_operator": "LessThanThreshold"},
    }})
    violations = check_model_quality(stats, cons)
    assert [v.to_dict() for v in violations] == [
        {"metric_name": "auc", "constraint_check_type": "LessThanThreshold",
         "description": "Metric auc with 0.51 +/- 0.007 was LessThanThreshold '0.94'"},
        {"metric_name": "f1", "constraint_check_type": "LessThanThreshold",
         "description": "Metric f1 with 0.9 +/- NaN was LessThanThreshold '0.95'"},
    ]


def test_operators_and_nan_values() -> None:
    stats = stats_with("regression_metrics", mae=(1.0, "NaN"), mse=(1.0, "NaN"),
                       rmse=(1.0, "NaN"), r2=(math.nan, "NaN"))
    cons = ModelQualityConstraints.model_validate({"regression_constraints": {
        "mae": {"threshold": 1.0, "comparison_operator": "GreaterThanThreshold"},
        "mse": {"threshold": 1.0, "comparison_operator": "GreaterThanOrEqualToThreshold"},
        "rmse": {"threshold": 1.0, "comparison_operator": "LessThanOrEqualToThreshold"},
        "r2": {"threshold": 0.5, "comparison_operator": "LessThanThreshold"},
        "nope": {"threshold": 0.5, "comparison_operator": "LessThanThreshold"},
    }})
    assert [v.metric_name for v in check_model_quality(stats, cons)] == ["mse", "rmse"]
    other = ModelQualityConstraints.model_validate({"binary_classification_constraints": {}})
    with pytest.raises(BaselineMismatchError):
        check_model_quality(stats, other)


def test_suggested_thresholds_and_tolerance() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 1000)
    score = np.clip(0.3 * y + rng.random(1000) * 0.7, 0, 1)
    result = compute_metrics("BinaryClassification", y, None, score)
    exact = suggest_model_quality_constraints(result, tolerance=0)
    c = exact.constraints
    assert set(c) == {"recall", "precision", "accuracy", "true_positive_rate",
                      "true_negative_rate", "false_positive_rate", "false_negative_rate",
                      "auc", "f0_5", "f1", "f2"}
    assert c["auc"].threshold == result["auc"]
    assert c["auc"].comparison_operator == "LessThanThreshold"
    assert c["false_positive_rate"].comparison_operator == "GreaterThanThreshold"
    # SageMaker's threshold = baseline value: the same data never fires, a tiny wobble fires
    assert check_model_quality(result, exact) == []
    parts = [compute_metrics("BinaryClassification", y[i:i + 800], None, score[i:i + 800])
             for i in (0, 100, 200)]
    # threshold = baseline value fires on sampling noise; a tolerance of 5% or three
    # standard deviations, whichever is wider, does not
    assert any(check_model_quality(part, exact) for part in parts)
    wide = suggest_model_quality_constraints(result, tolerance=0.05, std_multiplier=3)
    assert all(check_model_quality(part, wide) == [] for part in parts)
    std = result.metrics["false_positive_rate"]["standard_deviation"]
    assert wide.constraints["false_positive_rate"].threshold == pytest.approx(
        result["false_positive_rate"] + max(0.05 * result["false_positive_rate"], 3 * std))
    tol = suggest_model_quality_constraints(result, tolerance=0.05)
    assert tol.constraints["auc"].threshold == pytest.approx(result["auc"] * 0.95)
    assert tol.constraints["false_negative_rate"].threshold == pytest.approx(
        result["false_negative_rate"] * 1.05)
    assert check_model_quality(result, tol) == []
    only = suggest_model_quality_constraints(result, 0.1, metrics=["auc"])
    assert list(only.constraints) == ["auc"]
    with pytest.raises(ConfigError, match="not in the"):
        suggest_model_quality_constraints(result, metrics=["mae"])
    with pytest.raises(ConfigError, match="tolerance"):
        suggest_model_quality_constraints(result, tolerance=-1)


def test_regression_sign_of_tolerance() -> None:
    stats = stats_with("regression_metrics", mae=(2.0, "NaN"), r2=(-3.0, "NaN"))
    c = suggest_model_quality_constraints(stats, tolerance=0.1).constraints
    assert c["mae"].threshold == pytest.approx(2.2)
    assert c["r2"].threshold == pytest.approx(-3.3)


@needs_samples
def test_sagemaker_statistics_evaluate_against_sagemaker_constraints() -> None:
    stats = ModelQualityStatistics.load(SM_STATS_TIME)
    cons = ModelQualityConstraints.load(SM_CONSTRAINTS)
    got = [v.to_dict() for v in check_model_quality(stats, cons)]
    assert got[0] == {
        "metric_name": "mae", "constraint_check_type": "GreaterThanThreshold",
        "description": "Metric mae with 1.5915896386811228 +/- 0.019549525493231325 was "
                       "GreaterThanThreshold '0.5040653554420981'",
    }
    assert [v["metric_name"] for v in got] == ["mae", "mse", "rmse"]  # r2 0.24 >= -3.2
    assert check_model_quality(ModelQualityStatistics.load(SM_STATS), cons) == []


# ---------------------------------------------------------------------------------------------
# monitors


def regression_frame(n: int, noise: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(5, 2, n)
    return pd.DataFrame({"truth": y, "prediction": y + rng.normal(0, noise, n)})


@needs_samples
def test_analyze_regression_csv_against_sagemaker_constraints(tmp_path: Path) -> None:
    csv = tmp_path / "window.csv"
    frame = regression_frame(500, noise=1.5)
    frame.to_csv(csv, index=False)
    a = analyze_model_quality(csv, SM_CONSTRAINTS, inference_attribute="prediction",
                              ground_truth_attribute="truth",
                              evaluation_time="2024-05-01T00:00:00.000Z")
    expected = sk_regression(frame["truth"].to_numpy(), frame["prediction"].to_numpy())
    assert a.metrics == pytest.approx(expected, rel=1e-12)
    assert [v.metric_name for v in a.violations] == ["mae", "mse", "rmse"]
    mae = a.statistics.metrics["mae"]
    assert a.violations[0].description == (
        f"Metric mae with {mae.value!r} +/- {mae.standard_deviation!r} was "
        "GreaterThanThreshold '0.5040653554420981'"
    )
    out = a.save(tmp_path / "out")
    assert (out / "constraints.json").read_text() == SM_CONSTRAINTS.read_text()
    written = json.loads((out / "constraint_violations.json").read_text())
    assert written["violations"][0]["metric_name"] == "mae"
    stats = json.loads((out / "statistics.json").read_text())
    assert stats["dataset"] == {"item_count": 500, "evaluation_time": "2024-05-01T00:00:00.000Z"}


def test_binary_baseline_parquet_save_load_analyze(tmp_path: Path) -> None:
    y, score = binary_data(1000, seed=21)
    labels = np.array(["stay", "churn"])[y]
    pq.write_table(pa.table({"label": labels, "prob": score}), tmp_path / "train.parquet")
    base = suggest_model_quality_baseline(
        tmp_path / "train.parquet", "BinaryClassification", ground_truth_attribute="label",
        probability_attribute="prob", positive_label="churn", probability_threshold=0.6,
    )
    assert_values(base.statistics.metric_values(), sk_binary(y, (score >= 0.6).astype(int),
                                                              score))
    base.save(tmp_path / "baseline")
    loaded = ModelQualityBaseline.load(tmp_path / "baseline")
    assert loaded.statistics.dumps() == base.statistics.dumps()
    assert loaded.constraints.dumps() == base.constraints.dumps()
    # a window where the model has gone bad
    rng = np.random.default_rng(5)
    bad_score = rng.random(1000)
    window = pd.DataFrame({"label": labels, "prob": bad_score})
    a = analyze_model_quality(window, tmp_path / "baseline", ground_truth_attribute="label",
                              probability_attribute="prob", positive_label="churn",
                              probability_threshold=0.6)
    assert "auc" in [v.metric_name for v in a.violations]
    assert a.metrics["auc"] == pytest.approx(skm.roc_auc_score(y, bad_score), rel=1e-12)
    assert "receiver_operating_characteristic_curve" not in a.metrics
    assert a.statistics.dataset.evaluation_time is not None
    # the same data as the baseline: no violation
    same = analyze_model_quality(tmp_path / "train.parquet", base, ground_truth_attribute="label",
                                 probability_attribute="prob", positive_label="churn",
                                 probability_threshold=0.6)
    assert same.violations == []


def test_multiclass_monitor_from_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 3, 400)
    pred = np.where(rng.random(400) < 0.8, y, rng.integers(0, 3, 400))
    pd.DataFrame({"y": y, "yhat": pred}).to_csv(tmp_path / "d.csv", index=False)
    base = suggest_model_quality_baseline(tmp_path / "d.csv", "multiclass",
                                          inference_attribute="yhat", ground_truth_attribute="y")
    assert base.problem_type == "MulticlassClassification"
    assert_values(base.statistics.metric_values(), sk_multiclass(y, pred))
    assert "multiclass_classification_constraints" in base.constraints.dumps()


def test_monitor_errors(tmp_path: Path) -> None:
    frame = pd.DataFrame({"y": ["a", "b"], "p": [0.1, 0.9]})
    with pytest.raises(ConfigError, match="positive label"):
        suggest_model_quality_baseline(frame, "BinaryClassification", ground_truth_attribute="y",
                                       probability_attribute="p")
    with pytest.raises(ConfigError, match=r"'missing' not found.*found columns y, p"):
        suggest_model_quality_baseline(frame, "BinaryClassification", ground_truth_attribute="y",
                                       inference_attribute="missing", positive_label="a")
    with pytest.raises(ConfigError, match="no prediction column"):
        suggest_model_quality_baseline(frame, "Regression", ground_truth_attribute="y")
    reg = regression_frame(50, 1.0)
    base = suggest_model_quality_baseline(reg, "Regression", inference_attribute="prediction",
                                          ground_truth_attribute="truth")
    with pytest.raises(BaselineMismatchError):
        analyze_model_quality(reg, base, "BinaryClassification", "prediction", "truth")
    with pytest.raises(FormatError, match="baseline not found"):
        analyze_model_quality(reg, tmp_path / "nothing", inference_attribute="prediction",
                              ground_truth_attribute="truth")
