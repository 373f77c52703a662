"""``vigil demo --exit``: the whole platform end to end, within two minutes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from vigil.demo import BAD_REQUESTS, FEATURES, SHIFT


def test_platform_demo_runs_end_to_end(tmp_path: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    # a relative --output, as a user types it (run where tmp_path is the working directory)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    )}  # fmt: skip
    cwd, tmp_path = tmp_path, tmp_path / "demo-output"
    # a previous demo's state (a damaged database here) is replaced, not reused: its
    # executions would show up among this run's
    (tmp_path / "data").mkdir(parents=True)
    (tmp_path / "data" / "vigil.db").write_bytes(b"left over by an earlier demo")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vigil.cli",
            "demo",
            "--exit",
            "--output",
            "demo-output",
            "--port",
            str(port),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - started < 120
    out = done.stdout
    assert "removed the previous demo's data" in out
    assert "created 7, updated 0, unchanged 0" in out  # 6 objects and the platform: block
    assert out.count("Completed                ") == 4
    assert out.count("CompletedWithViolations") == 3
    assert f"http://127.0.0.1:{port}" in out and "API token (admin): vgl_" in out
    # it ends with the dashboard and a sign-in link carrying the token in its fragment
    token = re.search(r"API token \(admin\): (vgl_\S+)", out).group(1)  # type: ignore[union-attr]
    assert f"http://127.0.0.1:{port}/signin#token={token}" in out.splitlines()[-1]
    # the schedule's default alarms fire on the drifting hours and notify the webhook
    assert "alarm hourly-drift: OK -> ALARM" in out
    assert 'webhook received: [WARNING] ALARM: "hourly-drift" in vigil' in out
    # ... the drift rule runs the retrain workflow, and the alarm resolves after the drift ends
    assert "alarm hourly-drift: ALARM -> OK" in out
    assert "alarm hourly-violations: ALARM -> OK" in out
    assert re.search(r"workflow retrain run \w+ \(rule retrain-on-drift\): Succeeded", out)
    assert 'webhook received: [WARNING] OK: "hourly-drift" in vigil' in out
    assert 'email received by the SMTP server: [WARNING] ALARM: "hourly-drift" in vigil' in out
    assert out.rindex(
        'email received by the SMTP server: [WARNING] OK: "hourly-drift"'
    ) > out.index('email received by the SMTP server: [WARNING] ALARM: "hourly-drift"')
    reports = list(
        (tmp_path / "data" / "reports" / "cancer-model" / "hourly").rglob(
            "constraint_violations.json"
        )
    )
    assert len(reports) == 7
    captured = list((tmp_path / "data" / "capture" / "cancer-model").rglob("*.jsonl"))
    assert captured, "the middleware wrote SageMaker capture files"
    # each simulated hour holds exactly the requests sent in it (7 hours of 60)
    per_hour: dict[str, int] = {}
    for f in captured:
        hour = "/".join(f.parts[-5:-1])
        per_hour[hour] = per_hour.get(hour, 0) + len(f.read_text().splitlines())
    assert sorted(per_hour.values()) == [60] * 7, per_hour
    assert "hour 7: sent 60 requests" in out
    # the demo's own file applies as it is, from where the demo ran: its baseline path is
    # read once, against the file's directory, so the baseline is unchanged
    again = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "apply", "-f", "demo-output/vigil.yaml",
         "--data-dir", "demo-output/data"],
        capture_output=True, text=True, timeout=120, cwd=cwd, env=env,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert "created 0," in again.stdout and "baseline" not in again.stdout, again.stdout
    # the platform half: a training job's loss curve through the jobs API, the endpoint's
    # serving figures from the traffic (with its malformed requests and model errors), a
    # failed CodePipeline run notified to the platform topic, the host's figures
    curve = re.search(r"training job cancer-train \(vigil.training_job\): Completed in [\d.]+ "
                      r"s, validation:loss by epoch ((?:[\d.]+ ?){12})\n", out)
    assert curve, out
    losses = [float(v) for v in curve.group(1).split()]
    assert losses[-1] < losses[0]
    rows = re.findall(r"  \S+  (\d+) invocations, 4XX (\d+), 5XX (\d+) \([\d.]+%\), "
                      r"ModelLatency p50 (\d+) us, p99 (\d+) us", out)
    assert len(rows) == 7, out
    sent = {h: 60 for h in range(7)}
    for h, bad in BAD_REQUESTS.items():
        sent[h] += len(bad)
    assert [int(r[0]) for r in rows] == [sent[h] for h in range(7)]
    assert sum(int(r[1]) for r in rows) == sum(
        s == 400 for bad in BAD_REQUESTS.values() for s in bad.values())
    assert sum(int(r[2]) for r in rows) == sum(
        s == 500 for bad in BAD_REQUESTS.values() for s in bad.values())
    assert all(0 < int(p50) <= int(p99) for *_, p50, p99 in rows)
    assert "webhook received: [HIGH] FAILED: pipeline cancer-model-deploy" in out
    # the first notification explains itself: the drift, the dashboard links, the deployment
    note = out[out.index("  first notification, "):]
    drift = rf"summary: Drift in {len(SHIFT)} of {len(FEATURES)} features: \S+ \(distance [\d.]+ > "
    assert re.search(drift, note), note
    assert f"    alarm: http://127.0.0.1:{port}/alarms/hourly-drift" in note
    assert re.search(rf"report: http://127\.0\.0\.1:{port}/executions/[\w-]+/report", note)
    assert "changed before it: " in note and "ci.deploy: Deployment: model cancer-model" in note
    host = re.search(r"host \S+ \(vigil agent --once\): CPUUtilization ([\d.]+) %, "
                     r"MemoryUtilization ([\d.]+) %, DiskUtilization of the data directory "
                     r"([\d.]+) %", out)
    assert host and 0 < float(host.group(2)) < 100 and 0 < float(host.group(3)) <= 100, out
