"""How long the dashboard's endpoint page and overview take over a big installation.

Builds one SQLite installation with an endpoint, an hourly data-quality schedule and
``--executions`` executions (one per hour back from now, every third with violations), each
with the figures a data-quality run writes (drift, non-null share and statistic set of five
features, the drifted-feature count), plus serving telemetry filling the metric store up to
``--points`` datapoints (per-minute statistic sets over the last 90 days: invocations, error
counts and a latency histogram of several values per minute). Then times ``GET /`` and
``GET /endpoints/NAME`` for the 24h, 7d, 30d and 90d ranges through the real app (a signed-in
session, TestClient), and prints each page's time and size.

Reproduce: ``.venv/bin/python bench/bench_endpoint_page.py`` (``--points 10000000
--executions 1000``; ``--dir D`` keeps the installation there to rerun without rebuilding).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from vigil.app.bootstrap import open_database  # noqa: E402
from vigil.metrics import contract as mc  # noqa: E402
from vigil.metrics import serving as sv  # noqa: E402
from vigil.metrics.datum import MetricDatum  # noqa: E402
from vigil.server.auth import create_token  # noqa: E402
from vigil.store.metrics import MetricStore  # noqa: E402
from vigil.store.models import Endpoint, Execution, Schedule  # noqa: E402
from vigil.store.settings import Settings  # noqa: E402

NAME = "bench-model"
FEATURES = ["f0", "f1", "f2", "f3", "f4"]
LATENCY_VALUES = 70  # distinct latency values (statistic sets) per minute


def build(data_dir: Path, executions: int, points: int) -> str:
    settings = Settings(data_dir=data_dir)
    db = open_database(settings)
    store = MetricStore(db)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    with db.session() as s:
        s.add(Endpoint(name=NAME))
        s.add(Schedule(name="bench-hourly", endpoint_name=NAME, expression="cron(0 * ? * * *)"))
    with db.session() as s:
        for i in range(executions):
            at = now - timedelta(hours=i)
            bad = i % 3 == 0
            s.add(Execution(schedule_name="bench-hourly", endpoint_name=NAME, scheduled_time=at,
                            window_start=at - timedelta(hours=1), window_end=at,
                            status="CompletedWithViolations" if bad else "Completed",
                            records_read=100, violation_count=2 if bad else 0))  # fmt: skip
    dims = mc.schedule_dimensions(NAME, "bench-hourly")
    data = []
    rng = np.random.default_rng(0)
    for i in range(executions):
        t = now - timedelta(hours=i + 1)
        for f in FEATURES:
            data.append(MetricDatum(mc.DATA_QUALITY_NAMESPACE, mc.feature_baseline_drift(f),
                                    dims, t, float(rng.random() * 0.2)))  # fmt: skip
            data.append(MetricDatum(mc.DATA_QUALITY_NAMESPACE, mc.feature_non_null(f), dims, t,
                                    1.0))  # fmt: skip
            data.append(MetricDatum(mc.DATA_QUALITY_NAMESPACE, mc.feature_data(f), dims, t,
                                    sample_count=100, sum=500.0, minimum=1.0, maximum=9.0))
        data.append(MetricDatum(mc.DATA_QUALITY_NAMESPACE, mc.DRIFTED_FEATURES, dims, t, 0.0))
    store.put(data)
    # serving: one datum per series first (creates them), then raw rows straight into SQLite
    sdims = {"EndpointName": NAME, "VariantName": "AllTraffic"}
    names = [sv.INVOCATIONS, sv.ERRORS_4XX, sv.ERRORS_5XX, sv.MODEL_LATENCY]
    store.put(MetricDatum(sv.NAMESPACE, n, sdims, now - timedelta(days=91), 1.0) for n in names)
    ids = {n: store._series[(sv.NAMESPACE, n, MetricDatum(sv.NAMESPACE, n, sdims, now,
                                                          1.0).dimensions_key)]
           for n in names}  # fmt: skip
    per_minute = 3 + LATENCY_VALUES
    minutes = max(1, (points - len(data)) // per_minute)
    start = now - timedelta(minutes=minutes)
    conn = sqlite3.connect(data_dir / "vigil.db")
    conn.execute("PRAGMA synchronous=OFF")
    lat = np.sort(rng.uniform(500, 5000, LATENCY_VALUES))
    batch: list[tuple[object, ...]] = []
    for m in range(minutes):
        ts = (start + timedelta(minutes=m)).isoformat(" ", "microseconds")[:26]
        batch.append((ids[sv.INVOCATIONS], ts, None, 80.0, 80.0, 1.0, 1.0, "None"))
        batch.append((ids[sv.ERRORS_4XX], ts, None, 80.0, 1.0, 0.0, 1.0, "None"))
        batch.append((ids[sv.ERRORS_5XX], ts, None, 80.0, 0.0, 0.0, 0.0, "None"))
        for v in lat:
            batch.append((ids[sv.MODEL_LATENCY], ts, None, 1.0, float(v), float(v), float(v),
                          "Microseconds"))  # fmt: skip
        if len(batch) >= 200_000:
            conn.executemany("INSERT INTO datapoints (series_id, timestamp, value, sample_count, "
                             "sum, minimum, maximum, unit) VALUES (?,?,?,?,?,?,?,?)", batch)
            conn.commit()
            batch = []
    if batch:
        conn.executemany("INSERT INTO datapoints (series_id, timestamp, value, sample_count, "
                         "sum, minimum, maximum, unit) VALUES (?,?,?,?,?,?,?,?)", batch)
    conn.commit()
    total = conn.execute("SELECT count(*) FROM datapoints").fetchone()[0]
    conn.close()
    token = create_token(db, f"bench-{int(time.time())}", "read")
    print(f"built {executions} executions and {total:,} datapoints in {data_dir}")
    return token


def measure(data_dir: Path, token: str) -> None:
    from fastapi.testclient import TestClient

    from vigil.server.app import create_app

    settings = Settings(data_dir=data_dir)
    app = create_app(settings, open_database(settings), start_scheduler=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        answer = client.post("/signin", data={"token": token}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        for path in ["/", *(f"/endpoints/{NAME}?range={r}" for r in ("24h", "7d", "30d", "90d"))]:
            t = time.perf_counter()
            answer = client.get(path)
            took = time.perf_counter() - t
            assert answer.status_code == 200, answer.text[-2000:]
            print(f"{path:<40} {took * 1000:8.0f} ms  {len(answer.content) / 1024:7.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    if args.dir is not None and (args.dir / "vigil.db").exists():
        db = open_database(Settings(data_dir=args.dir))
        token = create_token(db, f"bench-{int(time.time())}", "read")
        measure(args.dir, token)
        return
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.dir or Path(tmp) / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        measure(data_dir, build(data_dir, args.executions, args.points))


if __name__ == "__main__":
    main()
