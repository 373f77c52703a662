"""Bias drift (Clarify's farther-from-ideal rule, Vigil's bootstrap damping), checked against
fairlearn and an independent row-level bootstrap."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    selection_rate,
)

from vigil.checks.bias import bias_report, from_arrow
from vigil.checks.bias.bootstrap import Bootstrap
from vigil.checks.bias.drift import (
    allowed_range,
    bias_drift_check,
    description,
    drift_violations,
    metric_intervals,
    read_violations,
)
from vigil.formats.clarify_analysis import AnalysisDocument
from vigil.formats.clarify_config import AnalysisConfig

FIXTURE = Path(__file__).resolve().parents[1] / "../shared/data/sagemaker"


def _data(n: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.4 + 0.1 * s).astype(np.int64)
    p = (rng.random(n) < np.where(y == 1, 0.8, 0.2) - shift * s).astype(np.int64)
    return pa.table({"s": s, "x": rng.normal(size=n), "y": y, "yhat": p})


CFG = AnalysisConfig.from_dict(
    {
        "label": "y",
        "predicted_label": "yhat",
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "s", "value_or_threshold": [1]}],
    }
)


def _post(table: pa.Table) -> dict[str, float]:
    rep = bias_report(from_arrow(table), CFG, "post_training")
    return {m.name: m.value for m in rep.facets["s"][0].metrics if m.value is not None}


def test_signed_metrics_agree_with_fairlearn() -> None:
    t = _data(5000, 1)
    y, yhat, is_d = (t.column(c).to_numpy() for c in ("y", "yhat", "s"))
    ours = _post(t)
    dpd = demographic_parity_difference(y, yhat, sensitive_features=is_d)
    assert abs(ours["DPPL"]) == pytest.approx(dpd, rel=1e-12)
    assert min(ours["DI"], 1 / ours["DI"]) == pytest.approx(
        demographic_parity_ratio(y, yhat, sensitive_features=is_d), rel=1e-12
    )
    assert abs(ours["RD"]) == pytest.approx(
        equal_opportunity_difference(y, yhat, sensitive_features=is_d), rel=1e-12
    )
    assert max(abs(ours["RD"]), abs(ours["SD"])) == pytest.approx(
        equalized_odds_difference(y, yhat, sensitive_features=is_d), rel=1e-12
    )
    frame = MetricFrame(
        metrics={"sel": selection_rate}, y_true=y, y_pred=yhat, sensitive_features=is_d
    )
    by = frame.by_group["sel"]
    assert ours["DPPL"] == pytest.approx(by[0] - by[1], rel=1e-12)  # a minus d


def test_farther_from_ideal_is_a_violation() -> None:
    base = AnalysisDocument(
        post_training=bias_report(from_arrow(_data(4000, 2)), CFG, "post_training").to_dict()
    )
    same = bias_drift_check(_data(4000, 3), CFG, base.to_dict())
    shifted = bias_drift_check(_data(4000, 3, shift=0.15), CFG, base.to_dict())
    names = {v["metric_name"] for v in shifted.violations}
    assert {"DPPL", "DI"} <= names
    for v in shifted.violations:
        assert v["constraint_check_type"] == "bias_drift_check"
        assert (v["facet"], v["facet_value"]) == ("s", "1")
        assert v["description"].startswith("Metric value ")
    # every violation obeys the rule, and the rule is all: recompute it from the two documents
    now = {
        m["name"]: m["value"] for m in shifted.analysis.post_training["facets"]["s"][0]["metrics"]
    }
    then = {m["name"]: m["value"] for m in base.post_training["facets"]["s"][0]["metrics"]}
    ideal = {"DI": 1.0}
    expected = {
        k
        for k in now
        if isinstance(now[k], float)
        and isinstance(then[k], float)
        and abs(now[k] - ideal.get(k, 0)) > abs(then[k] - ideal.get(k, 0))
    }
    assert names == expected
    assert len(same.violations) < len(shifted.violations)


def test_docs_example_and_wording() -> None:
    lo, hi = allowed_range("DPPL", 0.2)
    assert (lo, hi) == (-0.2, 0.2)
    assert allowed_range("DI", 0.8) == pytest.approx((0.8, 1.2))
    assert description(-36.69387755102041, -0.5278688524590163) == (
        "Metric value -36.69387755102041 doesn't meet the baseline constraint requirement "
        "-0.5278688524590163"
    )
    assert description(math.inf, 1.5).startswith("Metric value Infinity ")


def test_read_violations_accepts_both_wordings() -> None:
    doc = {
        "version": "1.0",
        "violations": [
            {
                "facet": "Sex",
                "facet_value": "0",
                "metric_name": "DCA",
                "constraint_check_type": "bias_drift_check",
                "description": "Metric value -36.69387755102041 doesn't meet the baseline "
                "constraint requirement -0.5278688524590163",
            },
            {
                "facet": "Age",
                "facet_value": "(40.0, 79.0]",
                "metric_name": "CI",
                "constraint_check_type": "bias_drift_check",
                "description": "Value 0.0751544567666083 does not meet the constraint requirement",
            },
            {
                "facet": "x",
                "facet_value": "1",
                "metric_name": "TE",
                "constraint_check_type": "bias_drift_check",
                "description": "Metric value Infinity doesn't meet the baseline constraint "
                "requirement 2.0",
            },
        ],
    }
    got = read_violations(doc)
    assert [(v.metric_name, v.value, v.threshold) for v in got] == [
        ("DCA", -36.69387755102041, -0.5278688524590163),
        ("CI", 0.0751544567666083, None),
        ("TE", math.inf, 2.0),
    ]


def test_bootstrap_interval_matches_row_resampling() -> None:
    """The multinomial resampling of counts against an independent row-level bootstrap."""
    t = _data(600, 4)
    boot = Bootstrap(n_resamples=2000, confidence=0.9, seed=1)
    ours = metric_intervals(t, CFG, "post_training", boot)
    y, yhat, s = (t.column(c).to_numpy() for c in ("y", "yhat", "s"))
    rng = np.random.default_rng(99)
    reps = {"DPPL": [], "AD": []}
    for _ in range(2000):
        i = rng.integers(0, len(y), len(y))
        yy, pp, dd = y[i], yhat[i], s[i] == 1
        reps["DPPL"].append(pp[~dd].mean() - pp[dd].mean())
        reps["AD"].append((yy[~dd] == pp[~dd]).mean() - (yy[dd] == pp[dd]).mean())
    point = _post(t)
    z = boot.z
    for name, values in reps.items():
        lo, hi = ours[("post_training", "s", "1", name)]
        assert (lo + hi) / 2 == pytest.approx(point[name], abs=1e-12)
        sd = float(np.std(values, ddof=1))
        assert (hi - lo) / (2 * z) == pytest.approx(sd, rel=0.1)


def test_bootstrap_damps_small_windows() -> None:
    base = AnalysisDocument(
        post_training=bias_report(from_arrow(_data(20000, 5)), CFG, "post_training").to_dict()
    )
    small = _data(60, 6, shift=0.1)
    plain = bias_drift_check(small, CFG, base.to_dict())
    damped = bias_drift_check(small, CFG, base.to_dict(), bootstrap=Bootstrap(500, 0.95, 0))
    assert plain.violations
    assert len(damped.violations) < len(plain.violations)
    assert {v["metric_name"] for v in damped.violations} <= {
        v["metric_name"] for v in plain.violations
    }
    big = bias_drift_check(
        _data(20000, 7, shift=0.3), CFG, base.to_dict(), bootstrap=Bootstrap(300, 0.95, 0)
    )
    assert "DPPL" in {v["metric_name"] for v in big.violations}
    assert json.loads(json.dumps(big.violations_document()))["violations"]


def test_clarify_fixture_is_a_baseline() -> None:
    doc = AnalysisDocument.load(FIXTURE / "clarify_pretraining_bias_analysis.json")
    f1 = doc.pre_training["facets"]["F1"][0]
    metrics = {m["name"]: m["value"] for m in f1["metrics"]}
    # the fixture's own figures hang together as Clarify's formulas say (§2)
    assert metrics["KS"] == pytest.approx(metrics["DPL"], rel=1e-9)
    assert metrics["TVD"] == pytest.approx(abs(metrics["DPL"]), rel=1e-9)
    assert metrics["LP"] == pytest.approx(math.sqrt(2) * abs(metrics["DPL"]), rel=1e-9)
    worse = {
        "pre_training_bias_metrics": {
            **doc.pre_training,
            "facets": {
                "F1": [
                    {
                        "value_or_threshold": f1["value_or_threshold"],
                        "metrics": [{**m, "value": m["value"] * 2} for m in f1["metrics"]],
                    }
                ]
            },
        }
    }
    got = drift_violations(worse, doc)
    assert sorted(v["metric_name"] for v in got) == sorted(metrics)
    assert drift_violations(doc, doc) == []
