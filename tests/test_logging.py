"""The server's own log: JSON lines (or text) on stderr for requests, executions, alarm
transitions and deliveries, never a token or a secret."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from live_server import free_port, start_vigil_server
from vigil.app.bootstrap import open_database
from vigil.app.logging_setup import configure_logging
from vigil.errors import ConfigError
from vigil.server.auth import create_token
from vigil.store.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
HEADER_SECRET = "hdr-secret-31337"
URL_PASSWORD = "url-pw-8080"
HOUR = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)


def _drive(api: httpx.Client, data: Path, sagemaker_dir: Path) -> None:
    """Configuration, an execution, and figures that will put an alarm in ALARM."""
    assert api.post("/endpoints", json={"name": "churn"}).status_code == 201
    base = data / "sm"
    base.mkdir()
    shutil.copy(sagemaker_dir / "data_quality_statistics.json", base / "statistics.json")
    shutil.copy(sagemaker_dir / "data_quality_constraints.json", base / "constraints.json")
    made = api.post("/baselines", json={"name": "sm", "endpoint": "churn", "path": str(base)})
    assert made.status_code == 201, made.text
    schedule = {
        "name": "hourly",
        "endpoint": "churn",
        "baseline": "sm",
        "expression": "rate(1 hour)",
    }
    assert api.post("/schedules", json=schedule).status_code == 201
    window = {
        "window_start": HOUR.isoformat(),
        "window_end": (HOUR + timedelta(hours=1)).isoformat(),
    }
    ran = api.post("/schedules/hourly/run", json=window)  # no captures: the execution fails
    assert ran.status_code == 200 and ran.json()["status"] == "Failed", ran.text
    assert api.post("/topics", json={"name": "team"}).status_code == 201
    sub = {
        "protocol": "webhook",
        "config": {
            "url": f"http://ops:{URL_PASSWORD}@127.0.0.1:9/hook?key={URL_PASSWORD}",
            "headers": {"X-Api-Key": HEADER_SECRET},
        },
    }
    assert api.post("/topics/team/subscriptions", json=sub).status_code == 201
    alarm = {
        "name": "lat",
        "namespace": "app",
        "metric_name": "latency",
        "statistic": "Maximum",
        "period": 60,
        "evaluation_periods": 1,
        "threshold": 1.0,
        "comparison_operator": "GreaterThanThreshold",
        "alarm_actions": ["team"],
    }
    assert api.post("/alarms", json=alarm).status_code == 201
    now = datetime.now(timezone.utc)
    points = [
        {"name": "latency", "value": 9.0, "timestamp": (now - timedelta(seconds=s)).isoformat()}
        for s in (5, 30, 65, 95, 125)
    ]
    assert api.post("/metrics", json={"namespace": "app", "data": points}).status_code == 200
    # the server's own loop evaluates the alarm and queues its notification


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_live_server_logs_json_lines_without_tokens_or_secrets(
    tmp_path: Path, sagemaker_dir: Path
):
    data = tmp_path / "data"
    db = open_database(Settings(data_dir=data))
    token = create_token(db, "ops-bot", "admin")
    db.dispose()
    port, log_path = free_port(), tmp_path / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "VIGIL_LOG_FORMAT": "json",
        "VIGIL_LOG_LEVEL": "INFO",
        "VIGIL_OUTBOUND_ALLOW": "127.0.0.1/32",
    }
    with log_path.open("wb") as sink:
        proc = start_vigil_server(data, port, env, stderr=sink)
    try:
        url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url + "/api/v1", headers=headers, timeout=60) as api:
            _drive(api, data, sagemaker_dir)
        stray = "vgl_" + "x" * 43  # an unknown token, in the header and in the query string
        denied = httpx.get(
            f"{url}/api/v1/alarms?token={stray}", headers={"Authorization": f"Bearer {stray}"}
        )
        assert denied.status_code == 401
        deadline = time.monotonic() + 45  # the scheduler's alarm and delivery loops
        while "outbox item" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(30)
    text = log_path.read_text()
    for secret in (token, stray, HEADER_SECRET, URL_PASSWORD):
        assert secret not in text, secret
    lines = _lines(log_path)  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    requests = [line for line in lines if line["logger"] == "vigil.server.requests"]
    created = [r for r in requests if r["method"] == "POST" and r["path"] == "/api/v1/endpoints"]
    assert created and created[0]["status"] == 201 and created[0]["actor"] == "token:ops-bot"
    assert isinstance(created[0]["duration_ms"], float)
    refused = [r for r in requests if r["status"] == 401]
    assert refused and refused[0]["path"] == "/api/v1/alarms" and refused[0]["actor"] == "anonymous"
    ended = [line for line in lines if line["message"].startswith("execution ended")]
    assert ended and ended[0]["status"] == "Failed" and ended[0]["schedule"] == "hourly"
    assert ended[0]["reason"] and ended[0]["level"] == "WARNING"
    assert any(line["message"] == "execution started" for line in lines)
    assert any(line["message"] == "alarm lat: INSUFFICIENT_DATA -> ALARM" for line in lines)
    assert any(line["message"].startswith("outbox item") for line in lines)


def test_text_format_scrubs_every_record():
    stream = io.StringIO()
    handler = configure_logging("text", "DEBUG", stream=stream)
    try:
        log = logging.getLogger("vigil.test")
        log.info(
            "calling %s with Authorization: Bearer %s",
            "https://me:pw123@hooks.example/x?sig=abc",
            "vgl_" + "y" * 43,
            extra={"headers": {"Authorization": "Bearer zzz"}, "target": "http://a:b@h/?q=1"},
        )
        try:
            raise RuntimeError("failed at https://u:leak@h/p?token=leak2")
        except RuntimeError:
            log.exception("delivery raised")
    finally:
        logging.getLogger().removeHandler(handler)
    out = stream.getvalue()
    for secret in ("pw123", "sig=abc", "yyyy", "zzz", "a:b", "q=1", "leak"):
        assert secret not in out, (secret, out)
    first = out.splitlines()[0]
    assert " INFO vigil.test: calling https://***@hooks.example/x?*** with " in first
    assert "RuntimeError" in out


def test_a_bad_log_format_or_level_is_refused():
    with pytest.raises(ConfigError, match="VIGIL_LOG_FORMAT 'xml'"):
        configure_logging("xml")
    with pytest.raises(ConfigError, match="VIGIL_LOG_LEVEL 'loud'"):
        configure_logging("json", "loud")
