"""Clarify's files (analysis_config.json in, analysis.json out), the data readers, `vigil bias`
and `vigil.bias()` on real files and real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import vigil
from vigil.checks.bias import BiasReportError
from vigil.errors import FormatError
from vigil.formats.clarify_analysis import AnalysisDocument
from vigil.formats.clarify_config import AnalysisConfig

SRC = Path(__file__).resolve().parents[1] / "src"
FIXTURE = Path(__file__).resolve().parents[1] / "../shared/data/sagemaker"
HEADERS = ["y", "sex", "age", "x", "yhat", "g"]


def _rows(n: int = 300, seed: int = 0) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        sex = int(rng.integers(0, 2))
        y = int(rng.random() < 0.3 + 0.2 * sex)
        yhat = y if rng.random() < 0.8 else 1 - y
        rows.append(
            [
                y,
                sex,
                int(rng.integers(18, 80)),
                round(float(rng.normal()), 4),
                yhat,
                int(rng.integers(0, 3)),
            ]
        )
    return rows


def _config(tmp: Path, **extra: object) -> Path:
    cfg = {
        "version": "1.0",
        "dataset_type": "text/csv",
        "headers": HEADERS,
        "label": "y",
        "predicted_label": "yhat",
        "label_values_or_threshold": [1],
        "facet": [
            {"name_or_index": "sex", "value_or_threshold": [1]},
            {"name_or_index": "age", "value_or_threshold": [40]},
        ],
        "group_variable": "g",
        "methods": {
            "pre_training_bias": {"methods": "all"},
            "post_training_bias": {"methods": "all"},
            "report": {"name": "report"},
        },
        **extra,
    }
    path = tmp / "analysis_config.json"
    path.write_text(json.dumps(cfg))
    return path


def _csv(path: Path, rows: list[list[object]], header: bool) -> Path:
    lines = ([",".join(HEADERS)] if header else []) + [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_without_header_parquet_jsonl_agree(tmp_path: Path) -> None:
    rows = _rows()
    cfg = _config(tmp_path)
    plain = vigil.bias(_csv(tmp_path / "a.csv", rows, header=False), cfg).to_dict()
    with_header = vigil.bias(_csv(tmp_path / "b.csv", rows, header=True), cfg).to_dict()
    two = vigil.bias(
        [
            _csv(tmp_path / "c1.csv", rows[:100], False),
            _csv(tmp_path / "c2.csv", rows[100:], False),
        ],
        cfg,
    ).to_dict()
    assert plain == with_header == two
    table = pa.table({h: [r[i] for r in rows] for i, h in enumerate(HEADERS)})
    pq.write_table(table, tmp_path / "d.parquet")
    pcfg = _config(tmp_path, dataset_type="application/x-parquet")
    assert vigil.bias(tmp_path / "d.parquet", pcfg).to_dict() == plain
    with (tmp_path / "e.jsonl").open("w") as fh:
        for r in rows:
            fh.write(
                json.dumps(
                    {"features": [r[1], r[2], r[3], r[5]], "label": r[0], "pred": {"label": r[4]}}
                )
                + "\n"
            )
    jcfg = _config(
        tmp_path,
        dataset_type="application/jsonlines",
        features="features",
        label="label",
        predicted_label="pred.label",
        headers=["sex", "age", "x", "g", "y", "yhat"],
    )
    doc = vigil.bias(tmp_path / "e.jsonl", jcfg).to_dict()
    # the same metrics; FT's features are the same columns in another order
    assert doc["pre_training_bias_metrics"] == plain["pre_training_bias_metrics"]
    post = doc["post_training_bias_metrics"]["facets"]["sex"][0]["metrics"]
    ref = plain["post_training_bias_metrics"]["facets"]["sex"][0]["metrics"]
    assert [m["name"] for m in post] == [m["name"] for m in ref]
    # age is an integer column with many values: continuous, threshold 40 exclusive
    assert plain["pre_training_bias_metrics"]["facets"]["age"][0]["value_or_threshold"] == (
        f"(40, {max(r[2] for r in rows)}]"
    )


def test_analysis_json_shape_matches_clarify_fixture(tmp_path: Path) -> None:
    fixture = json.loads((FIXTURE / "clarify_pretraining_bias_analysis.json").read_text())
    ours = vigil.bias(_csv(tmp_path / "a.csv", _rows(), False), _config(tmp_path)).to_dict()
    ref = fixture["pre_training_bias_metrics"]
    mine = ours["pre_training_bias_metrics"]
    assert set(mine) == set(ref)
    ref_entry = next(iter(ref["facets"].values()))[0]
    entry = mine["facets"]["sex"][0]
    assert set(entry) == set(ref_entry)
    assert [(m["name"], m["description"]) for m in entry["metrics"]] == [
        (m["name"], m["description"]) for m in ref_entry["metrics"]
    ]
    assert all(
        isinstance(v, str) for v in (mine["label_value_or_threshold"], entry["value_or_threshold"])
    )
    path = AnalysisDocument.from_dict(ours).save(tmp_path / "out")
    assert AnalysisDocument.load(path).to_dict() == ours
    assert (
        AnalysisDocument.load(FIXTURE / "clarify_pretraining_bias_analysis.json").to_dict()
        == fixture
    )


def test_infinity_is_written_as_a_string(tmp_path: Path) -> None:
    s = [1] * 40 + [0] * 60
    y = [1] * 20 + [0] * 20 + [1] * 30 + [0] * 30
    yhat = [1] * 10 + [0] * 10 + [0] * 20 + [1] * 25 + [0] * 5 + [1] * 10 + [0] * 20
    doc = vigil.bias(
        pa.table({"s": s, "y": y, "yhat": yhat}),
        {
            "label": "y",
            "predicted_label": "yhat",
            "label_values_or_threshold": [1],
            "facet": [{"name_or_index": "s", "value_or_threshold": [1]}],
        },
    )
    text = doc.dumps()
    assert '"value": "Infinity"' in text
    te = next(
        m
        for m in json.loads(text)["post_training_bias_metrics"]["facets"]["s"][0]["metrics"]
        if m["name"] == "TE"
    )
    assert te["value"] == "Infinity"
    assert "NaN" not in text


def test_probability_column_gives_post_training(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    t = pa.table(
        {"s": rng.integers(0, 2, 200), "y": rng.integers(0, 2, 200), "score": rng.random(200)}
    )
    cfg = {
        "label": "y",
        "label_values_or_threshold": [1],
        "probability_threshold": 0.7,
        "predictor": {"probability": "score"},
        "facet": [{"name_or_index": "s", "value_or_threshold": [1]}],
    }
    doc = vigil.bias(t, cfg)
    pred = (t.column("score").to_numpy() > 0.7).astype(int)
    t2 = t.drop(["score"]).append_column("predicted_label", pa.array(pred))
    ref = vigil.bias(
        t2,
        {
            **{k: v for k, v in cfg.items() if k != "predictor"},
            "predicted_label": "predicted_label",
        },
    )
    assert doc.post_training == ref.post_training


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"facet": [{"name_or_index": "nope"}]}, "facet 'nope' is not a column"),
        ({"label": "nope"}, "label 'nope' is not a column"),
        ({"group_variable": "nope"}, "group_variable 'nope'"),
        (
            {"facet": [{"name_or_index": "age", "value_or_threshold": [95]}]},
            "facet 'age': threshold 95 is not below the column's maximum",
        ),
        ({"predicted_label": "x"}, "Predicted Label Column series datatype"),
    ],
)
def test_bad_input_names_the_field(tmp_path: Path, change: dict, needle: str) -> None:
    data = _csv(tmp_path / "a.csv", _rows(), False)
    with pytest.raises(BiasReportError, match=needle):
        vigil.bias(data, _config(tmp_path, **change))


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"facet": "sex"}, "key 'facet'"),
        ({"facet": [{"value_or_threshold": [1]}]}, "facet[0]"),
        ({"label_values_or_threshold": []}, "label_values_or_threshold"),
        ({"methods": {"post_training_bias": {"methods": 3}}}, "methods.post_training_bias"),
        ({"dataset_type": "text/tsv"}, "dataset_type"),
        ({"headers": "a,b"}, "headers"),
    ],
)
def test_config_errors_name_the_key(doc: dict, needle: str) -> None:
    with pytest.raises(FormatError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        AnalysisConfig.from_dict(doc)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_writes_analysis_json_and_exits_2_on_bad_input(tmp_path: Path) -> None:
    data = _csv(tmp_path / "a.csv", _rows(), False)
    done = _cli(
        "bias", str(data), "--config", str(_config(tmp_path)), "--output", str(tmp_path / "out")
    )
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "out" / "analysis.json").read_text())
    assert written == vigil.bias(data, _config(tmp_path)).to_dict()
    assert "analysis written to" in done.stdout
    bad = _cli(
        "bias",
        str(data),
        "--config",
        str(_config(tmp_path, label="nope")),
        "--output",
        str(tmp_path / "out2"),
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "label 'nope'" in bad.stderr
    missing = _cli(
        "bias",
        str(data),
        "--config",
        str(tmp_path / "none.json"),
        "--output",
        str(tmp_path / "out3"),
    )
    assert missing.returncode == 2 and "none.json" in missing.stderr
