"""Vigil's bias metrics against smclarify 0.5 (the library behind Clarify's bias metrics), value
by value on real data (scikit-learn's bundled breast cancer and wine sets, with a model's
predictions) and on edge cases; all cases go to smclarify in one subprocess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LinearRegression, LogisticRegression

from bias_oracle import assert_same_facet_reports, smclarify
from vigil.checks.bias import BiasReportError, bias_report, from_arrow
from vigil.formats.clarify_config import AnalysisConfig


def _breast() -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True)
    x = data.data.iloc[:, :8].copy()  # a few features keep FT's kNN small
    model = LogisticRegression(max_iter=2000).fit(x, data.target)
    x["target"] = data.target.astype("int64")
    x["pred"] = model.predict(x.drop(columns="target")).astype("int64")
    x["grp"] = (x["mean texture"] > 19).astype("int64")
    return x.reset_index(drop=True)


def _wine() -> pd.DataFrame:
    data = load_wine(as_frame=True)
    x = data.data[["alcohol", "malic_acid", "ash", "color_intensity"]].copy()
    fit = LinearRegression().fit(x.drop(columns="alcohol"), x["alcohol"])
    x["alcohol_hat"] = fit.predict(x.drop(columns="alcohol"))
    x["cultivar"] = data.target.astype("int64")
    return x.reset_index(drop=True)


def _strings() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    color = rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2])
    y = np.where(rng.random(n) < np.where(color == "red", 0.6, 0.3), "yes", "no")
    yhat = np.where(rng.random(n) < 0.8, y, np.where(y == "yes", "no", "yes"))
    return pd.DataFrame(
        {
            "color": color.astype(object),
            "x1": rng.normal(size=n),
            "y": y.astype(object),
            "yhat": yhat.astype(object),
        }
    )


def _te_infinite() -> pd.DataFrame:
    # facet d (s == 1): no false positive but false negatives, so FN_d / FP_d = inf
    s = [1] * 40 + [0] * 60
    y = [1] * 20 + [0] * 20 + [1] * 30 + [0] * 30
    yhat = [1] * 10 + [0] * 10 + [0] * 20 + [1] * 25 + [0] * 5 + [1] * 10 + [0] * 20
    return pd.DataFrame({"s": s, "x": np.arange(100.0), "y": y, "yhat": yhat})


def _small_window() -> pd.DataFrame:
    # 30 rows of int 0/1: 2 distinct / 30 >= 0.05, so Clarify reads label and prediction as
    # continuous and [0] is the exclusive lower bound 0 (positives are the 1s)
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 30)
    return pd.DataFrame(
        {
            "s": rng.integers(0, 2, 30) * 10 + 1,
            "x": rng.normal(size=30),
            "y": y,
            "yhat": np.where(rng.random(30) < 0.7, y, 1 - y),
        }
    )


CASES: list[tuple[str, Any, dict[str, Any]]] = [
    (
        "breast_continuous_facet",
        _breast,
        {
            "label": "target",
            "label_values": [1],
            "facet": "mean radius",
            "facet_values": [14],
            "predicted_label": "pred",
            "group_variable": "grp",
        },
    ),
    (
        "breast_one_vs_all",
        _breast,
        {
            "label": "target",
            "label_values": [1],
            "facet": "grp",
            "facet_values": None,
            "predicted_label": "pred",
        },
    ),
    (
        "breast_empty_facet",
        _breast,
        {
            "label": "target",
            "label_values": [1],
            "facet": "grp",
            "facet_values": [7],
            "predicted_label": "pred",
            "group_variable": "grp",
        },
    ),
    (
        "breast_threshold_at_max",
        _breast,
        {
            "label": "target",
            "label_values": [1],
            "facet": "mean radius",
            "facet_values": [40],
            "predicted_label": "pred",
        },
    ),
    (
        "wine_continuous_label",
        _wine,
        {
            "label": "alcohol",
            "label_values": [13],
            "facet": "cultivar",
            "facet_values": None,
            "predicted_label": "alcohol_hat",
            "group_variable": "cultivar",
        },
    ),
    (
        "wine_category_facet",
        _wine,
        {
            "label": "cultivar",
            "label_values": [0, 2],
            "facet": "cultivar_c",
            "facet_values": [1],
            "category": ["cultivar_c"],
        },
    ),
    (
        "strings",
        _strings,
        {
            "label": "y",
            "label_values": ["yes"],
            "facet": "color",
            "facet_values": None,
            "predicted_label": "yhat",
        },
    ),
    (
        "strings_two_values",
        _strings,
        {
            "label": "y",
            "label_values": ["yes"],
            "facet": "color",
            "facet_values": ["red", "blue"],
            "predicted_label": "yhat",
            "group_variable": "color",
        },
    ),
    (
        "te_infinite",
        _te_infinite,
        {
            "label": "y",
            "label_values": [1],
            "facet": "s",
            "facet_values": [1],
            "predicted_label": "yhat",
        },
    ),
    (
        "small_window_type_flip",
        _small_window,
        {
            "label": "y",
            "label_values": [0],
            "facet": "s",
            "facet_values": [5],
            "predicted_label": "yhat",
        },
    ),
    (
        "no_positive_prediction",
        _te_infinite,
        {
            "label": "y",
            "label_values": [1],
            "facet": "s",
            "facet_values": [1],
            "predicted_label": "never",
        },
    ),
]


def _frame(name: str, make: Any) -> pd.DataFrame:
    df = make()
    if name == "wine_category_facet":
        df["cultivar_c"] = df["cultivar"]
    if name == "no_positive_prediction":
        df["never"] = 0
    return df


def _ours(df: pd.DataFrame, spec: dict[str, Any], stage: str) -> dict[str, Any]:
    table = pa.Table.from_pandas(df, preserve_index=False)
    for col in spec.get("category", []):
        i = table.column_names.index(col)
        table = table.set_column(i, col, table.column(col).dictionary_encode())
    cfg = AnalysisConfig.from_dict(
        {
            "label": spec["label"],
            "label_values_or_threshold": spec["label_values"],
            "facet": [
                {
                    "name_or_index": spec["facet"],
                    **(
                        {"value_or_threshold": spec["facet_values"]}
                        if spec["facet_values"] is not None
                        else {}
                    ),
                }
            ],
            "predicted_label": spec.get("predicted_label"),
            "group_variable": spec.get("group_variable"),
        }
    )
    try:
        rep = bias_report(from_arrow(table), cfg, stage, strict_thresholds=False, flip_jobs=1)
    except BiasReportError as exc:
        return {"error": exc.message}
    return {"facets": rep.to_dict()["facets"][spec["facet"]], "label": rep.label_value_or_threshold}


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Any, Any, Any]]:
    root = Path(tmp_path_factory.mktemp("oracle"))
    cases, frames = [], []
    for name, make, spec in CASES:
        df = _frame(name, make)
        path = root / f"{name}.parquet"
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
        stages = ["pre_training"] + (["post_training"] if spec.get("predicted_label") else [])
        cases.append({**spec, "data": str(path), "stages": stages})
        frames.append(df)
    theirs = smclarify(cases)
    out = []
    for (name, _, spec), df, ref, case in zip(CASES, frames, theirs, cases):
        for stage in case["stages"]:
            out.append((f"{name}/{stage}", _ours(df, spec, stage), ref[stage], spec))
    return out


def test_every_case_matches_smclarify(compared: list[tuple[str, Any, Any, Any]]) -> None:
    checked = 0
    for name, ours, theirs, _ in compared:
        if isinstance(theirs, dict):  # smclarify refused the whole report
            assert "error" in ours, (name, ours)
            assert theirs["error"].split(": ", 1)[1] in ours["error"], (name, ours, theirs)
            continue
        assert "facets" in ours, (name, ours)
        assert_same_facet_reports(ours["facets"], theirs)
        checked += sum(len(e["metrics"]) for e in theirs)
    assert checked > 150


def test_cases_reach_the_edges(compared: list[tuple[str, Any, Any, Any]]) -> None:
    """The edge cases really are edges (on smclarify's side)."""
    by = {name: theirs for name, _, theirs, _ in compared}
    empty = by["breast_empty_facet/post_training"][0]["metrics"]
    assert all("error" in m for m in empty if m["name"] not in ("GE", "CDDPL"))
    te = {m["name"]: m for m in by["te_infinite/post_training"][0]["metrics"]}
    assert te["TE"]["value"] == "Infinity"
    assert "error" in by["no_positive_prediction/post_training"]
    assert len(by["breast_one_vs_all/pre_training"]) == 2
    assert by["breast_continuous_facet/pre_training"][0]["value_or_threshold"].startswith("(14")
