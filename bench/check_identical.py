"""Check that two Vigil installations write the same data-quality files, byte for byte.

    .venv/bin/python bench/check_identical.py --reference /work/main/.venv/bin/vigil \
        [--candidate .venv/bin/vigil] [--rows N]

Runs ``vigil baseline`` on each input with both CLIs, then ``vigil analyze`` of a second
input against the reference's baseline, and compares statistics.json, constraints.json and
constraint_violations.json byte for byte. The inputs: the benchmark's Parquet files
(bench/make_data.py, ten row groups) and small files of the kinds the tests use: CSV with mixed
types and a header, JSON lines, Parquet with nulls, NaN, integers, booleans, a text column past
the category cap and several row groups, and a directory of two files. The reference runs with
PYTHONPATH unset (an editable install reads its own sources), the candidate with this
checkout's ``src`` first. Exit status 1 and the differing files when any differ.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from make_data import DATA_DIR, DEFAULT_ROWS, ensure

ROOT = Path(__file__).resolve().parent.parent
COMPARED = ("statistics.json", "constraints.json", "constraint_violations.json")


def small_inputs(where: Path) -> list[tuple[str, Path, Path]]:
    """(name, baseline input, analysed input) of the small cases."""
    g = np.random.default_rng(13)
    cases: list[tuple[str, Path, Path]] = []

    def table(n: int, shift: float) -> pa.Table:
        x = g.normal(shift, 1.0, n)
        x[g.random(n) < 0.02] = np.nan
        ints = pa.array(g.integers(-50, 50, n), mask=g.random(n) < 0.05)
        cats = pa.array(g.choice(["a", "b", "c", "d"], n), mask=g.random(n) < 0.1)
        many = pa.array([f"id{v}" for v in g.integers(0, 30_000, n)])  # past the category cap
        nums = pa.array([f"{v:.3f}" for v in g.lognormal(0, 1, n)])  # numbers as text
        flags = pa.array(g.random(n) < 0.3)
        return pa.table(
            {"x": x, "i": ints, "cat": cats, "many": many, "numtext": nums, "flag": flags}
        )

    for name, shift in (("base", 0.0), ("win", 0.4)):
        t = table(60_000, shift)
        pq.write_table(t, where / f"{name}.parquet", row_group_size=25_000)
        t.slice(0, 5_000).to_pandas().to_csv(where / f"{name}.csv", index=False)
        with open(where / f"{name}.jsonl", "w") as fh:
            for row in t.slice(0, 3_000).to_pylist():
                fh.write(json.dumps(row) + "\n")
        d = where / f"{name}-dir"
        d.mkdir()
        pq.write_table(t.slice(0, 20_000), d / "a.parquet")
        pq.write_table(t.slice(20_000, 7_000).drop(["many"]), d / "b.parquet")
    for ext in ("parquet", "csv", "jsonl"):
        cases.append((ext, where / f"base.{ext}", where / f"win.{ext}"))
    cases.append(("directory", where / "base-dir", where / "win-dir"))
    return cases


def run(vigil: str, env: dict[str, str], *args: str) -> None:
    done = subprocess.run([vigil, *args], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"{vigil} {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", required=True, help="the vigil CLI to compare against")
    ap.add_argument("--candidate", default=str(Path(sys.executable).parent / "vigil"))
    ap.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    args = ap.parse_args()
    ref_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    new_env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    data = DATA_DIR if args.rows == DEFAULT_ROWS else DATA_DIR / f"rows-{args.rows}"
    bench_ref, bench_win = ensure(args.rows, data)
    differ: list[str] = []
    with tempfile.TemporaryDirectory(prefix="vigil-identical-") as name:
        tmp = Path(name)
        cases = [("bench", bench_ref, bench_win), *small_inputs(tmp)]
        for case, base_in, win_in in cases:
            outs = {}
            for who, vigil, env in (
                ("reference", args.reference, ref_env),
                ("candidate", args.candidate, new_env),
            ):
                out = tmp / case / who
                run(vigil, env, "baseline", str(base_in), "--output", str(out / "base"))
                # both analyse against the reference's baseline: one difference, one report
                base = tmp / case / "reference" / "base"
                run(
                    vigil,
                    env,
                    "analyze",
                    str(win_in),
                    "--baseline",
                    str(base),
                    "--output",
                    str(out / "an"),
                )
                outs[who] = out
            for sub in ("base", "an"):
                for f in COMPARED:
                    a, b = outs["reference"] / sub / f, outs["candidate"] / sub / f
                    if a.exists() != b.exists() or (
                        a.exists() and not filecmp.cmp(a, b, shallow=False)
                    ):
                        differ.append(f"{case}/{sub}/{f}")
            same = not any(d.startswith(case + "/") for d in differ)
            print(f"{case}: {'identical' if same else 'differs'}")
    if differ:
        sys.exit(f"{len(differ)} file(s) differ: {', '.join(differ)}")
    print(f"all {len(cases)} cases identical ({', '.join(COMPARED)})")


if __name__ == "__main__":
    main()
