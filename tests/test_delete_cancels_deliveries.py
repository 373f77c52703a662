"""Deleting a subscription cancels its deliveries not made yet: a notification queued for a
receiver that is down is not sent once the subscription is deleted, even when the receiver
comes back; another subscription of the topic still gets its own. A topic delete cancels what
is left queued for the topic. Over real HTTP on loopback, the server's own scheduler
delivering."""

from __future__ import annotations

import http.server
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from live_server import LiveServer, free_port
from vigil.store.settings import Settings

RETRY = {"num_retries": 50, "min_delay_target": 1, "max_delay_target": 1}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    # the server's own scheduler delivering, and an admin token
    settings = Settings(data_dir=tmp_path / "data")
    running = LiveServer(settings, {"ops": "admin"}, start_scheduler=True, log_level="error")
    yield running
    running.stop()


class _Receiver(http.server.BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).paths.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _outbox(data: Path) -> dict[str, tuple[str, int, str | None]]:
    """``subscription -> (status, attempt, last_error)`` of each outbox row, read with sqlite3."""
    conn = sqlite3.connect(f"file:{data / 'vigil.db'}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT subscription, status, attempt, last_error FROM delivery_outbox")
        return {sub: (status, attempt, error) for sub, status, attempt, error in rows}
    finally:
        conn.close()


def _alarm_fires(c: httpx.Client) -> None:
    alarm = {"name": "lat", "namespace": "app", "metric_name": "latency",
             "statistic": "Maximum", "period": 60, "evaluation_periods": 1, "threshold": 1.0,
             "comparison_operator": "GreaterThanThreshold", "alarm_actions": ["team"]}  # fmt: skip
    assert c.post("/alarms", json=alarm).status_code == 201
    now = datetime.now(timezone.utc)
    points = [
        {"name": "latency", "value": 9.0, "timestamp": (now - timedelta(seconds=s)).isoformat()}
        for s in (5, 30, 65, 95, 125)
    ]
    assert c.post("/metrics", json={"namespace": "app", "data": points}).status_code == 200
    r = c.post("/alarms/evaluate")
    assert r.status_code == 200, r.text


def _wait(what: str, done: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_deleted_subscription_gets_nothing_queued_before_its_delete(live, tmp_path):
    data = tmp_path / "data"
    port = free_port()  # the receiver is down: nothing listens here yet
    c = live.client("ops")
    assert c.post("/topics", json={"name": "team"}).status_code == 201
    for name in ("doomed", "kept"):
        sub = {"id": name, "protocol": "webhook", "retry": RETRY,
               "config": {"url": f"http://127.0.0.1:{port}/{name}"}}  # fmt: skip
        assert c.post("/topics/team/subscriptions", json=sub).status_code == 201
    _alarm_fires(c)
    _wait(  # queued, and tried once against the receiver that is down
        "both deliveries were attempted",
        lambda: all(
            _outbox(data).get(s, ("", 0, None))[1] >= 1 for s in ("doomed", "kept")
        ),
    )
    assert {s: v[0] for s, v in _outbox(data).items()} == {"doomed": "pending", "kept": "pending"}

    assert c.delete("/topics/team/subscriptions/doomed").status_code == 204

    _Receiver.paths = []
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        _wait("the kept subscription's delivery arrived", lambda: "/kept" in _Receiver.paths)
        time.sleep(3)  # three more retry delays of the cancelled one, had it been pending
    finally:
        receiver.shutdown()
    assert _Receiver.paths == ["/kept"]
    status, _, error = _outbox(data)["doomed"]  # kept, visibly cancelled
    assert (status, error) == ("cancelled", "cancelled: subscription 'doomed' was deleted")
    assert _outbox(data)["kept"][0] == "delivered"
    c.close()


def test_a_topic_delete_cancels_what_is_left_queued_for_it(live, tmp_path):
    data = tmp_path / "data"
    c = live.client("ops")
    assert c.post("/topics", json={"name": "team"}).status_code == 201
    sub = {"id": "hook", "protocol": "webhook", "retry": RETRY,
           "config": {"url": f"http://127.0.0.1:{free_port()}/hook"}}  # fmt: skip
    assert c.post("/topics/team/subscriptions", json=sub).status_code == 201
    _alarm_fires(c)
    _wait("the delivery was queued", lambda: "hook" in _outbox(data))
    conn = sqlite3.connect(data / "vigil.db")  # as a delete of the code before left it
    with conn:
        conn.execute("DELETE FROM subscriptions WHERE id = 'hook'")
    conn.close()
    assert _outbox(data)["hook"][0] == "pending"
    assert c.delete("/alarms/lat").status_code == 204
    assert c.delete("/topics/team").status_code == 204
    status, _, error = _outbox(data)["hook"]
    assert (status, error) == ("cancelled", "cancelled: topic 'team' was deleted")
    c.close()
