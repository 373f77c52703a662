"""SHAP explanation core: every algorithm route against brute-force Shapley values (every
coalition) and against the ``shap`` library on the same model and data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression

from explain_oracle import brute_shapley
from vigil.analysis.explain import Model, ModelError, TimeBudgetError, explain_matrix
from vigil.analysis.explain.kernel import coalitions
from vigil.errors import ConfigError, EmptyInputError, InputError
from vigil.formats.clarify_explain import PredictorConfig, ShapConfig

shap = pytest.importorskip("shap")

M = 4
NAMES = [f"f{i}" for i in range(M)]
POSITIVE = PredictorConfig(probability=1)


@pytest.fixture(scope="module")
def cls_data() -> tuple[np.ndarray, np.ndarray]:
    x, y = make_classification(
        n_samples=200, n_features=M, n_informative=3, n_redundant=0, random_state=3
    )
    return x, y


@pytest.fixture(scope="module")
def reg_data() -> tuple[np.ndarray, np.ndarray]:
    x, y = make_regression(n_samples=200, n_features=M, noise=1.0, random_state=4)
    return x, y


def _model(est: object, output: str) -> Model:
    fn = est.predict_proba if output == "predict_proba" else est.predict  # type: ignore[attr-defined]
    return Model(fn, name=type(est).__name__, native=est, output=output)  # type: ignore[arg-type]


def _check(result, fn, records, base, use_logit=False, atol=1e-6):
    want, expected = brute_shapley(fn, records, base, use_logit)
    np.testing.assert_allclose(result.labels[0].local, want, atol=atol)
    assert result.labels[0].expected_value == pytest.approx(expected, abs=atol)
    assert result.exact


def test_kernel_enumerates_every_coalition_and_matches_brute_force(cls_data) -> None:
    x, y = cls_data
    gbm = GradientBoostingClassifier(n_estimators=15, max_depth=2, random_state=0).fit(x, y)
    base, records = x[:3], x[50:58]
    result = explain_matrix(records, NAMES, _model(gbm, "predict_proba"),
                            ShapConfig(baseline=base.tolist()), POSITIVE)
    # a gradient-boosting model's probability has no exact tree route: Kernel SHAP, exact
    assert result.algorithm == "kernel_shap" and result.num_samples == 2**M - 2
    _check(result, lambda r: gbm.predict_proba(r)[:, 1], records, base)


def test_shap_tree_probability_output_is_not_the_shapley_value_of_the_probability(
    cls_data,
) -> None:
    """Why Vigil does not use TreeExplainer(model_output="probability") on boosted models."""
    x, y = cls_data
    gbm = GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0).fit(x, y)
    base, records = x[:4], x[60:70]
    want, _ = brute_shapley(lambda r: gbm.predict_proba(r)[:, 1], records, base)
    te = shap.TreeExplainer(gbm, data=base, feature_perturbation="interventional",
                            model_output="probability")
    theirs = np.asarray(te.shap_values(records))
    assert np.abs(theirs - want).sum() / np.abs(want).sum() > 0.01
    ours = explain_matrix(records, NAMES, _model(gbm, "predict_proba"),
                          ShapConfig(baseline=base.tolist()), POSITIVE)
    np.testing.assert_allclose(ours.labels[0].local, want, atol=1e-9)


def test_random_forest_probability_takes_exact_tree_shap(cls_data) -> None:
    x, y = cls_data
    rf = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(x, y)
    base, records = x[:5], x[100:110]
    result = explain_matrix(records, NAMES, _model(rf, "predict_proba"),
                            ShapConfig(baseline=base.tolist()), POSITIVE)
    assert result.algorithm == "tree_shap" and not result.notes
    _check(result, lambda r: rf.predict_proba(r)[:, 1], records, base)
    # the same numbers as the shap library's own TreeExplainer on that model and baseline
    te = shap.TreeExplainer(rf, data=base, feature_perturbation="interventional")
    np.testing.assert_allclose(result.labels[0].local,
                               np.asarray(te.shap_values(records))[:, :, 1], atol=1e-9)


@pytest.mark.parametrize("kind", ["rf", "gbr"])
def test_tree_regressors_take_exact_tree_shap(reg_data, kind) -> None:
    x, y = reg_data
    est = (RandomForestRegressor(n_estimators=8, max_depth=4, random_state=0) if kind == "rf"
           else GradientBoostingRegressor(n_estimators=20, max_depth=3, random_state=0))
    est.fit(x, y)
    base, records = x[:3], x[20:26]
    result = explain_matrix(records, NAMES, _model(est, "predict"),
                            ShapConfig(baseline=base.tolist()))
    assert result.algorithm == "tree_shap"
    _check(result, est.predict, records, base, atol=1e-5)


def test_boosted_margin_is_exact_for_use_logit_with_one_baseline_row(cls_data) -> None:
    x, y = cls_data
    gbm = GradientBoostingClassifier(n_estimators=15, max_depth=2, random_state=0).fit(x, y)
    base, records = x[:1], x[30:36]
    for column in (1, 0):
        result = explain_matrix(records, NAMES, _model(gbm, "predict_proba"),
                                ShapConfig(baseline=base.tolist(), use_logit=True),
                                PredictorConfig(probability=column))
        assert result.algorithm == "tree_shap"
        _check(result, lambda r, c=column: gbm.predict_proba(r)[:, c], records, base,
               use_logit=True)


def test_use_logit_with_several_baseline_rows_falls_back_to_kernel(cls_data) -> None:
    """logit(mean of probabilities) is not the mean of the margins: no tree route."""
    x, y = cls_data
    gbm = GradientBoostingClassifier(n_estimators=15, max_depth=2, random_state=0).fit(x, y)
    base, records = x[:3], x[30:34]
    result = explain_matrix(records, NAMES, _model(gbm, "predict_proba"),
                            ShapConfig(baseline=base.tolist(), use_logit=True), POSITIVE)
    assert result.algorithm == "kernel_shap"
    _check(result, lambda r: gbm.predict_proba(r)[:, 1], records, base, use_logit=True)
    # shap's KernelExplainer with the logit link explains the same quantity
    ke = shap.KernelExplainer(lambda r: gbm.predict_proba(r)[:, 1], base, link="logit")
    theirs = ke.shap_values(records, nsamples=2**M - 2, l1_reg=False, silent=True)
    np.testing.assert_allclose(result.labels[0].local, theirs, atol=1e-6)


def test_linear_regression_takes_linear_shap(reg_data) -> None:
    x, y = reg_data
    lr = LinearRegression().fit(x, y)
    base, records = x[:6], x[40:50]
    result = explain_matrix(records, NAMES, _model(lr, "predict"),
                            ShapConfig(baseline=base.tolist()))
    assert result.algorithm == "linear_shap"
    _check(result, lr.predict, records, base)
    le = shap.LinearExplainer(lr, base)
    np.testing.assert_allclose(result.labels[0].local, le.shap_values(records), atol=1e-9)


def test_logistic_regression(cls_data) -> None:
    x, y = cls_data
    lr = LogisticRegression().fit(x, y)
    records = x[10:16]
    one = explain_matrix(records, NAMES, _model(lr, "predict_proba"),
                         ShapConfig(baseline=x[:1].tolist(), use_logit=True), POSITIVE)
    assert one.algorithm == "linear_shap"
    _check(one, lambda r: lr.predict_proba(r)[:, 1], records, x[:1], use_logit=True)
    prob = explain_matrix(records, NAMES, _model(lr, "predict_proba"),
                          ShapConfig(baseline=x[:4].tolist()), POSITIVE)
    assert prob.algorithm == "kernel_shap"  # the probability is not linear
    _check(prob, lambda r: lr.predict_proba(r)[:, 1], records, x[:4])


def test_sampled_kernel_matches_shap_kernel_explainer(cls_data) -> None:
    """Ten features, 300 coalitions of 1022: sampled, close to both brute force and shap."""
    x, y = make_classification(n_samples=150, n_features=10, n_informative=5, random_state=1)
    gbm = GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0).fit(x, y)
    base, records = x[:2], x[20:23]
    fn = lambda r: gbm.predict_proba(r)[:, 1]  # noqa: E731
    names = [f"g{i}" for i in range(10)]
    result = explain_matrix(records, names, Model(fn), ShapConfig(baseline=base.tolist(),
                            num_samples=300, seed=0))
    assert not result.exact and result.num_samples <= 300
    want, _ = brute_shapley(fn, records, base)
    local = result.labels[0].local
    np.testing.assert_allclose(local.sum(axis=1), want.sum(axis=1), atol=1e-9)  # efficiency
    assert np.abs(local - want).max() < 0.02
    ke = shap.KernelExplainer(fn, base)
    theirs = ke.shap_values(records, nsamples=300, l1_reg=False, silent=True)
    assert np.abs(local - theirs).max() < 0.03


def test_several_outputs_labels_and_aggregation(cls_data) -> None:
    x, y = cls_data
    rf = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(x, y)
    records = x[:12]
    result = explain_matrix(records, NAMES, _model(rf, "predict_proba"),
                            ShapConfig(baseline=x[100:102].tolist(), agg_method="median"),
                            PredictorConfig(label_headers=["no", "yes"]))
    assert [lab.label for lab in result.labels] == ["no", "yes"]
    yes = result.labels[1]
    assert yes.global_shap_values == {
        n: pytest.approx(float(np.median(yes.local[:, i]))) for i, n in enumerate(NAMES)
    }
    sq = explain_matrix(records, NAMES, _model(rf, "predict_proba"),
                        ShapConfig(baseline=x[100:102].tolist(), agg_method="mean_sq"),
                        POSITIVE)
    assert list(sq.labels[0].global_shap_values.values()) == pytest.approx(
        (sq.labels[0].local ** 2).mean(axis=0).tolist()
    )
    assert sq.section()["kernel_shap"]["label0"]["expected_value"] == pytest.approx(
        rf.predict_proba(x[100:102])[:, 1].mean()
    )


def test_kmeans_baseline_when_no_rows_are_given(cls_data) -> None:
    x, _ = cls_data
    fn = lambda r: r @ np.arange(1.0, M + 1)  # noqa: E731
    result = explain_matrix(x[:40], NAMES, Model(fn), ShapConfig(num_clusters=3, seed=1))
    assert result.baseline.shape == (3, M)
    # linear model: phi = w * (x - mean of the baseline rows), whatever the rows are
    want = (x[:40] - result.baseline.mean(axis=0)) * np.arange(1.0, M + 1)
    np.testing.assert_allclose(result.labels[0].local, want, atol=1e-9)


def test_progress_and_time_budget(cls_data) -> None:
    x, _ = cls_data
    seen: list[tuple[int, int]] = []
    fn = lambda r: r.sum(axis=1)  # noqa: E731
    explain_matrix(x[:30], NAMES, Model(fn), ShapConfig(baseline=[[0.0] * M]),
                   progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (30, 30) and all(t == 30 for _, t in seen)

    def slow(rows: np.ndarray) -> np.ndarray:
        import time  # lazy: only this test's deliberately slow model sleeps

        time.sleep(0.05)
        return rows.sum(axis=1)

    with pytest.raises(TimeBudgetError, match=r"estimated .* passes the time budget"):
        explain_matrix(np.tile(x[:1], (400, 1)), NAMES, Model(slow),
                       ShapConfig(baseline=[[0.0] * M]), time_budget=0.01)


def test_bad_inputs(cls_data) -> None:
    x, _ = cls_data
    fn = lambda r: r.sum(axis=1)  # noqa: E731
    with pytest.raises(EmptyInputError):
        explain_matrix(x[:0], NAMES, Model(fn), ShapConfig())
    with pytest.raises(ConfigError, match="baseline: rows of 2 value"):
        explain_matrix(x[:3], NAMES, Model(fn), ShapConfig(baseline=[[0.0, 1.0]]))
    holes = x[:5].copy()
    holes[2, 1] = np.nan
    with pytest.raises(InputError, match="record 2, column 'f1'"):
        explain_matrix(holes, NAMES, Model(fn), ShapConfig())
    with pytest.raises(ModelError, match="answered shape"):
        explain_matrix(x[:3], NAMES, Model(lambda r: np.ones(2), name="short"),
                       ShapConfig(baseline=[[0.0] * M]))
    with pytest.raises(ModelError, match="nan"):
        explain_matrix(x[:3], NAMES, Model(lambda r: np.full(len(r), np.nan), name="nan"),
                       ShapConfig(baseline=[[0.0] * M]))
    with pytest.raises(ConfigError, match=r"predictor.probability 3"):
        explain_matrix(x[:3], NAMES, Model(fn), ShapConfig(baseline=[[0.0] * M]),
                       PredictorConfig(probability=3))
    with pytest.raises(ConfigError, match="no exact algorithm"):
        explain_matrix(x[:3], NAMES, Model(fn), ShapConfig(baseline=[[0.0] * M]),
                       algorithm="exact")


def test_coalition_weights_and_pairs() -> None:
    z, w = coalitions(12, 500, np.random.default_rng(0))
    assert len(z) <= 500 + 1 and w.sum() == pytest.approx(1.0)
    sizes = z.sum(axis=1)
    assert {1, 11} <= set(sizes.tolist())  # the outer sizes are enumerated whole
    assert (sizes == 1).sum() == 12 and (sizes == 11).sum() == 12
