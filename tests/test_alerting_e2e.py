"""End to end: a drifting window puts an alarm into ALARM; an email reaches a real SMTP server
and a signed webhook a loopback receiver; the drift goes away and the resolved notifications
arrive. Notifications are queued in the durable outbox and delivered from it."""

from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

from conftest import sagemaker_columns
from test_alarm_service import _hour
from test_runtime import _runtime, cli, config_file
from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.delivery import verify_signature
from vigil.alerts.notify import make_outbox, put_topic, subscribe
from vigil.alerts.service import put_alarm
from vigil.monitor.runner import run_scheduled
from vigil.monitor.scheduler import alarms_and_notifications

T0 = datetime(2024, 5, 1, 0, tzinfo=timezone.utc)
SECRET = "s3cret-for-tests"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_drift_alarm_notifies_by_email_and_webhook_then_resolves(
    tmp_path: Path, sagemaker_dir: Path
):
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=_port())
    smtp.start()
    Receiver.received = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        data = tmp_path / "data"
        assert cli(data, "apply", "-f", str(config_file(tmp_path, sagemaker_dir))).returncode == 0
        rt = _runtime(data)
        put_topic(rt.db, "team")
        subscribe(
            rt.db,
            "team",
            "email",
            {"host": "127.0.0.1", "port": smtp.port, "from": "vigil@test", "to": ["ml@test"]},
        )
        subscribe(
            rt.db,
            "team",
            "webhook",
            {"url": f"http://127.0.0.1:{http.server_port}/hook", "secret": SECRET},
        )
        put_alarm(
            rt.db,
            MetricAlarm(
                name="drift-c0",
                namespace="aws/sagemaker/Endpoints/data-metrics",
                metric_name="feature_baseline_drift__c0",
                dimensions={"Endpoint": "churn", "MonitoringSchedule": "hourly"},
                statistic="Maximum",
                period=3600,
                evaluation_periods=1,
                threshold=0.1,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=["team"],
                ok_actions=["team"],
            ),
        )
        outbox = make_outbox(rt.db)
        cols = sagemaker_columns(sagemaker_dir)
        for h, shift in enumerate([0.0, 2.0, 0.0]):  # normal, drifting, normal again
            t = T0 + timedelta(hours=h)
            _hour(data / "capture", cols, t, shift)
            run_scheduled(rt, "hourly", t + timedelta(hours=1))
            when = t + timedelta(hours=2, minutes=5)
            alarms_and_notifications(rt, outbox, when)
            outbox.deliver_due(datetime.now(timezone.utc))
        subjects = [m["Subject"] for m in mailbox.messages]
        assert subjects == [
            'OK: "drift-c0" in vigil',
            'ALARM: "drift-c0" in vigil',
            'OK: "drift-c0" in vigil',
        ]
        assert "Threshold Crossed" in mailbox.messages[1].get_payload()
        states = []
        for headers, body in Receiver.received:
            assert verify_signature(
                SECRET,
                headers["X-Vigil-Timestamp"],
                body,
                headers["X-Vigil-Signature"],
                tolerance=10**9,
            )
            states.append(json.loads(body)["payload"]["status"])
        assert states == ["resolved", "firing", "resolved"]
        ids = [json.loads(b)["id"] for _, b in Receiver.received]
        assert len(set(ids)) == 3  # a stable id per message
        assert outbox.list_dead_letters() == []
    finally:
        smtp.stop()
        http.shutdown()
