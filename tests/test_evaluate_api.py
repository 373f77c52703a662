"""``POST /alarms/evaluate`` over a live server (issue 9, item 2): a live evaluation records
and queues its notifications like the server's own loop; ``?at=`` in the past is a preview
that changes no state, history or queue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from live_server import LiveServer
from vigil.alerts.notify import make_outbox
from vigil.store.settings import Settings

ALARM = {
    "name": "lat", "namespace": "app", "metric_name": "latency", "dimensions": {"host": "a"},
    "statistic": "Maximum", "period": 60, "evaluation_periods": 1, "threshold": 1.0,
    "comparison_operator": "GreaterThanThreshold", "alarm_actions": ["team"],
}  # fmt: skip


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    running = LiveServer(Settings(data_dir=tmp_path / "data"), {"admin": "admin"})
    yield running
    running.stop()


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def test_a_past_evaluation_is_a_preview_and_a_live_one_queues_notifications(srv: LiveServer):
    api = srv.client("admin")
    assert api.post("/topics", json={"name": "team"}).status_code == 201
    sub = {"protocol": "webhook", "config": {"url": "https://hooks.example.org/h"}}
    assert api.post("/topics/team/subscriptions", json=sub).status_code == 201
    assert api.post("/alarms", json=ALARM).status_code == 201
    now = datetime.now(timezone.utc)
    if now.second >= 50:  # far from a minute's end: the live evaluation sees the same minute
        time.sleep(61 - now.second)
        now = datetime.now(timezone.utc)
    minute = now.replace(second=0, microsecond=0)
    past = minute - timedelta(days=1)
    data = [
        {"name": "latency", "dimensions": {"host": "a"}, "timestamp": _iso(t), "value": 5.0}
        for t in (past - timedelta(minutes=1), minute - timedelta(minutes=1))
    ]
    assert api.post("/metrics", json={"namespace": "app", "data": data}).is_success

    preview = api.post("/alarms/evaluate", params={"at": _iso(past + timedelta(seconds=5))})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["preview"] is True and body["states"] == {"lat": "ALARM"}
    assert [(t["alarm"], t["old_state"], t["new_state"]) for t in body["transitions"]] == [
        ("lat", "INSUFFICIENT_DATA", "ALARM")
    ]
    assert body["errors"] == {}
    # nothing changed: state, history, queue
    assert api.get("/alarms/lat").json()["state"] == "INSUFFICIENT_DATA"
    assert api.get("/alarms/lat/history").json()["history"] == []
    assert make_outbox(srv.db).store.list() == []

    live = api.post("/alarms/evaluate")
    assert live.status_code == 200, live.text
    assert live.json()["preview"] is False
    assert [t["new_state"] for t in live.json()["transitions"]] == ["ALARM"]
    assert api.get("/alarms/lat").json()["state"] == "ALARM"
    (entry,) = api.get("/alarms/lat/history").json()["history"]
    assert datetime.fromisoformat(entry["time"]) >= now  # dated now, not in the past
    queued = make_outbox(srv.db).store.list()
    assert len(queued) == 1 and queued[0].status == "pending"
    # a second live evaluation pages nobody again
    assert api.post("/alarms/evaluate").json()["transitions"] == []
    assert len(make_outbox(srv.db).store.list()) == 1
