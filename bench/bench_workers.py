"""API latency while executions run: worker processes vs the scheduler's thread.

    .venv/bin/python bench/bench_workers.py [--rows 20000] [--windows 6] [--seconds 60]

Builds one installation (SQLite, local directory): a baseline profiled by ``vigil baseline``
from 20 numeric features, and an hourly data-quality schedule with ``--windows`` windows due,
each of ``--rows`` capture records. Then, for each mode, starts ``vigil server`` on a fresh
copy of it and, while the scheduler works through the backlog, times sequential requests:
``GET /health`` and ``POST /api/v1/endpoints/{name}/captures`` (a 100-record batch). The
named peer is the previous design of the same server, ``--workers 0``: executions in the
scheduler's thread of the API process. Both run in the same invocation; the section
"workers" of bench/RESULTS.md is rewritten.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import numpy as np

from results import write_section
from vigil.app.bootstrap import open_database
from vigil.store.models import Schedule
from vigil.store.settings import Settings

VIGIL = [sys.executable, "-m", "vigil.cli"]
FEATURES = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(*args: str, data: Path) -> str:
    done = subprocess.run([*VIGIL, *args, "--data-dir", str(data)], capture_output=True,
                          text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"vigil {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def install(work: Path, rows: int, windows: int) -> tuple[Path, datetime]:
    """The installation every mode starts from, and the start of its first window."""
    rng = np.random.default_rng(0)
    train = work / "train.csv"
    np.savetxt(train, rng.normal(size=(5000, FEATURES)), delimiter=",", fmt="%.5f")
    base = work / "baseline"
    done = subprocess.run([*VIGIL, "baseline", str(train), "--output", str(base),
                           "--no-header", "--no-progress"], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"vigil baseline failed: {done.stderr}")
    data = work / "data"
    (work / "vigil.yaml").write_text("""version: 1
endpoints:
  - name: bench
baselines:
  - name: bench-base
    endpoint: bench
    path: baseline
schedules:
  - name: hourly
    endpoint: bench
    baseline: bench-base
    expression: rate(1 hour)
""")
    run("apply", "-f", str(work / "vigil.yaml"), data=data)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(hours=windows)
    for h in range(windows):
        t = first + timedelta(hours=h)
        folder = data / "capture" / "bench" / "AllTraffic" / f"{t:%Y/%m/%d/%H}"
        folder.mkdir(parents=True)
        values = rng.normal(loc=0.3 if h % 2 else 0.0, size=(rows, FEATURES))
        stamp = (t + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        with open(folder / "00-00-000-bench.jsonl", "w") as f:
            for i, row in enumerate(values):
                csv = ",".join(f"{v:.5f}" for v in row)
                f.write('{"captureData":{"endpointInput":{"observedContentType":"text/csv",'
                        f'"mode":"INPUT","data":"{csv}","encoding":"CSV"}}}},"eventMetadata":'
                        f'{{"eventId":"{h}-{i}","inferenceTime":"{stamp}"}},"eventVersion":"0"}}\n')
    return data, first


def set_created(data: Path, when: datetime) -> None:
    db = open_database(Settings(data_dir=data))
    with db.session() as s:
        s.get(Schedule, "hourly").created_at = when
    db.dispose()


def finished(data: Path) -> tuple[int, int]:
    """Executions started, and those ended."""
    with sqlite3.connect(data / "vigil.db") as db:
        total = db.execute("SELECT count(*) FROM executions").fetchone()[0]
        done = db.execute("SELECT count(*) FROM executions WHERE status NOT IN "
                          "('InProgress', 'Pending')").fetchone()[0]
    return int(total), int(done)


def measure(template: Path, first: datetime, windows: int, workers: int, seconds: float,
            work: Path) -> dict[str, float]:
    data = work / f"data-{workers}"
    shutil.copytree(template, data)
    token = run("token", "create", "--name", "bench", "--scopes", "write", data=data)
    set_created(data, first + timedelta(minutes=1))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*VIGIL, "server", "--port", str(port), "--data-dir", str(data),
                               "--workers", str(workers)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL,
                              env={**os.environ, "VIGIL_SELF_METRICS_INTERVAL": "0"})
    batch = {"records": [{"input": list(range(FEATURES)), "content_type": "text/csv"}] * 100}
    health: list[float] = []
    ingest: list[float] = []
    try:
        with httpx.Client(base_url=url, timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/health")
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.1)
            while finished(data)[0] == 0:  # the first execution has started
                time.sleep(0.05)
            end = time.monotonic() + seconds
            while time.monotonic() < end and finished(data)[1] < windows:
                t0 = time.perf_counter()
                client.get("/health").raise_for_status()
                health.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                client.post("/api/v1/endpoints/bench/captures", json=batch).raise_for_status()
                ingest.append((time.perf_counter() - t0) * 1000)
                time.sleep(0.05)
        total, done = finished(data)
    finally:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)

    def pct(values: list[float], q: float) -> float:
        return float(np.percentile(values, q)) if values else float("nan")

    return {"requests": len(health), "done": done, "total": total,
            "health_p50": statistics.median(health), "health_p99": pct(health, 99),
            "health_max": max(health), "ingest_p50": statistics.median(ingest),
            "ingest_p99": pct(ingest, 99), "ingest_max": max(ingest)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vigil-workers-"))
    try:
        template, first = install(work, args.rows, args.windows)
        results = {mode: measure(template, first, args.windows, mode, args.seconds, work)
                   for mode in (1, 0)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    rows = []
    for workers, name in ((1, "vigil server --workers 1 (a worker process)"),
                          (0, "peer: vigil server --workers 0 (the scheduler's thread)")):
        r = results[workers]
        rows.append(f"| {name} | {r['requests']} | {r['done']}/{r['total']} | "
                    f"{r['health_p50']:.1f} | {r['health_p99']:.1f} | {r['health_max']:.0f} | "
                    f"{r['ingest_p50']:.1f} | {r['ingest_p99']:.1f} | {r['ingest_max']:.0f} |")
    one, zero = results[1], results[0]
    text = f"""## API latency while executions run (issue 13)

`vigil server` working through {args.windows} due data-quality windows of {args.rows:,}
capture records ({FEATURES} features) each, while one client times sequential
`GET /health` and `POST /api/v1/endpoints/bench/captures` (100 records) for up to
{args.seconds:.0f} s. Executions finished in that time are shown as done/started.
Reproduce: `.venv/bin/python bench/bench_workers.py --rows {args.rows} --windows {args.windows}
--seconds {args.seconds:.0f}`. {platform.machine()}, {os.cpu_count()} cores, Python
{platform.python_version()}, {datetime.now(timezone.utc):%Y-%m-%d}; load average
{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min) after the run.

| server | request pairs | executions | /health p50 ms | p99 ms | max ms | ingest p50 ms \
| p99 ms | max ms |
|---|--:|--:|--:|--:|--:|--:|--:|--:|
{chr(10).join(rows)}

The peer's p99 is {zero['health_p99'] / one['health_p99']:.1f}x the worker mode's for `/health`
and {zero['ingest_p99'] / one['ingest_p99']:.1f}x for ingestion: in the peer each analysis holds
the API process's GIL that the requests need. A noisy machine moves these figures a lot (the
load average above); the first execution of the worker mode includes starting its process.
"""
    write_section("workers", text)
    print(text)


if __name__ == "__main__":
    main()
