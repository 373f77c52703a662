"""Bias metrics (all pre- and post-training, one facet) on 1,000,000 rows: Vigil vs smclarify
0.5 (in tests/oracles/.venv, made by tests/oracles/setup.sh), same data, same run; the values
are compared too. Writes the "bias" section of bench/RESULTS.md.

    python bench/bench_bias.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from results import write_section  # noqa: E402
from vigil.checks.bias.compute import compute_analysis  # noqa: E402
from vigil.checks.bias.data import from_arrow  # noqa: E402
from vigil.formats.clarify_config import AnalysisConfig  # noqa: E402

ORACLE = HERE.parent / "tests" / "oracles" / ".venv" / "bin" / "python"
PEER = r"""
import json, sys, time
import pandas as pd
from smclarify.bias import report
df = pd.read_parquet(sys.argv[1])
t0 = time.perf_counter()
label = report.LabelColumn("y", df["y"], [1])
facet = report.FacetColumn("s", [1])
pre = report.bias_report(df.drop(columns=["yhat"]), facet, label, report.StageType.PRE_TRAINING,
                         group_variable=df["g"])
t1 = time.perf_counter()
post = report.bias_report(df, facet, report.LabelColumn("y", df["y"], [1]),
                          report.StageType.POST_TRAINING, report.LabelColumn("yhat", df["yhat"]),
                          group_variable=df["g"])
t2 = time.perf_counter()
json.dump({"pre": pre, "post": post, "pre_s": t1 - t0, "post_s": t2 - t1}, sys.stdout)
"""


def make(n: int, seed: int = 11) -> pa.Table:
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x1 + 0.5 * s)))).astype(np.int64)
    yhat = (1 / (1 + np.exp(-(x1 + 0.3 * x2))) > 0.5).astype(np.int64)
    g = rng.integers(0, 5, n)
    return pa.table({"s": s, "x1": x1, "x2": x2, "g": g, "y": y, "yhat": yhat})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    table = make(args.rows)
    cfg = AnalysisConfig.from_dict(
        {
            "label": "y",
            "predicted_label": "yhat",
            "label_values_or_threshold": [1],
            "group_variable": "g",
            "facet": [{"name_or_index": "s", "value_or_threshold": [1]}],
        }
    )
    t0 = time.perf_counter()
    data = from_arrow(table)
    pre = compute_analysis(data, cfg, stages=["pre_training"])
    t1 = time.perf_counter()
    post = compute_analysis(data, cfg, stages=["post_training"])
    t2 = time.perf_counter()
    ours = {"pre_s": t1 - t0, "post_s": t2 - t1}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.parquet"
        pq.write_table(table, path)
        done = subprocess.run(
            [str(ORACLE), "-c", PEER, str(path)], capture_output=True, text=True, check=True
        )
    peer = json.loads(done.stdout)
    worst = 0.0
    for mine, theirs in ((pre.pre_training, peer["pre"]), (post.post_training, peer["post"])):
        for m, r in zip(mine["facets"]["s"][0]["metrics"], theirs[0]["metrics"]):
            assert m["name"] == r["name"]
            if isinstance(r["value"], float):
                worst = max(worst, abs(m["value"] - r["value"]))
    speed_post = peer["post_s"] / ours["post_s"]
    total_ours, total_peer = ours["pre_s"] + ours["post_s"], peer["pre_s"] + peer["post_s"]
    text = f"""## Bias metrics (Clarify), {args.rows:,} rows, one facet

All 8 pre-training and 13 post-training metrics (FT included, with CDDL/CDDPL over a 5-value
group variable, 2 numeric features), categorical facet. Vigil vs smclarify 0.5 (pandas 2, its
own venv), same data, same run; largest difference of a value: {worst:.1e}.
{os.cpu_count()} CPUs; FT's neighbour queries use every core in Vigil (scikit-learn's same
`KNeighborsClassifier`, so the same neighbours), one in smclarify.

| stage | Vigil (s) | smclarify (s) | speed-up |
|---|---:|---:|---:|
| pre-training | {ours["pre_s"]:.2f} | {peer["pre_s"]:.2f} | {peer["pre_s"] / ours["pre_s"]:.0f}x |
| post-training (FT dominates) | {ours["post_s"]:.2f} | {peer["post_s"]:.2f} | {speed_post:.1f}x |
| total | {total_ours:.2f} | {total_peer:.2f} | {total_peer / total_ours:.1f}x |

Command: `bash tests/oracles/setup.sh && python bench/bench_bias.py --rows {args.rows}`
"""
    print(text)
    write_section("bias", text)


if __name__ == "__main__":
    main()
