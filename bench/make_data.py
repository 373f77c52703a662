"""Generate the benchmark's Parquet files, deterministically.

``reference.parquet`` and ``window.parquet``: N rows (default 1,000,000), 15 float64 columns
``f0..f14`` (normal, lognormal, uniform, integer-valued, a few NaNs) and 5 string columns
``c0..c4`` of about 10 values each with skewed frequencies. The window is a fresh sample of the
same distributions except for 5 shifted columns: f0, f1, f2 (mean), f3 (scale), c0 (frequencies).
Row groups hold 100,000 rows (ten for the default size), so readers can use every core.

    python bench/make_data.py [--rows N] [--out-dir bench/data] [--force]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_ROWS = 1_000_000
DATA_DIR = Path(__file__).resolve().parent / "data"
# Ten row groups of 100,000 rows for the default size: with fewer (one), DuckDB scans on one
# core; with ten it uses every core, and so may Vigil (issue 13).
ROW_GROUP_ROWS = 100_000
SHIFTED = ("f0", "f1", "f2", "f3", "c0")

Gen = Callable[[np.random.Generator, int], np.ndarray]


def _floats(shifted: bool) -> dict[str, Gen]:
    s = shifted
    return {
        "f0": lambda g, n: g.normal(0.5 if s else 0.0, 1.0, n),
        "f1": lambda g, n: g.normal(55.0 if s else 50.0, 10.0, n),
        "f2": lambda g, n: g.lognormal(3.3 if s else 3.0, 0.8, n),
        "f3": lambda g, n: g.normal(0.0, 10.0 if s else 5.0, n),
        "f4": lambda g, n: g.uniform(0.0, 100.0, n),
        "f5": lambda g, n: g.exponential(2.0, n),
        "f6": lambda g, n: g.poisson(3.0, n).astype(np.float64),
        "f7": lambda g, n: g.integers(0, 1000, n).astype(np.float64),
        "f8": lambda g, n: g.normal(1e6, 1e5, n),
        "f9": lambda g, n: g.lognormal(0.0, 2.0, n),
        "f10": lambda g, n: g.uniform(-1.0, 1.0, n),
        "f11": lambda g, n: g.gamma(2.0, 2.0, n),
        "f12": lambda g, n: g.binomial(20, 0.3, n).astype(np.float64),
        "f13": lambda g, n: g.standard_t(5.0, n),
        "f14": lambda g, n: g.beta(2.0, 5.0, n),
    }


NAN_SHARE = {"f1": 0.01, "f9": 0.001, "f13": 0.05}
NULL_SHARE = {"c4": 0.01}


def _zipf(k: int, s: float) -> np.ndarray:
    p = 1.0 / np.arange(1, k + 1) ** s
    return p / p.sum()


def _categories(shifted: bool) -> dict[str, tuple[list[str], np.ndarray]]:
    cats: dict[str, tuple[list[str], np.ndarray]] = {}
    for i, (k, s) in enumerate([(10, 1.0), (10, 1.5), (8, 0.7), (12, 1.2), (10, 0.0)]):
        name = f"c{i}"
        cats[name] = ([f"{name}_v{j}" for j in range(k)], _zipf(k, s))
    if shifted:  # c0: the frequency order is reversed
        values, p = cats["c0"]
        cats["c0"] = (values, p[::-1].copy())
    return cats


def make_table(rows: int, seed: int, shifted: bool) -> pa.Table:
    g = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for name, gen in _floats(shifted).items():
        x = gen(g, rows)
        if name in NAN_SHARE:
            x[g.random(rows) < NAN_SHARE[name]] = np.nan
        columns[name] = pa.array(x, type=pa.float64())
    for name, (values, p) in _categories(shifted).items():
        codes = g.choice(len(values), size=rows, p=p).astype(np.int32)
        mask = g.random(rows) < NULL_SHARE.get(name, 0.0)
        dictionary = pa.DictionaryArray.from_arrays(
            pa.array(codes, mask=mask), pa.array(values, type=pa.string())
        )
        columns[name] = dictionary.cast(pa.string())
    return pa.table(columns)


def _row_groups(rows: int) -> int:
    return max(1, -(-rows // ROW_GROUP_ROWS))


def _layout(path: Path) -> tuple[int, int]:
    """A Parquet file's (rows, row groups): a file in another layout is written again."""
    meta = pq.read_metadata(path)
    return meta.num_rows, meta.num_row_groups


def ensure(rows: int, out_dir: Path, force: bool = False) -> tuple[Path, Path]:
    """Write reference/window Parquet files unless they already hold ``rows`` rows in row groups
    of ``ROW_GROUP_ROWS``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = (out_dir / "reference.parquet", out_dir / "window.parquet")
    for path, seed, shifted in zip(paths, (1, 2), (False, True), strict=True):
        if not force and path.exists() and _layout(path) == (rows, _row_groups(rows)):
            continue
        tmp = path.with_suffix(".tmp")
        pq.write_table(make_table(rows, seed, shifted), tmp, row_group_size=ROW_GROUP_ROWS)
        tmp.replace(path)
        print(f"wrote {path} ({rows:,} rows, {path.stat().st_size / 2**20:.1f} MiB)")
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    ap.add_argument("--out-dir", type=Path, default=DATA_DIR)
    ap.add_argument("--force", action="store_true", help="rewrite even if present")
    args = ap.parse_args()
    ensure(args.rows, args.out_dir, args.force)


if __name__ == "__main__":
    main()
