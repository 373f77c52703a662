"""CBPE: estimates from scores alone match the realised metrics once labels arrive."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from vigil.checks.cbpe import CBPE, expected_roc_auc
from vigil.errors import InputError


def realised(y: np.ndarray, score: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    pred = (score >= threshold).astype(int)
    return {
        "accuracy": accuracy_score(y, pred),
        "precision": precision_score(y, pred),
        "recall": recall_score(y, pred),
        "f1": f1_score(y, pred),
        "roc_auc": roc_auc_score(y, score),
    }


def _population(
    n: int, shift: float, rng: np.random.Generator, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Covariate shift: x moves, P(y | x) (a fixed logistic law) does not."""
    x = rng.normal(shift, scale, size=(n, 3))
    logit = 1.5 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] - 0.3
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def test_estimates_track_realised_metrics_under_covariate_shift():
    """Tolerance stated: 0.02 on every metric with 50,000 rows per window."""
    rng = np.random.default_rng(3)
    x_train, y_train = _population(20_000, 0.0, rng)
    model = LogisticRegression().fit(x_train, y_train)
    x_ref, y_ref = _population(50_000, 0.0, rng)
    cbpe = CBPE().fit(y_ref, model.predict_proba(x_ref)[:, 1])
    for shift, scale in ((0.0, 1.0), (0.7, 1.0), (-0.8, 1.0), (0.0, 0.4)):
        x, y = _population(50_000, shift, rng, scale)
        score = model.predict_proba(x)[:, 1]
        est, real = cbpe.estimate(score), realised(y, score)
        for metric, value in real.items():
            assert est[metric] == pytest.approx(value, abs=0.02), (shift, scale, metric)
    # crowding the rows near the decision boundary costs accuracy; the estimate sees it
    before = cbpe.estimate(model.predict_proba(x_ref)[:, 1])["accuracy"]
    x, y = _population(50_000, 0.0, rng, 0.4)
    after = cbpe.estimate(model.predict_proba(x)[:, 1])["accuracy"]
    assert before - after > 0.05


def test_on_real_data_with_a_selected_subpopulation():
    """Breast-cancer data: the window keeps the larger tumours (a covariate shift by
    selection); estimates within 0.06 of the realised figures (about 190 rows)."""
    data = load_breast_cancer()
    x, y = data.data, data.target
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(y))
    train, ref, rest = idx[:200], idx[200:380], idx[380:]
    model = LogisticRegression(max_iter=5000).fit(x[train], y[train])
    cbpe = CBPE().fit(y[ref], model.predict_proba(x[ref])[:, 1])
    window = rest[x[rest, 0] > np.median(x[:, 0]) - 2]
    score = model.predict_proba(x[window])[:, 1]
    est, real = cbpe.estimate(score), realised(y[window], score)
    for metric in ("accuracy", "precision", "recall", "f1"):
        assert est[metric] == pytest.approx(real[metric], abs=0.06), metric


def test_expected_auc_with_certain_labels_equals_sklearn():
    rng = np.random.default_rng(1)
    score = rng.uniform(size=2000).round(2)  # ties included
    y = (rng.uniform(size=2000) < 0.4).astype(float)
    assert expected_roc_auc(score, y) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_needs_both_classes_and_a_fit():
    with pytest.raises(InputError, match="both classes"):
        CBPE().fit(np.ones(10), np.linspace(0, 1, 10))
    with pytest.raises(InputError, match="not fitted"):
        CBPE().estimate(np.array([0.3]))
