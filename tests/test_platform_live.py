"""Live, real clock: a real ``vigil server`` process, configured by ``vigil apply``, watched
as a platform team would (issue 11): ``vigil run`` wraps a failing training program; a CI
system posts PutEvents with one bad entry; a model service publishes serving telemetry over
HTTP; ``vigil agent --once`` reports the host.
A loopback webhook receives the failed job (severity high, from the platform block) and the
deployment rule's notification (severity critical, its topic target); ``GET /metrics``
shows the run; a read token cannot post events; no token gets 401."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx

from live_server import VIGIL, Hook, free_port, start_vigil_server
from test_runtime import cli
from vigil.capture import HttpSink, ServingTelemetry, TelemetryMiddleware

CONFIG = """
endpoints: [{{name: churn}}]
topics:
  - name: oncall
    subscriptions:
      - {{id: hook, protocol: webhook, config: {{url: "{hook}"}}}}
platform: {{failure_topics: [oncall]}}
rules:
  - name: deployments
    severity: critical
    pattern: {{source: [ci.deploy], detail: {{environment: [prod]}}}}
    targets:
      - topic: oncall
        subject: deployment to prod
        input_transformer:
          input_paths_map: {{model: $.detail.model, version: $.detail.version}}
          input_template: "model <model> version <version> went to prod"
"""


def _wait(predicate: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {Hook.received}")


def test_platform_watched_live(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Hook.received = []
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    config = tmp_path / "vigil.yaml"
    config.write_text(CONFIG.format(hook=f"http://127.0.0.1:{receiver.server_port}/hook"))
    applied = cli(data, "apply", "-f", str(config))
    assert applied.returncode == 0, applied.stderr
    tokens = {}
    for name, scopes in (("ci", "ingest"), ("trainer", "read,ingest"), ("viewer", "read")):
        made = cli(data, "token", "create", "--name", name, "--scopes", scopes)
        assert made.returncode == 0, made.stderr
        tokens[name] = made.stdout.strip().splitlines()[-1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "VIGIL_OUTBOUND_ALLOW": "127.0.0.1/32",
           "VIGIL_SELF_METRICS_INTERVAL": "0"}
    server = start_vigil_server(data, port, env, stderr=subprocess.PIPE)
    try:
        # 1. a training program that fails, wrapped by `vigil run`
        program = ("import sys\nfor i, v in enumerate([0.9, 0.5, 0.31]):\n"
                   "    print(f'epoch {i} val_loss: {v}', flush=True)\nsys.exit(3)\n")
        run = subprocess.run(
            [*VIGIL, "run", "--job", "churn-train", "--metric-definition",
             "validation:loss=val_loss: ([-+0-9.eE]+)", "--server", url,
             "--token", tokens["trainer"], "--", sys.executable, "-c", program],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert run.returncode == 3, run.stderr
        assert "epoch 2 val_loss: 0.31" in run.stdout  # streamed through unchanged
        assert "validation:loss: matched 3 lines, 0 unparsable" in run.stderr
        ci = httpx.Client(base_url=url + "/api/v1", timeout=30,
                          headers={"Authorization": f"Bearer {tokens['ci']}"})
        viewer = httpx.Client(base_url=url + "/api/v1", timeout=30,
                              headers={"Authorization": f"Bearer {tokens['viewer']}"})
        curve = viewer.get("/jobs/churn-train/metrics/validation:loss").json()["points"]
        assert [(p["step"], p["value"]) for p in curve] == [(0, 0.9), (1, 0.5), (2, 0.31)]

        # 2. PutEvents from CI: the bad entry fails alone
        deploy = {"model": "churn", "version": 7, "environment": "prod"}
        answer = ci.post("/events", json={"Entries": [
            {"Source": "ci.deploy", "DetailType": "Deployment", "Detail": json.dumps(deploy)},
            {"Source": "ci.deploy", "DetailType": "Deployment", "Detail": "{not json"},
        ]}).json()  # fmt: skip
        assert answer["FailedEntryCount"] == 1
        assert "EventId" in answer["Entries"][0]
        assert answer["Entries"][1]["ErrorCode"] == "InvalidArgument"
        assert "Detail" in answer["Entries"][1]["ErrorMessage"]
        assert viewer.post("/events", json={"Entries": []}).status_code == 403
        assert httpx.post(url + "/api/v1/events", json={"Entries": []}).status_code == 401

        # 3. both notifications arrive, each with its severity
        _wait(lambda: len(Hook.received) >= 2)
        by = {b["subject"]: b for _, b in Hook.received}
        failed = by["[HIGH] FAILED: training job churn-train"]
        assert "exit status 3" in failed["message"] and failed["attributes"]["severity"] == "high"
        rule = by["[CRITICAL] deployment to prod"]
        assert rule["message"] == "model churn version 7 went to prod"

        # 4. serving telemetry from a model service, over HTTP with the ingest token
        telemetry = ServingTelemetry("churn", sink=HttpSink(url, token=tokens["ci"]))

        async def model(scope: dict, receive: object, send: object) -> None:
            status = 500 if scope["path"].endswith("/boom") else 200
            await send({"type": "http.response.start", "status": status,  # type: ignore
                        "headers": []})
            await send({"type": "http.response.body", "body": b"0.5"})  # type: ignore

        app = TelemetryMiddleware(model, telemetry, routes=None)

        async def traffic() -> None:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://m") as c:
                for i in range(50):
                    await c.post("/invocations/boom" if i % 10 == 0 else "/invocations")

        asyncio.run(traffic())
        telemetry.close()  # the unfinished minute too
        now = datetime.now(timezone.utc)
        query = {"namespace": "AWS/SageMaker", "name": "Invocation5XXErrors",
                 "statistic": ["Sum", "SampleCount", "Average"], "period": 3600,
                 "start": (now - timedelta(hours=1)).isoformat(),
                 "end": (now + timedelta(minutes=1)).isoformat(),
                 "dimension": ["EndpointName:churn", "VariantName:AllTraffic"]}
        rows = viewer.get("/metrics/query", params=query).json()["datapoints"]
        assert sum(r["Sum"] for r in rows) == 5 and sum(r["SampleCount"] for r in rows) == 50

        # 5. the host, as `vigil agent --once` reports it
        agent = subprocess.run(
            [*VIGIL, "agent", "--once", "--server", url, "--token", tokens["ci"],
             "--spool", str(tmp_path / "spool"), "--output", "json"],
            capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        assert agent.returncode == 0, agent.stderr
        listed = viewer.get("/metrics", params={"namespace": "vigil/Host"}).json()
        names = {m["name"] for m in listed["metrics"]}
        assert {"CPUUtilization", "MemoryUtilization", "DiskUtilization"} <= names, listed

        # 6. Prometheus' face shows the failed run (read token; none: 401)
        assert httpx.get(url + "/metrics").status_code == 401
        text = httpx.get(url + "/metrics",
                         headers={"Authorization": f"Bearer {tokens['viewer']}"}).text
        assert 'vigil_job_runs_total{kind="training_job",name="churn-train",status="failed"} 1' \
            in text
    finally:
        server.terminate()
        server.wait(20)
        receiver.shutdown()
