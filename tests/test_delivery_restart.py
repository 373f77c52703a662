"""Nothing is lost: a receiver stays down for several attempts while `vigil server` delivers,
the server is killed (kill -9) and started again, the receiver comes back, and every message
arrives (at least once, by stable id)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from live_server import free_port, start_vigil_server
from test_runtime import _runtime, cli
from vigil.alerts.notify import make_outbox
from vigil.app.scheduler import alarms_and_notifications
from vigil.metrics.datum import MetricDatum

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


class Receiver(BaseHTTPRequestHandler):
    ids: list[str] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.ids.append(json.loads(body)["id"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _server(data: Path) -> subprocess.Popen:
    return start_vigil_server(data, free_port(), {**os.environ, "VIGIL_WORKER_ID": "srv"})


@pytest.mark.slow
def test_receiver_down_server_restarted_every_message_delivered(tmp_path: Path):
    hook_port = free_port()  # nothing listens here yet: connection refused
    data = tmp_path / "data"
    (tmp_path / "vigil.yaml").write_text(
        f"""version: 1
topics:
  - name: team
    subscriptions:
      - id: team-hook
        protocol: webhook
        config: {{url: "http://127.0.0.1:{hook_port}/hook"}}
        retry: {{numRetries: 60, minDelayTarget: 1, maxDelayTarget: 1}}
alarms:
"""
        + "".join(
            f"""  - name: lat-{i}
    namespace: app
    metric_name: latency
    dimensions: {{host: h{i}}}
    statistic: Maximum
    period: 60
    evaluation_periods: 1
    threshold: 1.0
    comparison_operator: GreaterThanThreshold
    alarm_actions: [team]
"""
            for i in range(5)
        )
    )
    assert cli(data, "apply", "-f", str(tmp_path / "vigil.yaml")).returncode == 0
    rt = _runtime(data)
    rt.metrics.put([MetricDatum("app", "latency", {"host": f"h{i}"}, T0, 5.0) for i in range(5)])
    # the evaluation a server makes at that instant: recorded, queued, a first (failed) attempt
    outbox = make_outbox(rt.db)
    transitions = alarms_and_notifications(rt, outbox, T0 + timedelta(minutes=1, seconds=30))
    counts = outbox.deliver_due(datetime.now(timezone.utc))
    assert len(transitions) == 5 and counts.retrying == 5, (transitions, counts)
    queued = {r.message_id for r in make_outbox(rt.db).store.list()}
    assert len(queued) == 5

    server = _server(data)
    time.sleep(3)  # several more failed attempts (connection refused)
    attempts = max(r.attempt for r in make_outbox(rt.db).store.list())
    assert attempts >= 2
    os.kill(server.pid, signal.SIGKILL)
    server.wait(10)
    server = _server(data)  # the restarted server picks the outbox up
    Receiver.ids = []
    http = ThreadingHTTPServer(("127.0.0.1", hook_port), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        # a delivery the killed server had claimed waits for its 60 s lease, then goes again
        deadline = time.monotonic() + 90
        while set(Receiver.ids) != queued:
            assert time.monotonic() < deadline, f"delivered {len(set(Receiver.ids))} of 5"
            time.sleep(0.2)
        records = make_outbox(rt.db).store.list()
        assert {r.status for r in records} == {"delivered"}
        assert make_outbox(rt.db).list_dead_letters() == []
    finally:
        server.terminate()
        server.wait(10)
        http.shutdown()
