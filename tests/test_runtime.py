"""The runtime: apply/export, the scheduler's catch-up, backfill, exactly-once, crash reruns."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from conftest import sagemaker_columns
from live_server import free_port, start_vigil_server
from pg_fixture import postgres_url  # noqa: F401
from vigil.app.bootstrap import open_database
from vigil.app.config import load_config
from vigil.app.scheduler import tick
from vigil.monitor.runtime import Runtime
from vigil.store.metrics import MetricStore
from vigil.store.models import Execution, Schedule
from vigil.store.settings import Settings

VIGIL = [sys.executable, "-m", "vigil.cli"]
T0 = datetime(2024, 5, 1, 0, tzinfo=timezone.utc)
ISO = "%Y-%m-%dT%H:%M:%SZ"


def cli(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*VIGIL, *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def write_captures(
    root: Path,
    endpoint: str,
    cols: dict[str, list[float]],
    start: datetime,
    hours: int,
    per_hour: int = 40,
    seed: int = 0,
) -> None:
    """SageMaker capture files, one per hour, rows drawn from the baseline's own rows."""
    rng = np.random.default_rng(seed)
    for h in range(hours):
        t = start + timedelta(hours=h)
        folder = root / endpoint / "AllTraffic" / f"{t:%Y/%m/%d/%H}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = []
        for i in range(per_hour):
            pick = rng.integers(0, 100)
            row = ",".join(repr(cols[c][pick]) for c in cols)
            ts = (t + timedelta(seconds=60 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            lines.append(
                '{"captureData":{"endpointInput":{"observedContentType":"text/csv",'
                f'"mode":"INPUT","data":"{row}","encoding":"CSV"}}}},"eventMetadata":'
                f'{{"eventId":"{h}-{i}","inferenceTime":"{ts}"}},"eventVersion":"0"}}'
            )
        (folder / "00-00-000-x.jsonl").write_text("\n".join(lines) + "\n")


def config_file(
    tmp_path: Path, sagemaker_dir: Path, status: str = "Scheduled", config: str = ""
) -> Path:
    base = tmp_path / "baseline"
    if not base.exists():
        base.mkdir()
        shutil.copy(sagemaker_dir / "data_quality_statistics.json", base / "statistics.json")
        shutil.copy(sagemaker_dir / "data_quality_constraints.json", base / "constraints.json")
    path = tmp_path / "vigil.yaml"
    path.write_text(f"""version: 1
endpoints:
  - name: churn
baselines:
  - name: churn-base
    endpoint: churn
    path: baseline
schedules:
  - name: hourly
    endpoint: churn
    baseline: churn-base
    expression: rate(1 hour)
    status: {status}
{config}""")
    return path


def test_apply_is_idempotent_and_export_round_trips(tmp_path: Path, sagemaker_dir: Path):
    data = tmp_path / "data"
    path = config_file(tmp_path, sagemaker_dir)
    first = cli(data, "apply", "-f", str(path))
    assert first.returncode == 0, first.stderr
    assert "created 3, updated 0, unchanged 0" in first.stdout
    again = cli(data, "apply", "-f", str(path))
    assert "created 0, updated 0, unchanged 3" in again.stdout
    paused = config_file(tmp_path, sagemaker_dir, status="Paused")
    changed = cli(data, "apply", "-f", str(paused))
    assert "~ schedule hourly (status)" in changed.stdout
    assert "created 0, updated 1, unchanged 2" in changed.stdout
    exported = cli(data, "export", "-o", str(tmp_path / "out.yaml"))
    assert exported.returncode == 0, exported.stderr
    assert load_config(tmp_path / "out.yaml") == load_config(paused).resolve_paths(tmp_path)
    # a file with an error names its line
    bad = tmp_path / "bad.yaml"
    bad.write_text(path.read_text().replace("rate(1 hour)", "rate(1 hours)"))
    failed = cli(data, "apply", "-f", str(bad))
    assert failed.returncode == 2
    assert "bad.yaml:12: schedules[0].expression" in failed.stderr


def _runtime(data: Path, url: str | None = None, owner: str = "w1") -> Runtime:
    settings = Settings(data_dir=data, database_url=url)
    db = open_database(settings)
    return Runtime(settings=settings, db=db, metrics=MetricStore(db), owner=owner)


def _setup(tmp_path: Path, sagemaker_dir: Path, data: Path, url: str | None = None) -> None:
    env = {"VIGIL_DATABASE_URL": url} if url else {}
    done = cli(data, "apply", "-f", str(config_file(tmp_path, sagemaker_dir)), env=env)
    assert done.returncode == 0, done.stderr
    write_captures(data / "capture", "churn", sagemaker_columns(sagemaker_dir), T0, 6)


def _created_at(rt: Runtime, when: datetime) -> None:
    with rt.db.session() as s:
        s.get(Schedule, "hourly").created_at = when


def test_scheduler_catches_up_missed_windows_once(tmp_path: Path, sagemaker_dir: Path):
    data = tmp_path / "data"
    _setup(tmp_path, sagemaker_dir, data)
    rt = _runtime(data)
    _created_at(rt, T0)  # the server was "down" since then
    assert tick(rt, now=T0 + timedelta(hours=6, minutes=5)) == 6
    assert tick(rt, now=T0 + timedelta(hours=6, minutes=6)) == 0
    with rt.db.session() as s:
        rows = list(s.scalars(select(Execution).order_by(Execution.window_start)))
    assert [r.window_start for r in rows] == [T0 + timedelta(hours=h) for h in range(6)]
    assert {r.status for r in rows} == {"Completed"}
    assert all(r.records_read == 40 for r in rows)


def test_backfill_and_run_commands(tmp_path: Path, sagemaker_dir: Path):
    data = tmp_path / "data"
    _setup(tmp_path, sagemaker_dir, data)
    done = cli(
        data,
        "monitor",
        "backfill",
        "hourly",
        "--start",
        "2024-05-01T00:00:00Z",
        "--end",
        "2024-05-01T03:00:00Z",
    )
    assert done.returncode == 0, done.stderr
    assert "3 Completed" in done.stdout

    def run(day: int, hour: int) -> Any:
        start = datetime(2024, 5, day, hour, tzinfo=timezone.utc)
        return cli(
            data,
            "monitor",
            "run",
            "hourly",
            "--window-start",
            start.isoformat(),
            "--window-end",
            (start + timedelta(hours=1)).isoformat(),
        )

    one = run(1, 4)
    assert one.returncode == 0 and "Completed" in one.stdout
    dup = run(1, 4)
    assert dup.returncode == 2 and "exists already" in dup.stderr
    empty = run(2, 4)
    assert empty.returncode == 1 and "Failed" in empty.stdout
    assert "last record seen at 2024-05-01T05:39:00Z" in empty.stdout  # 40 records, 1 a minute


@pytest.mark.slow
def test_several_servers_on_one_postgresql_run_each_window_once(
    tmp_path: Path,
    sagemaker_dir: Path,
    postgres_url: str,  # noqa: F811
):
    data = tmp_path / "data"
    _setup(tmp_path, sagemaker_dir, data, postgres_url)
    workers = [_runtime(data, postgres_url, owner=f"server-{i}") for i in range(3)]
    _created_at(workers[0], T0)
    now = T0 + timedelta(hours=6, minutes=1)
    started: list[int] = []
    threads = [
        threading.Thread(target=lambda w=w: started.append(tick(w, now=now))) for w in workers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(started) == 6
    with workers[0].db.session() as s:
        rows = list(s.scalars(select(Execution)))
    assert len(rows) == 6 and len({(r.window_start, r.window_end) for r in rows}) == 6
    assert {r.status for r in rows} == {"Completed"}


def _capture_body(event_ids: list[str]) -> str:
    """SageMaker capture lines for ``event_ids``, filed in the hour 2024-05-01 05:00."""
    return "\n".join(
        '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
        f'"data":"1,2,3","encoding":"CSV"}}}},"eventMetadata":{{"eventId":"{e}",'
        '"inferenceTime":"2024-05-01T05:00:00Z"},"eventVersion":"0"}'
        for e in event_ids
    )


def _published_events(root: Path) -> dict[str, int]:
    """eventId -> times found in published capture files (each line must be whole JSON)."""
    import orjson

    seen: dict[str, int] = {}
    for path in root.rglob("*.jsonl"):
        for line in path.read_bytes().splitlines():
            event = orjson.loads(line)["eventMetadata"]["eventId"]
            seen[event] = seen.get(event, 0) + 1
    return seen


@pytest.mark.slow
def test_server_killed_during_an_execution_marks_it_failed_and_reruns_it(
    tmp_path: Path, sagemaker_dir: Path
):
    """kill -9 of a server running an execution while captures stream in over HTTP: the
    execution is rerun, and every capture record the server acknowledged is in a published
    file (a crashed group's in-progress file is published by the next server)."""
    data = tmp_path / "data"
    slow = tmp_path / "slow.flag"
    slow.write_text("1")
    pre = tmp_path / "slow_pre.py"
    pre.write_text(f"""import os, time
def preprocess_handler(inference_record):
    if os.path.exists({str(slow)!r}):
        time.sleep(0.5)
    return [dict(zip([f"_c{{i}}" for i in range(6)],
                     inference_record.endpoint_input.data.split(",")))]
""")
    extra = f"    config:\n      preprocessor: {pre}\n"
    done = cli(data, "apply", "-f", str(config_file(tmp_path, sagemaker_dir, config=extra)))
    assert done.returncode == 0, done.stderr
    write_captures(data / "capture", "churn", sagemaker_columns(sagemaker_dir), T0, 1)
    token = cli(data, "token", "create", "--name", "t", "--scopes", "write").stdout.strip()
    # the schedule's preprocessor lies in tmp_path: the operator lets the server load it
    env = {**os.environ, "VIGIL_WORKER_ID": "server-a", "VIGIL_CODE_DIR": str(tmp_path)}

    def start() -> tuple[subprocess.Popen, str]:
        port = free_port()
        return start_vigil_server(data, port, env), f"http://127.0.0.1:{port}"

    proc, url = start()
    headers = {"Authorization": f"Bearer {token}"}
    api = httpx.Client(base_url=url + "/api/v1", headers=headers, timeout=10)
    assert api.post("/endpoints", json={"name": "live"}).status_code == 201
    acked: list[str] = []
    stop_feeding = threading.Event()

    def feed(k: int) -> None:  # captures over HTTP, until the server dies
        with httpx.Client(base_url=url + "/api/v1", headers=headers, timeout=10) as c:
            for n in range(1_000_000):
                if stop_feeding.is_set():
                    return
                ids = [f"k{k}-{n}-{i}" for i in range(20)]
                try:
                    r = c.post("/endpoints/live/captures", content=_capture_body(ids),
                               headers={"content-type": "application/x-ndjson"})
                except httpx.HTTPError:
                    return  # the server died mid-request: not acknowledged
                if r.status_code == 200:
                    acked.extend(ids)

    feeders = [threading.Thread(target=feed, args=(k,), daemon=True) for k in range(4)]
    for f in feeders:
        f.start()

    def run_now() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies mid-request
            httpx.post(
                url + "/api/v1/schedules/hourly/run",
                headers=headers,
                timeout=60,
                json={
                    "window_start": T0.isoformat(),
                    "window_end": (T0 + timedelta(hours=1)).isoformat(),
                },
            )

    run = threading.Thread(target=run_now, daemon=True)
    run.start()
    rt = _runtime(data, owner="observer")
    deadline = time.monotonic() + 20
    while True:
        with rt.db.session() as s:
            rows = list(s.scalars(select(Execution)))
        if rows and rows[0].status == "InProgress" and len(acked) >= 200:
            break
        assert time.monotonic() < deadline, "the execution never started"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    stop_feeding.set()
    for f in feeders:
        f.join(10)
    api.close()
    live = data / "capture" / "live" / "AllTraffic"
    found = _published_events(live)
    assert [e for e in acked if found.get(e) != 1] == [], "acknowledged but not stored once"
    slow.unlink()
    proc, url = start()
    try:
        # the first capture for the endpoint has the new server publish what the dead one
        # left in progress (whole lines only): no hidden file stays, nothing acked is lost
        with httpx.Client(base_url=url + "/api/v1", headers=headers, timeout=10) as c:
            r = c.post("/endpoints/live/captures", content=_capture_body(["after"]),
                       headers={"content-type": "application/x-ndjson"})
            assert r.status_code == 200, r.text
        # the only hidden file left is the live server's spare for its next group there:
        # empty and locked by it (the dead server's were published or, empty, removed)
        left = [p for p in live.rglob(".*") if p.is_file()]
        assert all(p.stat().st_size == 0 and _locked_by_another(p) for p in left), left
        assert len(left) <= 1
        found = _published_events(live)
        assert found["after"] == 1 and all(found.get(e) == 1 for e in acked)
        deadline = time.monotonic() + 30
        while True:
            with rt.db.session() as s:
                rows = list(s.scalars(select(Execution).order_by(Execution.attempt)))
            if len(rows) == 2 and rows[1].status not in ("InProgress", "Pending"):
                break
            assert time.monotonic() < deadline, f"no rerun: {[(r.attempt, r.status) for r in rows]}"
            time.sleep(0.1)
        assert rows[0].status == "Failed" and rows[0].failure_reason.startswith("interrupted")
        assert rows[1].attempt == 2 and rows[1].status == "Completed"
        assert rows[1].window_start == rows[0].window_start
    finally:
        proc.terminate()
        proc.wait(10)


def test_writer_to_window_to_metrics_round_trip(tmp_path: Path):
    """What the capture SDK writes, the window reader reads back, and the writer's own
    counters (the dropped-record count among them) land in the metric store."""
    from vigil import CaptureWriter, read_window

    root = tmp_path / "capture"
    clock = {"t": T0.timestamp()}
    with CaptureWriter("ep", destination=root, clock=lambda: clock["t"]) as writer:
        for i in range(120):
            clock["t"] = (T0 + timedelta(seconds=30 * i)).timestamp()
            writer.capture(
                f"{i},{i * 0.5}", f"{i % 2}", content_type="text/csv", inference_id=f"id-{i}"
            )
        data = writer.metric_data()
    window = read_window(root, "ep", T0, T0 + timedelta(hours=1), content="both")
    assert window.table.num_rows == 120 and window.bad.count == 0
    assert window.table.column("_c0").to_pylist() == [str(i) for i in range(120)]
    assert window.inference_ids.to_pylist()[:2] == ["id-0", "id-1"]
    rt = _runtime(tmp_path / "data")
    rt.metrics.put(data)
    rows = rt.metrics.query(
        "vigil/Capture",
        "capture_records_dropped",
        {"Endpoint": "ep", "Variant": "AllTraffic"},
        T0,
        datetime.now(timezone.utc) + timedelta(minutes=1),
        86400 * 30,
        ["Maximum"],
    )
    assert rows and rows[-1]["Maximum"] == 0.0


def test_metric_retention(tmp_path: Path):
    from vigil.app.scheduler import apply_retention
    from vigil.metrics.datum import MetricDatum

    rt = _runtime(tmp_path / "data")
    rt.settings.metric_retention_days = 30
    now = datetime(2024, 6, 1, tzinfo=timezone.utc)
    rt.metrics.put(
        [MetricDatum("ns", "m", {}, now - timedelta(days=d), 1.0) for d in (1, 10, 29, 31, 60)]
    )
    assert apply_retention(rt, now=now) == 2
    rows = rt.metrics.query(
        "ns", "m", {}, now - timedelta(days=90), now, 86400 * 90, ["SampleCount"]
    )
    assert sum(r["SampleCount"] for r in rows) == 3


def test_prediction_drift_without_labels(tmp_path: Path):
    """A data-quality schedule over the outputs (config content: output) compares the
    window's predictions with the training predictions: drift shows before any label."""
    rng = np.random.default_rng(4)
    data = tmp_path / "data"
    train = tmp_path / "train-predictions.csv"
    train.write_text("_o0\n" + "\n".join(f"{v:.4f}" for v in rng.beta(2, 5, 2000)) + "\n")
    (tmp_path / "vigil.yaml").write_text(f"""version: 1
endpoints:
  - name: scorer
baselines:
  - name: scores
    endpoint: scorer
    path: {train}
schedules:
  - name: prediction-drift
    endpoint: scorer
    baseline: scores
    expression: rate(1 hour)
    config:
      content: output
""")
    assert cli(data, "apply", "-f", str(tmp_path / "vigil.yaml")).returncode == 0
    for h, (a, b) in enumerate([(2, 5), (5, 2)]):  # the second hour's scores move up
        t = T0 + timedelta(hours=h)
        folder = data / "capture" / "scorer" / "AllTraffic" / f"{t:%Y/%m/%d/%H}"
        folder.mkdir(parents=True)
        folder.joinpath("00-00-000-a.jsonl").write_text(
            "\n".join(
                '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
                '"data":"1,2","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv",'
                f'"mode":"OUTPUT","data":"{v:.4f}","encoding":"CSV"}}}},"eventMetadata":'
                f'{{"eventId":"{h}-{i}","inferenceTime":"{t + timedelta(seconds=9 * i):{ISO}}"}},'
                '"eventVersion":"0"}'
                for i, v in enumerate(rng.beta(a, b, 300))
            )
            + "\n"
        )
    done = cli(
        data,
        "monitor",
        "backfill",
        "prediction-drift",
        "--start",
        "2024-05-01T00:00:00Z",
        "--end",
        "2024-05-01T02:00:00Z",
    )
    assert done.returncode == 0, done.stderr
    assert "1 Completed, 1 CompletedWithViolations" in done.stdout


def _locked_by_another(path: Path) -> bool:
    """Whether another process holds ``path``'s ``flock`` (a live writer's file)."""
    import fcntl

    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
