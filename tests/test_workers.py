"""Executions off the request path: worker processes in ``vigil server``, and ``vigil worker``.

Real processes on loopback and a real PostgreSQL: a server and two workers run every due
window exactly once; a worker killed with SIGKILL mid-execution takes its worker process with
it and its window is rerun by another worker once the lease runs out (while it lived, its
lease was renewed and nobody took the execution); a worker stopped with SIGTERM hands its
claim back; a slow execution runs in a worker process of the server while ingestion and the
dashboard answer.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from conftest import sagemaker_columns
from live_server import free_port, wait_for_health
from pg_fixture import postgres_url  # noqa: F401
from test_runtime import cli, config_file, write_captures
from vigil.app.bootstrap import open_database
from vigil.app.execution_loop import ExecutionLoop
from vigil.app.pool import ExecutionPool
from vigil.errors import ConfigError
from vigil.monitor.runtime import Runtime
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.models import Execution, Schedule
from vigil.store.settings import Settings

VIGIL = [sys.executable, "-m", "vigil.cli"]


def fresh_database(url: str) -> str:
    """A new, empty database on the session's PostgreSQL cluster (tests share the cluster)."""
    parsed = make_url(url)
    name = f"workers_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                         dbname="postgres", autocommit=True) as conn:  # fmt: skip
        conn.execute(f"CREATE DATABASE {name}")
    return parsed.set(database=name).render_as_string(hide_password=False)


def slow_preprocessor(tmp_path: Path, busy: bool = False) -> tuple[Path, Path]:
    """A preprocessor that holds the first record while ``slow.flag`` exists (sleeping, or
    with ``busy`` matching a backtracking regex, which holds the GIL as a heavy analysis
    does), writing its process id to ``pids.txt``; the flag and the preprocessor's path."""
    flag, pids = tmp_path / "slow.flag", tmp_path / "pids.txt"
    flag.write_text("1")
    wait = 're.match(r"(a+)+$", "a" * 19 + "b")' if busy else "time.sleep(0.05)"
    pre = tmp_path / "slow_pre.py"
    pre.write_text(f"""import os, re, time
def preprocess_handler(inference_record):
    with open({str(pids)!r}, "a") as f:
        f.write(f"{{os.getpid()}}\\n")
    while os.path.exists({str(flag)!r}):
        {wait}
    return [dict(zip([f"_c{{i}}" for i in range(6)],
                     inference_record.endpoint_input.data.split(",")))]
""")
    return flag, pre


def install(
    tmp_path: Path, sagemaker_dir: Path, url: str | None, hours: int, *, config: str = "",
    status: str = "Scheduled",
) -> tuple[Path, Database, datetime]:
    """An installation whose hourly schedule has ``hours`` windows due now, with captures:
    the data directory, its database and the start of the first window."""
    data = tmp_path / "data"
    env = {"VIGIL_DATABASE_URL": url} if url else {}
    done = cli(data, "apply", "-f", str(config_file(tmp_path, sagemaker_dir, status, config)),
               env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(hours=hours)
    write_captures(data / "capture", "churn", sagemaker_columns(sagemaker_dir), first, hours)
    db = open_database(Settings(data_dir=data, database_url=url))
    with db.session() as s:  # created just after the first window began: `hours` fires due
        s.get(Schedule, "hourly").created_at = first + timedelta(minutes=1)
    return data, db, first


class Processes:
    """The processes a test starts, each in a session of its own; all killed at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        out = open(self.tmp_path / f"{name}.out", "wb")  # noqa: SIM115 - the child writes it
        proc = subprocess.Popen([*VIGIL, *args], env={**os.environ, **env}, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        out.close()
        self.started.append(proc)
        return proc

    def said(self, name: str) -> str:
        return (self.tmp_path / f"{name}.out").read_text(errors="replace")

    def worker(self, data: Path, name: str, env: dict[str, str], *extra: str) -> Any:
        return self.start(name, "worker", "--data-dir", str(data), "--id", name,
                          "--workers", "1", *extra, env=env)  # fmt: skip

    def kill_all(self) -> None:
        for proc in self.started:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # the process and its worker processes
            proc.wait(10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.kill_all()


def wait_until(what: str, check: Callable[[], Any], seconds: float = 60, *, said: Any = "") -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen\n{said() if said else ''}"
        time.sleep(0.1)


def executions(db: Database, start: datetime | None = None) -> list[Execution]:
    with db.session() as s:
        rows = list(s.scalars(select(Execution).order_by(Execution.window_start,
                                                         Execution.attempt)))  # fmt: skip
    return [r for r in rows if start is None or r.window_start == start]


def gone(pid: int) -> bool:
    with contextlib.suppress(psutil.NoSuchProcess):
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    return True


def test_worker_refuses_a_bad_database_in_one_line(tmp_path: Path):
    for url, expected in [
        ("garbage://x", "cannot use database URL garbage://x"),
        (f"postgresql+psycopg://vigil:pw@127.0.0.1:{free_port()}/vigil", "cannot open it"),
    ]:
        done = subprocess.run([*VIGIL, "worker", "--data-dir", str(tmp_path), "--database-url",
                               url], capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert "pw" not in done.stderr  # the password is not shown


def test_server_refuses_an_unreachable_database_in_one_line(tmp_path: Path):
    url = f"postgresql+psycopg://vigil:pw@127.0.0.1:{free_port()}/vigil"
    done = subprocess.run([*VIGIL, "server", "--data-dir", str(tmp_path), "--port",
                           str(free_port())], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "VIGIL_DATABASE_URL": url})  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot open it" in lines[0], done.stderr
    assert "pw" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("value", ["two", "-1"])
def test_a_bad_workers_setting_names_the_variable(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("VIGIL_WORKERS", value)
    with pytest.raises(ConfigError, match=rf"\$VIGIL_WORKERS: expected a whole number of 0 or "
                       rf"more, got '{value}'"):  # fmt: skip
        Settings.from_env(tmp_path)
    monkeypatch.setenv("VIGIL_WORKERS", "3")
    assert Settings.from_env(tmp_path).workers == 3


@pytest.mark.slow
def test_one_server_and_two_workers_run_each_window_once(
    tmp_path: Path, sagemaker_dir: Path, postgres_url: str, processes: Processes  # noqa: F811
):
    url = fresh_database(postgres_url)
    hours = 6
    data, db, first = install(tmp_path, sagemaker_dir, url, hours)
    env = {"VIGIL_DATABASE_URL": url, "VIGIL_WORKERS": "1"}
    port = free_port()
    processes.start("server", "server", "--port", str(port), "--data-dir", str(data),
                    env={**env, "VIGIL_WORKER_ID": "server-a"})  # fmt: skip
    for name in ("worker-b", "worker-c"):
        processes.worker(data, name, env)
    rows = wait_until(
        "every window executed",
        lambda: (r := executions(db)) and len(r) >= hours
        and all(x.status not in ("InProgress", "Pending") for x in r) and r,
        120, said=lambda: processes.said("worker-b"),
    )
    expected = [first + timedelta(hours=h) for h in range(hours)]
    assert [(r.window_start, r.window_end) for r in rows] == [
        (t, t + timedelta(hours=1)) for t in expected
    ]  # each window once: none lost, none twice
    assert {r.attempt for r in rows} == {1} and {r.status for r in rows} == {"Completed"}
    assert all(r.records_read == 40 for r in rows)
    assert {r.lease_owner for r in rows} <= {"server-a", "worker-b", "worker-c"}
    wait_for_health(f"http://127.0.0.1:{port}", 5)  # the server answered all along


@pytest.mark.slow
def test_a_killed_worker_s_window_is_rerun_by_another_once_its_lease_runs_out(
    tmp_path: Path, sagemaker_dir: Path, postgres_url: str, processes: Processes  # noqa: F811
):
    flag, pre = slow_preprocessor(tmp_path)
    url = fresh_database(postgres_url)
    data, db, first = install(tmp_path, sagemaker_dir, url, 1,
                              config=f"    config:\n      preprocessor: {pre}\n")  # fmt: skip
    env = {"VIGIL_DATABASE_URL": url, "VIGIL_LEASE_SECONDS": "3",
           "VIGIL_CODE_DIR": str(tmp_path)}  # fmt: skip
    started = {n: processes.worker(data, n, env) for n in ("worker-a", "worker-b")}
    running = wait_until("an execution", lambda: [
        r for r in executions(db, first) if r.status == "InProgress"
    ], said=lambda: processes.said("worker-a"))[0]
    victim = running.lease_owner  # whichever claimed it; the other one is to rescue it
    (rescuer,) = set(started) - {victim}
    wait_until(f"{rescuer} up", lambda: f"vigil worker {rescuer}:" in processes.said(rescuer))
    seen = executions(db, first)[0].lease_expires_at
    # that lease ends while the rescuer looks for expired ones: the victim renews it, keeps it
    wait_until("the lease renewed", lambda: executions(db, first)[0].lease_expires_at > seen)
    while datetime.now(timezone.utc) < seen + timedelta(seconds=1):
        time.sleep(0.1)
    rows = executions(db, first)
    assert len(rows) == 1 and rows[0].status == "InProgress", "taken from a live worker"
    assert rows[0].lease_owner == victim and rows[0].lease_expires_at > seen
    proc = started[victim]
    children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    assert children, "a worker runs its executions in worker processes"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    wait_until("the victim's worker process gone", lambda: all(gone(p) for p in children), 10)
    flag.unlink()
    rows = wait_until("the rerun", lambda: (r := executions(db, first)) and len(r) == 2
                      and r[1].status not in ("InProgress", "Pending") and r, 60,
                      said=lambda: processes.said(rescuer))  # fmt: skip
    assert rows[0].status == "Failed"
    assert rows[0].failure_reason.startswith(f"interrupted: the lease of owner '{victim}' expired")
    assert rows[1].attempt == 2 and rows[1].status == "Completed"
    assert rows[1].lease_owner == rescuer and rows[1].records_read == 40


@pytest.mark.slow
def test_a_worker_stopped_with_sigterm_hands_its_claim_back(
    tmp_path: Path, sagemaker_dir: Path, processes: Processes
):
    flag, pre = slow_preprocessor(tmp_path)
    data, db, first = install(tmp_path, sagemaker_dir, None, 1,
                              config=f"    config:\n      preprocessor: {pre}\n")  # fmt: skip
    env = {"VIGIL_LEASE_SECONDS": "8", "VIGIL_CODE_DIR": str(tmp_path)}
    started = {n: processes.worker(data, n, env, "--grace", "0") for n in ("worker-a", "worker-b")}
    running = wait_until("an execution", lambda: [
        r for r in executions(db, first) if r.status == "InProgress"
    ], said=lambda: processes.said("worker-a"))[0]
    stopped = running.lease_owner
    (other,) = set(started) - {stopped}
    wait_until(f"{other} up", lambda: f"vigil worker {other}:" in processes.said(other))
    held = executions(db, first)[0].lease_expires_at
    started[stopped].send_signal(signal.SIGTERM)
    assert started[stopped].wait(30) == 0
    assert "handed back 1 unfinished execution(s)" in processes.said(stopped)
    flag.unlink()
    rows = wait_until("the rerun", lambda: (r := executions(db, first)) and len(r) == 2
                      and r[1].status not in ("InProgress", "Pending") and r, 60,
                      said=lambda: processes.said(other))  # fmt: skip
    reason = rows[0].failure_reason
    assert rows[0].status == "Failed"
    assert reason.startswith(f"interrupted: the lease of owner '{stopped}' expired at ")
    released = datetime.fromisoformat(reason.split("expired at ")[1].split(";")[0])
    assert released < held  # handed back, not left to run out
    assert rows[1].status == "Completed" and rows[1].lease_owner == other


@pytest.mark.slow
def test_a_slow_execution_runs_in_a_worker_process_while_the_api_answers(
    tmp_path: Path, sagemaker_dir: Path, processes: Processes
):
    flag, pre = slow_preprocessor(tmp_path, busy=True)
    data, db, first = install(tmp_path, sagemaker_dir, None, 1, status="Paused",
                              config=f"    config:\n      preprocessor: {pre}\n")  # fmt: skip
    token = cli(data, "token", "create", "--name", "t", "--scopes", "write").stdout.strip()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # an API-only server (no scheduled windows): a run asked for still goes to its worker process
    server = processes.start("server", "server", "--port", str(port), "--data-dir", str(data),
                             "--no-executions",
                             env={"VIGIL_WORKERS": "1", "VIGIL_CODE_DIR": str(tmp_path)})
    wait_for_health(url, 60, lambda: server.poll() is None)
    headers = {"Authorization": f"Bearer {token}"}
    answer: dict[str, httpx.Response] = {}

    def run_now() -> None:
        window = {"window_start": first.isoformat(),
                  "window_end": (first + timedelta(hours=1)).isoformat()}  # fmt: skip
        answer["run"] = httpx.post(url + "/api/v1/schedules/hourly/run", headers=headers,
                                   json=window, timeout=120)  # fmt: skip

    run = threading.Thread(target=run_now, daemon=True)
    run.start()
    pids = tmp_path / "pids.txt"
    wait_until("the execution running", lambda: pids.exists() and pids.read_text().strip()
               and executions(db, first) and executions(db, first)[0].status == "InProgress",
               said=lambda: processes.said("server"))  # fmt: skip
    # while it runs (holding its interpreter's GIL): ingestion and a dashboard page answer
    record = {"input": [1, 2, 3], "content_type": "text/csv",
              "inference_time": datetime.now(timezone.utc).isoformat()}  # fmt: skip
    ingested = httpx.post(url + "/api/v1/endpoints/churn/captures", headers=headers,
                          json={"records": [record]}, timeout=60)  # fmt: skip
    assert ingested.status_code == 200, ingested.text
    with httpx.Client(base_url=url, timeout=60) as browser:
        assert browser.post("/signin", data={"token": token}).status_code in (200, 303)
        page = browser.get("/endpoints/churn")
    assert page.status_code == 200 and "churn" in page.text
    assert executions(db, first)[0].status == "InProgress"  # answered while it ran
    runner = int(pids.read_text().split()[0])
    assert runner != server.pid and psutil.Process(runner).ppid() == server.pid
    flag.unlink()
    run.join(120)
    assert answer["run"].status_code == 200, answer["run"].text
    assert answer["run"].json()["status"] == "Completed"


@pytest.mark.slow
def test_a_worker_process_that_dies_hands_its_claim_back_and_a_new_one_reruns_it(
    tmp_path: Path, sagemaker_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    flag, pre = slow_preprocessor(tmp_path)
    data, db, first = install(tmp_path, sagemaker_dir, None, 1,
                              config=f"    config:\n      preprocessor: {pre}\n")  # fmt: skip
    monkeypatch.setenv("VIGIL_CODE_DIR", str(tmp_path))
    settings = Settings.from_env(data)  # a lease of 300 s: only a hand-back reruns it soon
    rt = Runtime(settings=settings, db=db, metrics=MetricStore(db), owner="owner-a")
    pool = ExecutionPool(settings, db, "owner-a", 1)
    loop = ExecutionLoop(rt, pool, recover_every=0.1)
    pids = tmp_path / "pids.txt"
    try:
        loop.start()
        assert loop.step() == 1 and loop.step() == 0  # one process: one execution at a time
        wait_until("the execution running", lambda: pids.exists() and pids.read_text().strip())
        first_pid = int(pids.read_text().split()[0])
        assert first_pid != os.getpid()
        os.kill(first_pid, signal.SIGKILL)  # as the OOM killer would
        flag.unlink()

        def rerun_done() -> Any:
            loop.step()
            rows = executions(db, first)
            return len(rows) == 2 and rows[1].status not in ("InProgress", "Pending") and rows

        rows = wait_until("the rerun", rerun_done, 60)
    finally:
        pool.stop(0)
    assert rows[0].status == "Failed" and rows[0].failure_reason.startswith("interrupted")
    assert rows[1].attempt == 2 and rows[1].status == "Completed" and rows[1].records_read == 40
    assert set(map(int, pids.read_text().split())) - {first_pid}, "run by a new process"
