"""A binary model-quality run over 1,000,000 merged records, beside scikit-learn.

Vigil: ``compute_metrics("BinaryClassification", y, None, score)`` (every SageMaker metric:
confusion matrix, the rates, ROC and PR curves, AUC, F0.5/F1/F2 and the best-constant-classifier
figures), once without the standard-deviation subsamples and once with them (5 subsamples of
80%, as SageMaker). Peer: scikit-learn computing the same metric set directly, one call per
metric as a user would write it (``confusion_matrix``, ``recall_score``, ``precision_score``,
``accuracy_score``, ``fbeta_score`` x3, ``roc_curve``, ``precision_recall_curve``,
``roc_auc_score``, and the same for the constant classifier), and the same again on five 80%
subsamples for the deviations. Best of ``--repeat`` runs each.

Reproduce: ``.venv/bin/python bench/bench_model_quality.py`` (writes section "model-quality" of
bench/RESULTS.md; ``--rows N``, ``--repeat R``, ``--no-write``).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import sklearn  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from results import write_section  # noqa: E402
from vigil.checks.model_quality import compute_metrics  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_model_quality.py"


def make_data(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """``n`` merged records: a 0/1 label (30% positive) and a model's probability."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    score = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0.0, 1.0)
    return y, score


def sklearn_metrics(y: np.ndarray, score: np.ndarray, curves: bool = True) -> dict[str, Any]:
    """The same metric set, one scikit-learn call per metric."""
    pred = (score >= 0.5).astype(np.int64)
    const = np.ones_like(y)
    out: dict[str, Any] = {"confusion_matrix": skm.confusion_matrix(y, pred, labels=[0, 1])}
    for suffix, p in (("", pred), ("_best_constant_classifier", const)):
        out["recall" + suffix] = skm.recall_score(y, p, zero_division=0)
        out["precision" + suffix] = skm.precision_score(y, p, zero_division=0)
        out["accuracy" + suffix] = skm.accuracy_score(y, p)
        for name, beta in (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0)):
            out[name + suffix] = skm.fbeta_score(y, p, beta=beta, zero_division=0)
    out["true_negative_rate"] = skm.recall_score(y, pred, pos_label=0, zero_division=0)
    out["false_positive_rate"] = 1 - out["true_negative_rate"]
    out["true_positive_rate"] = out["recall"]
    out["false_negative_rate"] = 1 - out["recall"]
    out["auc"] = skm.roc_auc_score(y, score)
    if curves:
        out["roc"] = skm.roc_curve(y, score)
        out["pr"] = skm.precision_recall_curve(y, score, drop_intermediate=True)
    return out


def sklearn_with_std(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    full = sklearn_metrics(y, score)
    rng = np.random.default_rng(0)
    runs = []
    for _ in range(5):
        m = rng.random(len(y)) < 0.8
        runs.append(sklearn_metrics(y[m], score[m], curves=False))
    full["std"] = {k: float(np.std([r[k] for r in runs])) for k in runs[0]
                   if k != "confusion_matrix"}
    return full


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    y, score = make_data(args.rows)
    # same numbers first
    ours = compute_metrics("BinaryClassification", y, None, score, standard_deviation=False)
    ref = sklearn_metrics(y, score)
    for key in ("recall", "precision", "accuracy", "auc", "f1", "f2", "f0_5",
                "f1_best_constant_classifier", "false_positive_rate"):
        assert abs(ours[key] - ref[key]) <= 1e-12 * max(1.0, abs(ref[key])), key

    rows = [
        ("Vigil `compute_metrics`, no deviations",
         best_of(lambda: compute_metrics("BinaryClassification", y, None, score,
                                         standard_deviation=False), args.repeat)),
        ("scikit-learn, one call per metric",
         best_of(lambda: sklearn_metrics(y, score), args.repeat)),
        ("Vigil `compute_metrics`, with 5 x 80% subsample deviations",
         best_of(lambda: compute_metrics("BinaryClassification", y, None, score),
                 args.repeat)),
        ("scikit-learn, the same on 5 x 80% subsamples",
         best_of(lambda: sklearn_with_std(y, score), args.repeat)),
    ]
    lines = [
        "## Model quality (binary classification)",
        "",
        f"{args.rows:,} merged records (label, probability), every SageMaker binary metric "
        "(confusion matrix, rates, ROC and PR curves, AUC, F0.5/F1/F2, best constant "
        f"classifier). Best of {args.repeat}. Values checked equal first.",
        "",
        "| what | seconds | records/s |",
        "|---|---:|---:|",
    ]
    for name, secs in rows:
        lines.append(f"| {name} | {secs:.3f} | {args.rows / secs:,.0f} |")
    lines += [
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}.",
        "",
        "Vigil computes the count-based metrics from one confusion matrix (a `bincount`) and "
        "uses scikit-learn's `roc_curve`, `auc` and `precision_recall_curve` for the rest; "
        "the peer pays scikit-learn's input validation and label handling on every call.",
        "",
        f"Reproduce: `{COMMAND}`",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("model-quality", text)


if __name__ == "__main__":
    main()
