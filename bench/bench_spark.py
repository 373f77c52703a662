"""The Spark engine beside whylogs' own Spark integration, and beside the local engine.

Data: ``--rows`` rows (default 10,000,000) of bench/make_data.py's reference table (15 float
and 5 string columns), written as Parquet files of 1,000,000 rows (row groups of 100,000)
under ``bench/data/spark/``. Every Spark run uses the same master (``--master``, default
``local[2]``), one session per process started before the clock (its start-up time is
reported apart).

* Vigil, Spark engine, files: ``profile_input(files, engine="spark")``: each task reads one
  Parquet row group with Vigil's own reader and profiles it; the driver merges the profiles.
* Vigil, Spark engine, DataFrame: ``profile_input(spark.read.parquet(...))``: ``mapInArrow``
  over the DataFrame's partitions.
* whylogs (peer, in bench/.peers/venv): ``collect_dataset_profile_view(spark.read.parquet(...))``
  from ``whylogs.api.pyspark.experimental``, on the same master.
* Vigil, local engine: ``profile_input(files)`` in this process, at 1M, 3M and 10M rows (with
  the Spark engine at the same sizes), to show where Spark starts to pay.

Reproduce: ``.venv/bin/python bench/bench_spark.py`` (writes section "spark" of
bench/RESULTS.md; needs ``bash bench/setup_peers.sh`` for the peer; ``--rows N``,
``--sizes 1000000,3000000``, ``--master URL``, ``--no-write``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

COMMAND = ".venv/bin/python bench/bench_spark.py"
PEER_PYTHON = HERE / ".peers" / "venv" / "bin" / "python"
FILE_ROWS = 1_000_000
DATA = HERE / "data" / "spark"


def ensure_files(rows: int) -> list[Path]:
    """Parquet files of FILE_ROWS rows each (the last one shorter), written once."""
    import pyarrow.parquet as pq

    from make_data import ROW_GROUP_ROWS, make_table

    DATA.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(-(-rows // FILE_ROWS)):
        n = min(FILE_ROWS, rows - i * FILE_ROWS)
        path = DATA / f"part-{i:03d}.parquet"
        if not (path.exists() and pq.read_metadata(path).num_rows == n):
            pq.write_table(make_table(n, 100 + i, False), path, row_group_size=ROW_GROUP_ROWS)
        files.append(path)
    return files


def session(master: str) -> tuple[Any, float]:
    """A SparkSession on ``master`` and the seconds it took to start."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    t = time.perf_counter()
    spark = (
        SparkSession.builder.master(master)
        .appName("bench-spark")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(10).count()  # the JVM and one Python worker warmed
    return spark, time.perf_counter() - t


def peer(files: list[str], master: str) -> dict[str, Any]:
    """whylogs' Spark integration over the files (run inside the peers venv)."""
    import whylogs
    from whylogs.api.pyspark.experimental import collect_dataset_profile_view

    spark, start = session(master)
    collect_dataset_profile_view(spark.createDataFrame([(1.0, "a")] * 4, "x double, s string"))
    df = spark.read.parquet(*files)
    t = time.perf_counter()
    view = collect_dataset_profile_view(df)
    seconds = time.perf_counter() - t
    counts = view.get_column("f0").get_metric("counts").to_summary_dict()
    spark.stop()
    return {
        "seconds": seconds,
        "start": start,
        "rows": int(counts["n"]),
        "version": whylogs.__version__,
    }


def timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--sizes", default="1000000,3000000", help="smaller sizes, comma-separated")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--peer-json", help=argparse.SUPPRESS)  # the peer's run, in its venv
    args = ap.parse_args()
    if args.peer_json:
        files = json.loads(args.peer_json)
        print(json.dumps(peer(files, args.master)))
        return

    import pyspark

    from vigil.analysis.profiling import profile_input

    files = ensure_files(args.rows)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s} | {args.rows})
    load_before = os.getloadavg()
    spark, start = session(args.master)
    import pyarrow as pa

    warm = pa.table({"x": [1.0, 2.0, 3.0, 4.0]})
    profile_input(warm, engine="spark")  # every Python worker has imported Vigil
    rows_out: list[tuple[int, float, float]] = []
    for size in sizes:
        subset = [str(p) for p in files[: -(-size // FILE_ROWS)]]
        local_s, (local, _) = timed(lambda s=subset: profile_input(s))
        spark_s, (remote, _) = timed(lambda s=subset: profile_input(s, engine="spark"))
        assert local.item_count == remote.item_count == size
        rows_out.append((size, local_s, spark_s))
        print(f"{size:,} rows: local {local_s:.1f} s, spark {spark_s:.1f} s", flush=True)
    all_files = [str(p) for p in files]
    df_s, (df_profile, _) = timed(lambda: profile_input(spark.read.parquet(*all_files)))
    assert df_profile.item_count == args.rows
    spark.stop()
    print(f"DataFrame (mapInArrow): {df_s:.1f} s", flush=True)
    if not PEER_PYTHON.exists():
        sys.exit(f"{PEER_PYTHON} missing: run bash bench/setup_peers.sh first")
    done = subprocess.run(
        [str(PEER_PYTHON), __file__, "--master", args.master, "--peer-json",
         json.dumps(all_files)],
        capture_output=True, text=True, check=True,
        env={k: v for k, v in os.environ.items() if k != "PYSPARK_PYTHON"},
    )  # fmt: skip
    whylogs_run = json.loads(done.stdout.strip().splitlines()[-1])
    assert whylogs_run["rows"] == args.rows
    print(f"whylogs: {whylogs_run['seconds']:.1f} s", flush=True)
    load_after = os.getloadavg()
    big = rows_out[-1]
    from make_data import ROW_GROUP_ROWS as group_rows

    lines = [
        "## Spark engine: Vigil vs whylogs' Spark integration, and local vs Spark",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, pyspark {pyspark.__version__} (master "
        f"`{args.master}`), whylogs {whylogs_run['version']} (`bench/.peers/venv`). "
        f"Load average {load_before[0]:.1f} before, {load_after[0]:.1f} after. "
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"Data: {args.rows:,} rows of `bench/make_data.py`'s reference table (15 float + 5 "
        f"string columns) in {len(files)} Parquet files of up to {FILE_ROWS:,} rows, row "
        f"groups of {group_rows:,}. Seconds to profile every column (one run each; session "
        f"start-up excluded: Vigil's {start:.1f} s, whylogs' {whylogs_run['start']:.1f} s).",
        "",
        f"Reproduce: `{' '.join([COMMAND, *sys.argv[1:]])}` (after `bash bench/setup_peers.sh`).",
        "",
        f"| {args.rows:,} rows on `{args.master}` | seconds | rows/s |",
        "|---|---:|---:|",
        f"| Vigil Spark engine, files (a task per row group, Vigil's reader) | {big[2]:.1f} | "
        f"{args.rows / big[2]:,.0f} |",
        f"| Vigil Spark engine, DataFrame (`mapInArrow`) | {df_s:.1f} | "
        f"{args.rows / df_s:,.0f} |",
        f"| whylogs `collect_dataset_profile_view` | {whylogs_run['seconds']:.1f} | "
        f"{args.rows / whylogs_run['seconds']:,.0f} |",
        "",
        "| rows | Vigil local engine (s) | Vigil Spark engine, files (s) | Spark / local |",
        "|---:|---:|---:|---:|",
    ]
    for size, local_s, spark_s in rows_out:
        lines.append(f"| {size:,} | {local_s:.1f} | {spark_s:.1f} | {spark_s / local_s:.2f} |")
    lines += [
        "",
        "The local engine profiles in one process (a row group decoded while the previous "
        "one is profiled, two column threads); the Spark engine on `local[2]` runs two "
        "Python workers, plus the JVM, task scheduling and the pickled profiles' trip to the "
        "driver. On one machine the local engine wins at every size (the Spark / local column "
        "stays above 1): the crossover is not a row count but a core count. The Spark engine "
        "pays once its cluster has more cores than one machine can give the local engine: at "
        "the rate per core above, about Spark / local times the machine's cores.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        from results import write_section

        write_section("spark", text)


if __name__ == "__main__":
    main()
