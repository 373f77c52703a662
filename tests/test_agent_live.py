"""``vigil agent`` against a real ``vigil server``: nothing lost across a server restart and
an agent restart (the store's contents compared with the spool's batches), ``--once``, bad
input, a refused token; and the server collecting its own figures."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from live_server import LiveServer, free_port, start_vigil_server
from vigil.agent.spool import Spool, SpoolBusyError
from vigil.app.bootstrap import open_database
from vigil.server.auth import create_token
from vigil.store.settings import Settings

VIGIL = [sys.executable, "-m", "vigil.cli"]
Point = tuple[str, str, str, datetime, float]


def _key(dims: dict[str, str]) -> str:
    return json.dumps(dims, sort_keys=True, separators=(",", ":"))


def _stored(db: Path, host: str) -> Counter[Point]:
    """Every datapoint of ``host`` in the server's SQLite file, read with sqlite3 itself."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT s.namespace, s.name, s.dimensions_key, d.timestamp, d.value "
            "FROM datapoints d JOIN metric_series s ON s.id = d.series_id"
        ).fetchall()
    return Counter(
        (ns, name, dims, datetime.fromisoformat(ts).replace(tzinfo=None), value)
        for ns, name, dims, ts, value in rows
        if json.loads(dims).get("Host") == host
    )


def _in_bodies(bodies: list[bytes]) -> Counter[Point]:
    points: Counter[Point] = Counter()
    for raw in bodies:
        body = json.loads(raw)
        for d in body["data"]:
            at = datetime.fromisoformat(d["timestamp"]).replace(tzinfo=None)
            points[(body["namespace"], d["name"], _key(d["dimensions"]), at, d["value"])] += 1
    return points


def _wait(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def _spooled(spool: Path) -> list[Path]:
    return sorted(spool.glob("*.json")) if spool.exists() else []


def _installation(tmp_path: Path) -> tuple[Path, str]:
    data = tmp_path / "data"
    db = open_database(Settings(data_dir=data))
    token = create_token(db, "agent", "ingest")
    db.engine.dispose()
    return data, token


def _agent(port: int, token: str, spool: Path, host: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*VIGIL, "agent", "--server", f"http://127.0.0.1:{port}", "--interval", "0.25",
         "--spool", str(spool), "--host", host, "--no-gpu", "--timeout", "2",
         "--process", f"agent=pid:{os.getpid()}", "--output", "json"],
        env={**os.environ, "VIGIL_TOKEN": token}, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def test_nothing_lost_across_a_server_restart_and_an_agent_restart(tmp_path: Path) -> None:
    data, token = _installation(tmp_path)
    port, spool, host = free_port(), tmp_path / "spool", "agent-live"
    env = {**os.environ, "VIGIL_SELF_METRICS_INTERVAL": "0"}
    db_file = data / "vigil.db"
    server = start_vigil_server(data, port, env)
    first = second = None
    try:
        first = _agent(port, token, spool, host)
        _wait(lambda: len(_stored(db_file, host)) > 0, 15, "the first datapoints")
        server.send_signal(signal.SIGTERM)
        server.wait(15)
        _wait(lambda: len(_spooled(spool)) >= 4, 15, "batches in the spool")
        first.kill()  # the agent dies while the server is away: its spool stays
        first.wait(10)
        left = [p.read_bytes() for p in _spooled(spool)]
        second = _agent(port, token, spool, host)
        _wait(lambda: len(_spooled(spool)) >= len(left) + 2, 15, "the new agent to spool")
        server = start_vigil_server(data, port, env)
        _wait(lambda: not _spooled(spool), 15, "the spool to drain")
        second.send_signal(signal.SIGTERM)
        out, _ = second.communicate(timeout=15)
        tally = json.loads(out)
    finally:
        for proc in (first, second, server):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
    stored = _stored(db_file, host)
    assert not _in_bodies(left) - stored  # every batch the dead agent left is in the store
    assert max(stored.values()) == 1  # and nothing twice
    assert tally["sent"] == tally["collected"] + sum(_in_bodies(left).values())
    assert tally["pending_batches"] == 0 and tally["refused"] == 0
    assert not list((spool / "dead").iterdir())
    names = {name for _, name, _, _, _ in stored}
    assert {
        "CPUUtilization",
        "MemoryUtilization",
        "DiskUtilization",
        "ProcessMemoryResident",
    } <= names


@pytest.fixture
def live(tmp_path: Path) -> LiveServer:
    settings = Settings(data_dir=tmp_path / "data", self_metrics_interval=0)
    with LiveServer(settings, {"ingest": "ingest", "reader": "read"}) as server:
        yield server  # type: ignore[misc]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VIGIL, "agent", *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, **env},
    )  # fmt: skip


def test_once_pushes_to_the_server(live: LiveServer, tmp_path: Path) -> None:
    done = _run("--once", "--no-gpu", "--interval", "0.2", "--spool", str(tmp_path / "s"),
                "--host", "once-host", "--mount", "/", "--output", "json",
                VIGIL_SERVER=live.url, VIGIL_TOKEN=live.tokens["ingest"])  # fmt: skip
    assert done.returncode == 0, done.stderr
    tally = json.loads(done.stdout)
    assert tally["sent"] == tally["collected"] > 0 and tally["pending_batches"] == 0
    with live.client("reader") as client:
        found = client.get("/metrics", params={"namespace": "vigil/Host"}).json()["metrics"]
    assert {"Host": "once-host"} in [m["dimensions"] for m in found if m["name"] == "MemoryUsed"]
    assert {"Host": "once-host", "Mount": "/"} in [m["dimensions"] for m in found]


def test_a_refused_token_buries_the_batches(live: LiveServer, tmp_path: Path) -> None:
    spool = tmp_path / "s"
    done = _run("--once", "--no-gpu", "--interval", "0.1", "--spool", str(spool), "--server",
                live.url, "--token", live.tokens["reader"], "--output", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    tally = json.loads(done.stdout)
    assert tally["refused"] == tally["collected"] > 0 and tally["sent"] == 0
    assert "HTTP 403" in next((spool / "dead").glob("*.reason")).read_text()
    assert "server refused a batch" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server", "vigil:8080"], "server 'vigil:8080': expected an http:// or https:// URL"),
        (["--process", "pid:x"], "--process: process 'pid:x': expected pid:N"),
        (["--mount", "/no/such/mount"], "mount '/no/such/mount': not a directory"),
        (["--interval", "0"], "--interval"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    base = ["--server", "http://127.0.0.1:9", "--token", "t", "--spool", str(tmp_path / "s")]
    done = _run(*base, *args, "--once", "--no-gpu")
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_spool_in_use_is_refused(tmp_path: Path) -> None:
    with Spool(tmp_path / "s"):
        done = _run("--server", "http://127.0.0.1:9", "--token", "t", "--spool",
                    str(tmp_path / "s"), "--once", "--no-gpu")  # fmt: skip
    assert done.returncode == 2 and "another agent is using it" in done.stderr
    with pytest.raises(SpoolBusyError), Spool(tmp_path / "x"), Spool(tmp_path / "x"):
        pass


def _vm_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError


def test_the_server_collects_its_own_figures(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", self_metrics_interval=0.2)
    with LiveServer(settings, {"reader": "read"}, start_scheduler=True) as server:
        client = server.client("reader")

        def rss() -> list[dict[str, object]]:
            return client.get(
                "/metrics/query",
                params={"namespace": "vigil/Process", "name": "ProcessMemoryResident",
                        "dimension": ["Process:vigil-server", f"Host:{socket.gethostname()}"],
                        "period": 60, "statistic": ["Maximum", "SampleCount"]},
            ).json()["datapoints"]  # fmt: skip

        _wait(lambda: bool(rss()), 15, "the server's own figures")
        # the server runs in this test's process: its resident memory is this process's
        assert rss()[-1]["Maximum"] == pytest.approx(_vm_rss(), rel=0.25)
        found = client.get("/metrics", params={"namespace": "vigil/Host"}).json()["metrics"]
        names = {m["name"] for m in found}
        assert {
            "CPUUtilization",
            "MemoryUtilization",
            "DiskUtilization",
            "NetworkReceived",
        } <= names
        client.close()
