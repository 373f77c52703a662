"""`vigil baseline/analyze --problem-type`: model-quality baselines and checks from the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

FLAGS = [
    "--problem-type",
    "BinaryClassification",
    "--inference-attribute",
    "prediction",
    "--probability-attribute",
    "probability",
    "--ground-truth-attribute",
    "label",
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_model_quality_baseline_and_analysis(tmp_path: Path):
    data = load_breast_cancer()
    model = LogisticRegression(max_iter=5000).fit(data.data[:300], data.target[:300])
    score = model.predict_proba(data.data[300:])[:, 1]
    y = data.target[300:]
    frame = pd.DataFrame(
        {"prediction": (score >= 0.5).astype(int), "probability": score, "label": y}
    )
    frame.to_csv(tmp_path / "ref.csv", index=False)
    noisy = y.copy()
    flip = np.random.default_rng(0).uniform(size=len(y)) < 0.3  # 30% of labels wrong
    noisy[flip] = 1 - noisy[flip]
    frame.assign(label=noisy).to_parquet(tmp_path / "window.parquet")

    base = run("baseline", str(tmp_path / "ref.csv"), *FLAGS, "--output", str(tmp_path / "b"))
    assert base.returncode == 0, base.stderr
    stats = json.loads((tmp_path / "b" / "statistics.json").read_text())
    auc = stats["binary_classification_metrics"]["auc"]
    assert auc["value"] == roc_auc_score(y, score)
    assert isinstance(auc["standard_deviation"], float)  # 269 rows >= 200
    same = run(
        "analyze",
        str(tmp_path / "ref.csv"),
        "--baseline",
        str(tmp_path / "b"),
        *FLAGS,
        "--output",
        str(tmp_path / "same"),
    )
    assert same.returncode == 0, same.stdout + same.stderr
    worse = run(
        "analyze",
        str(tmp_path / "window.parquet"),
        "--baseline",
        str(tmp_path / "b"),
        *FLAGS,
        "--output",
        str(tmp_path / "worse"),
    )
    assert worse.returncode == 1, worse.stdout + worse.stderr
    violations = json.loads((tmp_path / "worse" / "constraint_violations.json").read_text())
    auc_v = next(v for v in violations["violations"] if v["metric_name"] == "auc")
    assert auc_v["constraint_check_type"] == "LessThanThreshold"
    assert auc_v["description"].startswith(f"Metric auc with {roc_auc_score(noisy, score)!r} +/- ")
    bad = run(
        "analyze",
        str(tmp_path / "window.parquet"),
        "--baseline",
        str(tmp_path / "b"),
        "--problem-type",
        "BinaryClassification",
        "--inference-attribute",
        "nope",
        "--ground-truth-attribute",
        "label",
        "--output",
        str(tmp_path / "x"),
    )
    assert bad.returncode == 2 and "nope" in bad.stderr
