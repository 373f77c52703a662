"""``vigil demo --exit``: the whole platform end to end, within two minutes."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path


def test_platform_demo_runs_end_to_end(tmp_path: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vigil.cli",
            "demo",
            "--exit",
            "--output",
            str(tmp_path),
            "--port",
            str(port),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - started < 120
    out = done.stdout
    assert "created 6, updated 0, unchanged 0" in out
    assert out.count("Completed                ") == 4
    assert out.count("CompletedWithViolations") == 3
    assert f"http://127.0.0.1:{port}" in out and "API token (admin): vgl_" in out
    # the schedule's default alarms fire on the drifting hours and notify the webhook
    assert "alarm hourly-drift: OK -> ALARM" in out
    assert 'webhook received: ALARM: "hourly-drift" in vigil' in out
    # ... the drift rule runs the retrain workflow, and the alarm resolves after the drift ends
    assert "alarm hourly-drift: ALARM -> OK" in out
    assert "alarm hourly-violations: ALARM -> OK" in out
    assert re.search(r"workflow retrain run \w+ \(rule retrain-on-drift\): Succeeded", out)
    assert 'webhook received: OK: "hourly-drift" in vigil' in out
    assert 'email received by the SMTP server: ALARM: "hourly-drift" in vigil' in out
    assert out.rindex('email received by the SMTP server: OK: "hourly-drift"') > out.index(
        'email received by the SMTP server: ALARM: "hourly-drift"'
    )
    reports = list(
        (tmp_path / "data" / "reports" / "cancer-model" / "hourly").rglob(
            "constraint_violations.json"
        )
    )
    assert len(reports) == 7
    captured = list((tmp_path / "data" / "capture" / "cancer-model").rglob("*.jsonl"))
    assert captured, "the middleware wrote SageMaker capture files"
