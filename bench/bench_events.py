"""Event ingestion into SQLite with 100 rules matching, through the app and through HTTP.

    PYTHONPATH=src .venv/bin/python bench/bench_events.py [--events 20000] [--batch 500]

Events are SageMaker training-job state changes (run facts, dedup keys, vigil/Platform
figures, the day archive) and custom events. 100 rules are stored; each event is then
handed to them by ``dispatch_pending``, the scheduler's dispatcher (about 1 event in 1000
matches one and starts a Python target run). Measured: ``EventBus.ingest`` + dispatch, in
batches (app); the same through ``POST /api/v1/events`` (PutEvents, ``--batch`` entries a
request, bearer token) to the real app under uvicorn in a thread of this process, + dispatch
(HTTP). The named peer, in the same run: plain ``sqlite3`` ``executemany`` of the same JSON
rows into a table with the same keys (WAL, synchronous=NORMAL as Vigil's), and 100 rules as
plain Python dict comparisons. The section "events" of bench/RESULTS.md is rewritten.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from results import write_section
from vigil.actions.definitions import dispatch_pending, put_rule
from vigil.actions.spec import PythonTarget, Rule
from vigil.app.bootstrap import open_database
from vigil.app.events import EventBus
from vigil.server.app import create_app
from vigil.server.auth import create_token
from vigil.store.code_policy import CodePolicy
from vigil.store.metrics import MetricStore
from vigil.store.settings import Settings

STATUSES = ["InProgress", "Completed", "Failed", "Stopped"]


def make_events(n: int, tag: str) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        job = f"{tag}-job-{i // 4}"
        if i % 5 == 4:
            out.append({
                "version": "0", "id": str(uuid.uuid4()), "detail-type": "Model Promoted",
                "source": "com.acme.ml", "account": "123456789012",
                "time": "2024-05-01T12:00:00Z", "region": "us-east-1", "resources": [],
                "detail": {"model": f"m{i}", "version": i},
            })
            continue
        out.append({
            "version": "0", "id": str(uuid.uuid4()),
            "detail-type": "SageMaker Training Job State Change", "source": "aws.sagemaker",
            "account": "123456789012", "time": "2024-05-01T12:00:00Z", "region": "us-east-1",
            "resources": [f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{job}"],
            "detail": {
                "TrainingJobName": job, "TrainingJobStatus": STATUSES[i % 4],
                "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{job}",
                "SecondaryStatus": STATUSES[i % 4], "LastModifiedTime": str(1714564800000 + i),
                "TrainingStartTime": "1714564800000", "TrainingEndTime": "1714568400000",
                "HyperParameters": {"eta": "0.2", "max_depth": "5"},
            },
        })
    return out


def rules(tag: str) -> list[Rule]:
    """100 rules: 99 that match nothing here, and one on every 1000th job's failure."""
    out = [
        Rule(name=f"r{i}", pattern={"source": ["aws.sagemaker"], "detail": {
            "TrainingJobName": [f"other-{i}"], "TrainingJobStatus": ["Failed"]}},
             targets=[PythonTarget(entry_point="json:dumps")])
        for i in range(99)
    ]  # fmt: skip
    out.append(Rule(name="hit", pattern={"detail": {"TrainingJobName": [
        {"suffix": "000"}], "TrainingJobStatus": ["Failed"]}},
        targets=[PythonTarget(entry_point="json:dumps")]))  # fmt: skip
    return out


def setup(root: Path, tag: str) -> tuple[Settings, Any]:
    settings = Settings(data_dir=root / tag, allow_python=("json",))
    db = open_database(settings)
    for r in rules(tag):
        put_rule(db, r)
    return settings, db


def dispatch_all(settings: Settings, db: Any, n: int) -> int:
    policy = CodePolicy.from_settings(settings)
    return len(dispatch_pending(db, "bench", limit=n + 10, code_policy=policy))


def bench_app(root: Path, n: int, batch: int) -> tuple[float, int, float, float]:
    """The app path's rate, the runs started, and the seconds of ingest and of dispatch."""
    settings, db = setup(root, "app")
    events = make_events(n, "app")
    bus = EventBus(settings, db, MetricStore(db))
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        bus.ingest(events[i:i + batch])
    t1 = time.perf_counter()
    runs = dispatch_all(settings, db, n)
    t2 = time.perf_counter()
    return n / (t2 - t0), runs, t1 - t0, t2 - t1


def bench_http(root: Path, n: int, batch: int) -> tuple[float, int]:
    settings, db = setup(root, "http")
    token = create_token(db, "bench", "ingest")
    app = create_app(settings, db)
    with socketless_port() as port:
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        entries = [
            {"Source": "com.acme.train", "DetailType": e["detail-type"],
             "Detail": json.dumps(e["detail"]), "Resources": e["resources"], "Time": e["time"]}
            for e in make_events(n, "http")
        ]
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60,
                              headers={"Authorization": f"Bearer {token}"})
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            r = client.post("/events", json={"Entries": entries[i:i + batch]})
            r.raise_for_status()
            assert r.json()["FailedEntryCount"] == 0
        runs = dispatch_all(settings, db, n)
        rate = n / (time.perf_counter() - t0)
        server.should_exit = True
        thread.join(10)
    return rate, runs


class socketless_port:
    """A free loopback port."""

    def __enter__(self) -> int:
        import socket  # lazy: only the HTTP run needs a port

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None


def bench_peer(root: Path, n: int, batch: int) -> tuple[float, int]:
    events = make_events(n, "peer")
    conn = sqlite3.connect(root / "peer.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE events (id TEXT PRIMARY KEY, source TEXT, detail_type TEXT, "
                 "time TEXT, resources TEXT, detail TEXT, dedup_key TEXT UNIQUE)")
    plain = [(f"other-{i}", "Failed") for i in range(99)]
    t0 = time.perf_counter()
    hits = 0
    for i in range(0, n, batch):
        chunk = events[i:i + batch]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(e["id"], e["source"], e["detail-type"], e["time"], json.dumps(e["resources"]),
              json.dumps(e["detail"]), e["id"]) for e in chunk],
        )
        conn.execute("COMMIT")
        for e in chunk:
            d = e["detail"]
            for name, status in plain:
                if (e["source"] == "aws.sagemaker" and d.get("TrainingJobName") == name
                        and d.get("TrainingJobStatus") == status):
                    hits += 1
            if str(d.get("TrainingJobName", "")).endswith("000") and d.get(
                    "TrainingJobStatus") == "Failed":
                hits += 1
    return n / (time.perf_counter() - t0), hits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        app_rate, app_runs, ingest_s, dispatch_s = bench_app(root, args.events, args.batch)
        http_rate, http_runs = bench_http(root, args.events, args.batch)
        peer_rate, peer_hits = bench_peer(root, args.events, args.batch)
    text = f"""## events: event ingestion into SQLite with 100 rules

`PYTHONPATH=src .venv/bin/python bench/bench_events.py --events {args.events} --batch \
{args.batch}`

{args.events} events (80% SageMaker training-job state changes: run facts, dedup keys,
vigil/Platform figures, the day archive, fsync'd; 20% custom), stored into SQLite and then
matched by `dispatch_pending` against 100 stored rules (rule runs started: app {app_runs},
HTTP {http_runs}). HTTP: PutEvents of {args.batch} entries a request to the real app under
uvicorn in a thread of the benchmark process, bearer token checked per request.

| path | events/s |
|---|---:|
| `EventBus.ingest` + `dispatch_pending` (app) | {app_rate:,.0f} |
| `POST /api/v1/events` + `dispatch_pending` (HTTP) | {http_rate:,.0f} |
| peer: plain `sqlite3` `executemany` of the same JSON rows + 100 plain-Python rules | \
{peer_rate:,.0f} (matches: {peer_hits}) |

The app path's two halves: `EventBus.ingest` {ingest_s:.2f} s ({args.events / ingest_s:,.0f}
events/s alone), `dispatch_pending` {dispatch_s:.2f} s ({args.events / dispatch_s:,.0f} events/s
alone: reading the events back, marking them dispatched, matching them through the rule index).

Target (issue 11): at least 5,000 events/s into SQLite with rules matching.
"""
    print(text)
    write_section("events", text)


if __name__ == "__main__":
    main()
