"""Live: a real ``vigil server`` with a ``rate(1 minute)`` schedule, drifting captures sent
over HTTP and a loopback webhook. The drift ALARM arrives within a minute and a half, within
15 s of the execution that found it, and no OK goes out before it (issue 9, item 1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np

from conftest import sagemaker_columns
from live_server import Hook, free_port, start_vigil_server
from test_runtime import cli


def _drifting(cols: dict[str, list[float]], n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = []
    for i in range(n):
        pick = rng.integers(0, 100)
        row = ",".join(repr(cols[c][pick] + (2.0 if c == "_c0" else 0.0)) for c in cols)
        lines.append(
            '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
            f'"data":"{row}","encoding":"CSV"}}}},"eventMetadata":{{"eventId":"e{seed}-{i}",'
            f'"inferenceTime":"{now}"}},"eventVersion":"0"}}'
        )
    return ("\n".join(lines) + "\n").encode()


def test_drift_pages_within_90_s_and_no_ok_before_it(tmp_path: Path, sagemaker_dir: Path):
    data = tmp_path / "data"
    token = cli(data, "token", "create", "--name", "live", "--scopes", "admin")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip().splitlines()[-1]
    baseline = data / "baselines" / "sm"
    baseline.mkdir(parents=True)
    shutil.copy(sagemaker_dir / "data_quality_statistics.json", baseline / "statistics.json")
    shutil.copy(sagemaker_dir / "data_quality_constraints.json", baseline / "constraints.json")
    Hook.received = []
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = free_port()
    env = {**os.environ, "VIGIL_OUTBOUND_ALLOW": "127.0.0.1/32"}
    server = start_vigil_server(data, port, env, stderr=subprocess.PIPE)
    stop = threading.Event()
    try:
        url = f"http://127.0.0.1:{port}"
        api = httpx.Client(
            base_url=url + "/api/v1", headers={"Authorization": f"Bearer {secret}"}, timeout=30
        )
        assert api.post("/endpoints", json={"name": "churn"}).status_code == 201
        r = api.post("/baselines", json={"name": "sm", "endpoint": "churn", "path": str(baseline)})
        assert r.status_code == 201, r.text
        assert api.post("/topics", json={"name": "team"}).status_code == 201
        hook = {"url": f"http://127.0.0.1:{receiver.server_port}/hook"}
        r = api.post("/topics/team/subscriptions", json={"protocol": "webhook", "config": hook})
        assert r.status_code == 201, r.text
        cols = sagemaker_columns(sagemaker_dir)

        def send() -> None:
            seed = 0
            while not stop.is_set():
                seed += 1
                api.post(
                    "/endpoints/churn/captures", content=_drifting(cols, 20, seed),
                    headers={"content-type": "application/x-ndjson"},
                )
                stop.wait(1.0)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        time.sleep(2)
        created = time.time()
        r = api.post("/schedules", json={
            "name": "live", "endpoint": "churn", "baseline": "sm",
            "expression": "rate(1 minute)", "config": {"default_alarm_actions": ["team"]},
        })
        assert r.status_code == 201, r.text
        alarm_at = None
        while time.time() < created + 90 and alarm_at is None:
            for at, body in list(Hook.received):
                payload = body.get("payload", {})
                if payload.get("alarm") == "live-drift" and payload.get("state") == "ALARM":
                    alarm_at = at
            time.sleep(0.2)
        assert alarm_at is not None, ("no ALARM within 90 s", Hook.received)
        before = [b["payload"] for at, b in Hook.received if at <= alarm_at]
        assert not [
            p for p in before
            if p.get("state") == "OK" and p.get("alarm") in ("live-drift", "live-violations")
        ], before
        runs = api.get("/executions", params={"schedule": "live"}).json()["executions"]
        found = [e for e in runs if e["status"] == "CompletedWithViolations"]
        assert found, runs
        ended = min(datetime.fromisoformat(e["ended_at"]).timestamp() for e in found)
        assert alarm_at - ended <= 15, (alarm_at - ended, runs)
        # nothing was sent before the first execution completed (no OK at creation)
        first_end = min(
            datetime.fromisoformat(e["ended_at"]).timestamp() for e in runs if e["ended_at"]
        )
        assert [b for at, b in Hook.received if at < first_end] == []
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        receiver.shutdown()
