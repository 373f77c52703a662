"""Run one peer task and print one JSON line: task, seconds, peak RSS, library version, summary.

Runs in the peers' venv (bench/.peers/venv), one task per process so peak memory is the task's:

    peers.py whylogs_profile  REFERENCE.parquet          # why.log(pandas frame)
    peers.py evidently_drift  REFERENCE.parquet WINDOW.parquet   # Evidently DataDriftPreset
    peers.py duckdb_stats     FILE.parquet               # one SQL summary query

``seconds`` includes importing the library and reading the Parquet file(s), but not the
interpreter's own start-up (bench/run_bench.py times the whole process as well).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

T0 = time.perf_counter()  # the peer libraries are imported (and timed) inside the tasks

# No telemetry calls from the peers while they are being timed.
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("ITERATIVE_DO_NOT_TRACK", "1")


def whylogs_profile(reference: str) -> tuple[str, dict[str, Any]]:
    import pandas as pd
    import whylogs as why

    df = pd.read_parquet(reference)
    view = why.log(df).view()
    return why.__version__, {"rows": len(df), "columns": len(view.get_columns())}


def evidently_drift(reference: str, window: str) -> tuple[str, dict[str, Any]]:
    import evidently
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    ref, cur = pd.read_parquet(reference), pd.read_parquet(window)
    snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
    metrics = snapshot.dict()["metrics"]
    drifted = metrics[0]["value"]  # DriftedColumnsCount: {"count": ..., "share": ...}
    return evidently.__version__, {"metrics": len(metrics), "drifted_columns": drifted}


def duckdb_stats(path: str) -> tuple[str, dict[str, Any]]:
    import duckdb

    con = duckdb.connect()
    schema = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
    parts: list[str] = []
    for name, dtype, *_ in schema:
        c = f'"{name}"'
        parts += [f"count({c})", f"count(*) - count({c})"]
        if dtype in ("VARCHAR", "BOOLEAN"):
            parts.append(f"approx_count_distinct({c})")
        else:
            parts += [f"avg({c})", f"stddev_pop({c})", f"min({c})", f"max({c})"]
            parts.append(f"approx_quantile({c}, [0.25, 0.5, 0.75])")
    sql = f"SELECT {', '.join(parts)} FROM read_parquet(?)"
    row = con.execute(sql, [path]).fetchone()
    assert row is not None
    return duckdb.__version__, {"columns": len(schema), "values": len(row), "rows": row[0]}


TASKS: dict[str, Callable[..., tuple[str, dict[str, Any]]]] = {
    "whylogs_profile": whylogs_profile,
    "evidently_drift": evidently_drift,
    "duckdb_stats": duckdb_stats,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        sys.exit(f"usage: peers.py {{{','.join(TASKS)}}} PARQUET...")
    task = sys.argv[1]
    version, summary = TASKS[task](*sys.argv[2:])
    seconds = time.perf_counter() - T0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    out = {
        "task": task,
        "version": version,
        "seconds": round(seconds, 3),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "summary": summary,
    }
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
