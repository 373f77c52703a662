"""Anomaly scoring: Vigil's NumPy Isolation Forest scorer beside scikit-learn's own
``IsolationForest.score_samples`` on the same model and window, plus the precision and recall
of each method on data with injected outliers.

Speed: a 100-tree forest (256 samples per tree, ``random_state`` 0) fitted on 100,000 training
rows of F standard-normal features; the window is N rows (default 1,000,000 x 20). Vigil's
side scores the encoded matrix from the portable JSON model (load included); scikit-learn's
scores the same float matrix with the forest it fitted (one thread, its default). Both sides'
scores are compared (largest absolute difference). Time is the best of R runs.

Detection: :func:`vigil.checks.anomaly.evaluation.injected_outliers` (5,000 training rows,
a 2,000-row window with 20 extreme values, 20 unusual combinations and 20 unseen categories),
at each method's default threshold (contamination 0.01).

Reproduce: ``.venv/bin/python bench/bench_anomaly.py`` (writes section "anomaly" of
bench/RESULTS.md; ``--rows N``, ``--features F``, ``--repeat R``, ``--no-write``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from sklearn.ensemble import IsolationForest  # noqa: E402

from results import write_section  # noqa: E402
from vigil.checks.anomaly import METHODS, AnomalyModel, AnomalyOptions, fit_anomaly_model  # noqa: E402
from vigil.checks.anomaly.evaluation import injected_outliers, precision_recall  # noqa: E402


def _best(fn, repeat: int) -> tuple[float, np.ndarray]:
    best, out = float("inf"), np.empty(0)
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def speed(rows: int, features: int, repeat: int) -> tuple[str, float, float]:
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(features)]
    train = pa.table({n: rng.normal(size=100_000) for n in names})
    model = fit_anomaly_model(train, numeric=names)
    window = rng.normal(size=(rows, features))
    with tempfile.TemporaryDirectory() as tmp:
        path = model.save(Path(tmp) / "anomaly_model.json")
        size = path.stat().st_size
        ours_s, ours = _best(lambda: AnomalyModel.load(path).score(window), repeat)
    ref = IsolationForest(n_estimators=100, max_samples=256, random_state=0).fit(
        model.encode(train).matrix
    )
    sk_s, sk = _best(lambda: -ref.score_samples(window), repeat)
    diff = float(np.max(np.abs(ours - sk)))
    text = (
        f"| scorer | {rows:,} rows x {features} features | rows/s |\n|---|---:|---:|\n"
        f"| Vigil (NumPy, from anomaly_model.json, {size / 1e6:.1f} MB) | {ours_s:.2f} s | "
        f"{rows / ours_s:,.0f} |\n"
        f"| scikit-learn {metadata.version('scikit-learn')} `score_samples` | {sk_s:.2f} s | "
        f"{rows / sk_s:,.0f} |\n\nLargest absolute difference of the scores: {diff:.2e}.\n"
    )
    return text, ours_s, sk_s


def detection() -> str:
    train, window, kinds = injected_outliers()
    names = [c for c in train.column_names if c != "cat"]
    lines = [
        "| method | precision | recall | recall: extreme | combination | rare category | "
        "false positive rate |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in METHODS:
        model = fit_anomaly_model(train, numeric=names, categorical=["cat"],
                                  options=AnomalyOptions(method=m))
        r = precision_recall(model, window, kinds)
        k = r.recall_by_kind
        lines.append(
            f"| {m} | {r.precision:.2f} | {r.recall:.2f} | {k['extreme']:.2f} | "
            f"{k['combination']:.2f} | {k['rare_category']:.2f} | {r.false_positive_rate:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    table, ours_s, sk_s = speed(args.rows, args.features, args.repeat)
    quality = detection()
    text = (
        "## Anomaly scoring (bench_anomaly.py)\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, NumPy {np.__version__}. Best of {args.repeat}.\n\n"
        f"{table}\nVigil / scikit-learn time: {ours_s / sk_s:.2f}.\n\n"
        "Detection on injected outliers (default threshold, contamination 0.01):\n\n"
        f"{quality}\nReproduce: `.venv/bin/python bench/bench_anomaly.py`\n"
    )
    print(text)
    if not args.no_write:
        write_section("anomaly", text)


if __name__ == "__main__":
    main()
