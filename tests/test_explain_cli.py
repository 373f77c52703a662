"""``vigil explain`` (a real process) and ``vigil.explain``: Clarify's files from CSV (with and
without a header row), Parquet and JSON Lines data; exit 2 with one line on bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

import vigil
from explain_oracle import brute_shapley
from vigil.errors import ConfigError, InputError

pytest.importorskip("shap")

VIGIL = [sys.executable, "-m", "vigil.cli"]
HEADERS = ["age", "income", "score", "target"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("explain")
    x, y = make_classification(n_samples=120, n_features=3, n_informative=3, n_redundant=0,
                               random_state=2)
    rf = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(x, y)
    joblib.dump(rf, root / "model.joblib")
    rows = x[:20]
    with open(root / "data.csv", "w", newline="") as fh:  # no header row, as Clarify's
        csv.writer(fh).writerows([[*map(repr, r.tolist()), int(t)] for r, t in zip(rows, y[:20])])
    with open(root / "header.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        w.writerows([[*map(repr, r.tolist()), int(t)] for r, t in zip(rows, y[:20])])
    pq.write_table(pa.table({h: rows[:, i] for i, h in enumerate(HEADERS[:3])}),
                   root / "data.parquet")
    with open(root / "data.jsonl", "w") as fh:
        for r, t in zip(rows, y[:20]):
            fh.write(json.dumps({"features": r.tolist(), "label": int(t)}) + "\n")
    base = x[100:102].tolist()
    config = {
        "version": "1.0", "dataset_type": "text/csv", "headers": HEADERS, "label": "target",
        "methods": {"shap": {"baseline": base, "save_local_shap_values": True}},
        "predictor": {"probability": 1, "label_headers": ["no", "yes"]},
    }
    (root / "analysis_config.json").write_text(json.dumps(config))
    return {"root": root, "rf": rf, "rows": rows, "base": np.array(base), "config": config}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGIL, *args], capture_output=True, text=True, timeout=120)


def test_cli_writes_clarify_files(setup) -> None:
    root: Path = setup["root"]  # type: ignore[assignment]
    out = root / "out"
    done = run("explain", str(root / "data.csv"), "--config", str(root / "analysis_config.json"),
               "--model", str(root / "model.joblib"), "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert "20 records explained by tree_shap" in done.stdout
    doc = json.loads((out / "analysis.json").read_text())
    entry = doc["explanations"]["kernel_shap"]["yes"]
    rf = setup["rf"]
    want, expected = brute_shapley(lambda r: rf.predict_proba(r)[:, 1], setup["rows"],
                                   setup["base"])
    assert entry["expected_value"] == pytest.approx(expected)
    assert list(entry["global_shap_values"]) == HEADERS[:3]
    assert list(entry["global_shap_values"].values()) == pytest.approx(
        np.abs(want).mean(axis=0).tolist(), abs=1e-7)
    with open(out / "explanations_shap" / "out.csv") as fh:
        table = list(csv.reader(fh))
    assert table[0] == HEADERS[:3] and len(table) == 21
    np.testing.assert_allclose(np.array(table[1:], dtype=float), want, atol=1e-7)


def test_formats_give_the_same_values(setup) -> None:
    root: Path = setup["root"]  # type: ignore[assignment]
    config = setup["config"]
    model = root / "model.joblib"
    first = vigil.explain(root / "data.csv", config, model)
    assert first.algorithm == "tree_shap"
    for data, cfg in [
        (root / "header.csv", config),
        (root / "data.parquet", config),
        (root / "data.jsonl", {**config, "dataset_type": "application/jsonlines",
                               "features": "features", "headers": HEADERS[:3]}),
    ]:
        other = vigil.explain(data, cfg, model)
        np.testing.assert_allclose(other.labels[0].local, first.labels[0].local)
    kernel = vigil.explain(root / "data.csv", config, model, algorithm="kernel")
    np.testing.assert_allclose(kernel.labels[0].local, first.labels[0].local, atol=1e-7)


def test_python_api_errors(setup) -> None:
    root: Path = setup["root"]  # type: ignore[assignment]
    config = setup["config"]
    with pytest.raises(ConfigError, match=r"methods.shap.agg_method"):
        vigil.explain(root / "data.csv", {**config, "methods": {"shap": {"agg_method": "max"}}},
                      root / "model.joblib")
    with pytest.raises(InputError, match="first row has 4 column"):
        vigil.explain(root / "data.csv", {**config, "headers": ["a", "b", "target"]},
                      root / "model.joblib")
    bad = root / "text.csv"
    bad.write_text("1.0,abc,2.0,0\n")
    with pytest.raises(InputError, match="column 'income', record 0: 'abc'"):
        vigil.explain(bad, config, root / "model.joblib")


def test_cli_bad_input_exits_2_with_one_line(setup, tmp_path) -> None:
    root: Path = setup["root"]  # type: ignore[assignment]
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"headers": HEADERS, "methods": {}}))
    args = ["explain", str(root / "data.csv"), "--output", str(tmp_path / "o")]
    for config, model, message in [
        (cfg, root / "model.joblib", "methods.shap: missing"),
        (root / "analysis_config.json", tmp_path / "none.joblib", "no such file"),
        (tmp_path / "absent.json", root / "model.joblib", "cannot read"),
    ]:
        done = run(*args, "--config", str(config), "--model", str(model))
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
        assert done.stderr.startswith("vigil: error: ")
