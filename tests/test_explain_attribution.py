"""Feature attribution drift (NDCG) against the documentation's example and scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from vigil.checks.attribution import (
    attribution_drift,
    attribution_drift_violations,
    ndcg,
)
from vigil.errors import ConfigError, FormatError
from vigil.formats import ConstraintViolations
from vigil.formats.clarify_explain import explanations_section, read_explanations

BASE = {"SAT": 0.70, "GPA": 0.50, "rank": 0.05}
WINDOW = {"SAT": 0.10, "GPA": 0.20, "rank": 0.70}


def test_documentation_example() -> None:
    assert ndcg(BASE, WINDOW) == pytest.approx(0.6876, abs=5e-5)
    assert ndcg(BASE, BASE) == 1.0


def test_matches_sklearn_ndcg_score_without_ties() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        m = int(rng.integers(2, 12))
        base = rng.random(m)
        window = rng.random(m)  # continuous: no ties
        names = [f"f{i}" for i in range(m)]
        ours = ndcg(dict(zip(names, base)), dict(zip(names, window)))
        assert ours == pytest.approx(ndcg_score([base], [window]), rel=1e-12)


def test_ties_and_negative_values_differ_from_sklearn_as_documented() -> None:
    base = {"a": 0.1, "b": 0.5, "c": 0.3}
    tied = {"a": 0.2, "b": 0.2, "c": 0.1}  # a and b tie in the window
    # Vigil: stable sort, the tie kept in the baseline's order (a before b)
    discounts = 1 / np.log2(np.arange(2, 5))
    want = (0.1 * discounts[0] + 0.5 * discounts[1] + 0.3 * discounts[2]) / (
        0.5 * discounts[0] + 0.3 * discounts[1] + 0.1 * discounts[2]
    )
    assert ndcg(base, tied) == pytest.approx(want)
    # sklearn averages the gains over the tie instead
    assert ndcg_score([[0.1, 0.5, 0.3]], [[0.2, 0.2, 0.1]]) != pytest.approx(want)
    with pytest.raises(ValueError, match="negative"):
        ndcg_score([[-0.1, 0.5, 0.3]], [[0.2, 0.1, 0.3]])
    assert np.isfinite(ndcg({"a": -0.1, "b": 0.5, "c": 0.3}, {"a": 0.2, "b": 0.1, "c": 0.3}))


def test_violation_shape_wording_and_threshold() -> None:
    baseline = {"label0": BASE, "yes": BASE}
    window = {"label0": WINDOW, "yes": BASE}
    found = attribution_drift_violations(baseline, window)
    doc = ConstraintViolations(violations=found).to_dict()
    assert doc["violations"] == [
        {
            "label": "label0",
            "metric_name": "shap",
            "constraint_check_type": "feature_attribution_drift_check",
            "description": f"Feature attribution drift {ndcg(BASE, WINDOW)!r} exceeds "
            "threshold 0.9",
        }
    ]
    assert attribution_drift_violations(baseline, window, threshold=0.5) == []
    drift = attribution_drift(baseline, window, 0.7)
    assert [d.drifted for d in drift] == [True, False]
    with pytest.raises(ConfigError):
        attribution_drift(baseline, window, threshold=2)
    with pytest.raises(FormatError, match="label 'yes'"):
        attribution_drift(baseline, {"label0": WINDOW})


def test_reads_analysis_json_sections() -> None:
    doc = json.loads(json.dumps({"version": "1.0", "explanations": explanations_section(
        {"label0": (BASE, 0.2)})}))
    read = read_explanations(doc)
    assert read["label0"].global_shap_values == BASE and read["label0"].expected_value == 0.2
    with pytest.raises(FormatError, match="kernel_shap"):
        read_explanations({"version": "1.0"})
