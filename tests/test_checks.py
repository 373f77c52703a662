"""The six data-quality checks, drift from SageMaker's own sketches, and the knobs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

import vigil
from conftest import sagemaker_columns
from vigil.errors import ConfigError


def _checks(analysis: vigil.Analysis) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for v in analysis.violations:
        found.setdefault(v.feature_name, set()).add(v.constraint_check_type)
    return found


@pytest.fixture
def base_table() -> pa.Table:
    rng = np.random.default_rng(11)
    n = 4000
    return pa.table(
        {
            "age": rng.integers(18, 90, n),
            "income": rng.lognormal(10, 0.5, n),
            "state": rng.choice(["CA", "NY", "TX"], n, p=[0.5, 0.3, 0.2]),
            "score": rng.normal(0, 1, n),
        }
    )


def test_clean_window_has_no_violation(base_table: pa.Table):
    base = vigil.suggest_baseline(base_table)
    rng = np.random.default_rng(12)
    n = 3000
    window = pa.table(
        {
            "age": rng.integers(18, 90, n),
            "income": rng.lognormal(10, 0.5, n),
            "state": rng.choice(["CA", "NY", "TX"], n, p=[0.5, 0.3, 0.2]),
            "score": rng.normal(0, 1, n),
        }
    )
    result = vigil.analyze(window, base)
    assert result.violations == []
    assert set(result.drift) == {"age", "income", "state", "score"}
    assert all(not r.drifted for r in result.drift.values())


def test_each_check_fires_with_sagemakers_wording(base_table: pa.Table):
    base = vigil.suggest_baseline(base_table)
    n = 1000
    rng = np.random.default_rng(5)
    age = pa.array([str(v) for v in rng.integers(18, 90, n - 10)] + ["12.5"] * 10)
    state = rng.choice(["CA", "NY", "TX"], n).astype(object)
    state[:20] = "ZZ"
    window = pa.table(
        {
            "age": age,  # 1% fractional values in an Integral column
            "income": pa.array([None] * 100 + list(rng.lognormal(10, 0.5, n - 100))),
            "state": pa.array(state.tolist()),
            "extra": pa.array(np.ones(n)),  # not in the baseline; "score" is missing
        }
    )
    result = vigil.analyze(window, base)
    checks = _checks(result)
    assert checks["age"] == {"data_type_check"}
    assert checks["income"] == {"completeness_check"}
    assert checks["state"] == {"categorical_values_check", "baseline_drift_check"}
    assert checks["extra"] == {"extra_column_check"}
    assert checks["score"] == {"missing_column_check"}
    text = {(v.feature_name, v.constraint_check_type): v.description for v in result.violations}
    assert text[("age", "data_type_check")] == (
        "Data type match requirement is not met. Expected data type: Integral, "
        "Expected match: 100.0%. Observed: Only 99.0% of data is Integral."
    )
    assert text[("income", "completeness_check")].endswith("Only 90.0% of data is non-null.")
    assert text[("score", "missing_column_check")] == (
        "There are missing columns in current dataset. Number of columns in current dataset: 4, "
        "Number of columns in baseline constraints: 4"
    )
    assert (
        "Only 98.0% of values are in the domain (20 value(s) outside it)"
        in text[("state", "categorical_values_check")]
    )
    drift = result.drift["state"]
    assert text[("state", "baseline_drift_check")] == (
        f"Categorical distance: {drift.value!r} exceeds categorical threshold: 0.1"
    )


def test_negative_values_break_is_non_negative():
    base = vigil.suggest_baseline(pa.table({"x": [1.0, 2.0, 3.0] * 100}))
    result = vigil.analyze(pa.table({"x": [1.0, -2.0, 3.0] * 100}), base)
    descriptions = [v.description for v in result.violations if v.feature_name == "x"]
    assert any("is_non_negative" in d and "100 negative value(s)" in d for d in descriptions)


def test_drift_from_sagemakers_own_baseline_files(
    sagemaker_baseline: Path, sagemaker_dir: Path, tmp_path: Path
):
    """SageMaker's real statistics.json and constraints.json work as they are: drift comes
    from their KLL sketch levels, and (every value being on level 0) equals scipy's KS
    statistic on the raw rows, minus the Robust correction, exactly."""
    cols = sagemaker_columns(sagemaker_dir)
    rng = np.random.default_rng(9)
    shifted = {name: np.asarray(v) + (1.0 if name == "_c0" else 0.0) for name, v in cols.items()}
    shifted = {name: rng.permutation(v)[:80] for name, v in shifted.items()}
    path = tmp_path / "window.csv"
    names = list(shifted)
    path.write_text(
        "\n".join(",".join(repr(float(shifted[c][i])) for c in names) for i in range(80))
    )
    result = vigil.analyze(str(path), sagemaker_baseline, header=False)
    for name in names:
        d = stats.ks_2samp(cols[name], shifted[name]).statistic
        robust = max(0.0, d - 1.8 * math.sqrt((100 + 80) / (100 * 80)))
        assert result.drift[name].method == "Robust"
        assert result.drift[name].value == pytest.approx(robust, abs=1e-12)
    assert result.drift["_c0"].drifted
    assert {
        v.feature_name
        for v in result.violations
        if v.constraint_check_type == "baseline_drift_check"
    } == {"_c0"}


def test_sketch_regime_drift_is_within_the_stated_bound():
    """Above level-0 capacity both sides are KLL sketches: the L-infinity distance is within
    twice the sketch's rank error of scipy's KS statistic on the raw data."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 200_000), rng.normal(0.05, 1.1, 150_000)
    base = vigil.suggest_baseline(pa.table({"x": a}), comparison_method="Simple")
    result = vigil.analyze(pa.table({"x": b}), base)
    exact = stats.ks_2samp(a, b).statistic
    bound = 2 * vigil.KLLSketch.rank_error()
    assert abs(result.drift["x"].value - exact) <= bound


def test_methods_and_thresholds_are_set_at_baseline_time(base_table: pa.Table):
    base = vigil.suggest_baseline(
        base_table,
        comparison_threshold=0.3,
        comparison_method="Simple",
        categorical_drift_method="ChiSquared",
        categorical_comparison_threshold=0.01,
        feature_drift={"income": ("psi", 0.2), "age": "wasserstein"},
    )
    dc = base.constraints.monitoring_config.distribution_constraints
    assert (dc.comparison_threshold, dc.comparison_method) == (0.3, "Simple")
    assert (dc.categorical_comparison_threshold, dc.categorical_drift_method) == (
        0.01,
        "ChiSquared",
    )
    window = base_table.slice(0, 2000)
    result = vigil.analyze(window, base)
    assert result.drift["income"].method == "psi" and result.drift["income"].threshold == 0.2
    assert result.drift["age"].method == "wasserstein"
    assert result.drift["state"].method == "ChiSquared"
    assert result.drift["state"].kind == "p_value"
    assert result.drift["score"].method == "Simple" and result.drift["score"].threshold == 0.3


def test_global_method_for_one_kind_leaves_the_other_with_sagemakers(base_table: pa.Table):
    base = vigil.suggest_baseline(base_table, drift_method="ks")
    result = vigil.analyze(base_table.slice(0, 500), base)
    assert result.drift["score"].method == "ks"
    assert result.drift["state"].method == "LInfinity"  # ks does not apply to strings


def test_multiple_testing_correction_and_dataset_share():
    rng = np.random.default_rng(2)
    n = 800
    ref = {f"f{i}": rng.normal(0, 1, n) for i in range(20)}
    cur = {f"f{i}": rng.normal(0.25 if i < 3 else 0.0, 1, n) for i in range(20)}
    plain = vigil.analyze(pa.table(cur), vigil.suggest_baseline(pa.table(ref), drift_method="ks"))
    bonf = vigil.analyze(
        pa.table(cur),
        vigil.suggest_baseline(
            pa.table(ref), drift_method="ks", multiple_testing_correction="bonferroni"
        ),
    )
    for name, r in plain.drift.items():
        p = stats.ks_2samp(ref[name], cur[name]).pvalue
        assert r.value == pytest.approx(p, rel=1e-9)
        assert bonf.drift[name].value == pytest.approx(min(1.0, 20 * p), rel=1e-9)
    drifted = sum(r.drifted for r in bonf.drift.values())
    assert bonf.drift_share == pytest.approx(drifted / 20)
    assert bonf.dataset_drifted == (drifted / 20 >= 0.5)


def test_bad_options_name_the_option():
    table = pa.table({"x": [1.0, 2.0]})
    with pytest.raises(ConfigError, match="comparison_method 'Fast'"):
        vigil.suggest_baseline(table, comparison_method="Fast")
    with pytest.raises(ConfigError, match="drift method 'magic'"):
        vigil.suggest_baseline(table, drift_method="magic")
    with pytest.raises(ConfigError, match="unknown baseline option"):
        vigil.suggest_baseline(table, threshold=0.1)
    with pytest.raises(ConfigError, match="unknown features: y"):
        vigil.suggest_baseline(table, feature_drift={"y": "psi"})
