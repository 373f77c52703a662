"""A new alarm's first data (INSUFFICIENT_DATA -> OK) notifies nobody, unless the topic heard
of the missing data; every other OK (the resolve of an ALARM) is sent (platform.md §5 #1)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path

from live_server import Hook
from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.notify import make_outbox, notify_transitions
from vigil.alerts.notify.topics import put_topic, subscribe
from vigil.alerts.service import evaluate_alarms, put_alarm
from vigil.metrics.datum import MetricDatum
from vigil.store.db import Database
from vigil.store.metrics import MetricStore

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def _queued(outbox: object) -> list[str]:
    """The subjects the loopback receiver got so far, in order."""
    outbox.deliver_due(datetime.now(timezone.utc) + timedelta(days=1))  # type: ignore[attr-defined]
    return [body["subject"] for _, body in Hook.received]


def test_first_ok_is_silent_unless_the_missing_data_was_told(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    store = MetricStore(db)
    Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    put_topic(db, "oncall")
    subscribe(db, "oncall", "webhook", {"url": f"http://127.0.0.1:{server.server_port}/hook"},
              id="hook")
    common = {"namespace": "ns", "metric_name": "errors", "statistic": "Maximum", "period": 60,
              "evaluation_periods": 1, "threshold": 1.0,
              "comparison_operator": "GreaterThanThreshold", "alarm_actions": ["oncall"],
              "ok_actions": ["oncall"]}
    put_alarm(db, MetricAlarm(name="quiet", **common))
    put_alarm(db, MetricAlarm(name="told", insufficient_data_actions=["oncall"], **common))
    outbox = make_outbox(db)

    def at(minute: int, value: float | None) -> None:
        t = T0 + timedelta(minutes=minute)
        if value is not None:
            store.put([MetricDatum("ns", "errors", {}, t, value)])
        notify_transitions(db, outbox, evaluate_alarms(db, store, t + timedelta(minutes=1)))

    at(0, 0.0)  # both: INSUFFICIENT_DATA -> OK; "told" was never told of the missing data...
    assert _queued(outbox) == []
    at(1, 5.0)  # ALARM: told to both
    at(2, 0.0)  # the resolves are sent
    assert sorted(_queued(outbox)) == sorted([
        '[WARNING] ALARM: "quiet" in vigil', '[WARNING] ALARM: "told" in vigil',
        '[WARNING] OK: "quiet" in vigil', '[WARNING] OK: "told" in vigil'])
    at(5, None)  # no data: INSUFFICIENT_DATA, told only where asked
    assert _queued(outbox)[-1] == '[WARNING] INSUFFICIENT_DATA: "told" in vigil'
    count = len(_queued(outbox))
    at(6, 0.0)  # back to OK: the topic that heard of the missing data hears the OK
    assert _queued(outbox)[count:] == ['[WARNING] OK: "told" in vigil']
    server.shutdown()
