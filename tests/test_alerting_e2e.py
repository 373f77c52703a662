"""End to end: a drifting window puts an alarm into ALARM; an email reaches a real SMTP server
and a signed webhook a loopback receiver; the drift goes away and the resolved notifications
arrive. Notifications are queued in the durable outbox and delivered from it."""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

from conftest import sagemaker_columns
from live_server import free_port
from test_alarm_service import _hour, drift_alarm
from test_runtime import _runtime, cli, config_file
from vigil.actions import Rule, Workflow, list_runs
from vigil.actions.definitions import dispatch_pending, put_rule, put_workflow
from vigil.alerts.delivery import verify_signature
from vigil.alerts.notify import make_outbox, put_topic, subscribe
from vigil.alerts.service import put_alarm
from vigil.app.scheduler import alarms_and_notifications
from vigil.monitor.runner import run_scheduled

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


def test_drift_alarm_notifies_by_email_and_webhook_then_resolves(
    tmp_path: Path, sagemaker_dir: Path
):
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
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
        put_alarm(rt.db, drift_alarm(["team"]))
        marker = tmp_path / "retrained.txt"
        put_workflow(
            rt.db,
            Workflow.model_validate(
                {
                    "name": "retrain",
                    "steps": [
                        {
                            "name": "train",
                            "target": {
                                "command": [
                                    sys.executable,
                                    "-c",
                                    f"open({str(marker)!r}, 'w').write('v2')",
                                ]
                            },
                        }
                    ],
                }
            ),
        )
        put_rule(
            rt.db,
            Rule.model_validate(
                {
                    "name": "retrain-on-drift",
                    "targets": [{"workflow": "retrain"}],
                    "pattern": {
                        "kind": ["alarm_state_change"],
                        "detail": {"state": ["ALARM"], "alarm": ["drift-c0"]},
                    },
                }
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
            dispatch_pending(rt.db, "e2e")
        runs = list_runs(rt.db, workflow="retrain")
        assert [r.status for r in runs] == ["Succeeded"] and marker.read_text() == "v2"
        subjects = [m["Subject"] for m in mailbox.messages]
        # the new alarm's first OK (from INSUFFICIENT_DATA) is news to nobody: not sent
        assert subjects == [
            '[WARNING] ALARM: "drift-c0" in vigil',
            '[WARNING] OK: "drift-c0" in vigil',
        ]
        assert "Threshold Crossed" in mailbox.messages[0].get_payload()
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
        assert states == ["firing", "resolved"]
        ids = [json.loads(b)["id"] for _, b in Receiver.received]
        assert len(set(ids)) == 2  # a stable id per message
        assert outbox.list_dead_letters() == []
    finally:
        smtp.stop()
        http.shutdown()


def test_alarms_topics_rules_and_workflows_as_code(tmp_path: Path, sagemaker_dir: Path):
    """vigil.yaml carries topics, alarms, workflows and rules; an ALARM transition starts the
    retrain workflow through a rule, and the run is recorded with its steps."""
    import sys

    from vigil.actions import list_attempts, list_runs
    from vigil.actions.definitions import dispatch_pending
    from vigil.app.config import load_config

    data = tmp_path / "data"
    base = config_file(tmp_path, sagemaker_dir)
    marker = tmp_path / "retrained.txt"
    script = tmp_path / "retrain.py"
    script.write_text(
        f"import json, sys\nopen({str(marker)!r}, 'w').write('done')\n"
        "print(json.dumps({'model': 'v2', 'score': 0.93}))\n"
    )
    (tmp_path / "vigil.yaml").write_text(
        base.read_text()
        + f"""topics:
  - name: team
    grouping: {{group_by: [Endpoint], group_wait: 30, group_interval: 300}}
    subscriptions:
      - id: team-hook
        protocol: webhook
        config: {{url: "http://127.0.0.1:9/unused"}}
alarms:
  - name: drift-c0
    namespace: aws/sagemaker/Endpoints/data-metrics
    metric_name: feature_baseline_drift__c0
    dimensions: {{Endpoint: churn, MonitoringSchedule: hourly}}
    statistic: Maximum
    period: 3600
    evaluation_periods: 1
    threshold: 0.1
    comparison_operator: GreaterThanThreshold
    treat_missing_data: notBreaching
    alarm_actions: [retrain]
workflows:
  - name: retrain
    steps:
      - name: train
        target: {{command: ["{sys.executable}", "{script}"]}}
rules:
  - name: retrain-on-drift
    pattern: {{kind: [alarm_state_change], detail: {{state: [ALARM], alarm: [drift-c0]}}}}
    targets: [{{workflow: retrain}}]
"""
    )
    applied = cli(data, "apply", "-f", str(tmp_path / "vigil.yaml"))
    assert applied.returncode == 0, applied.stderr
    assert "created 7, updated 0, unchanged 0" in applied.stdout
    again = cli(data, "apply", "-f", str(tmp_path / "vigil.yaml"))
    assert "created 0, updated 0, unchanged 7" in again.stdout
    exported = cli(data, "export", "-o", str(tmp_path / "out.yaml"))
    assert exported.returncode == 0, exported.stderr
    assert load_config(tmp_path / "out.yaml") == load_config(tmp_path / "vigil.yaml").resolve_paths(
        tmp_path
    )
    rt = _runtime(data)
    outbox = make_outbox(rt.db)
    cols = sagemaker_columns(sagemaker_dir)
    for h, shift in enumerate([0.0, 2.0]):
        t = T0 + timedelta(hours=h)
        _hour(data / "capture", cols, t, shift)
        run_scheduled(rt, "hourly", t + timedelta(hours=1))
        alarms_and_notifications(rt, outbox, t + timedelta(hours=2, minutes=5))
        dispatch_pending(rt.db, "test")
    runs = list_runs(rt.db, workflow="retrain")
    assert len(runs) == 1 and runs[0].status == "Succeeded"
    assert runs[0].output == {"model": "v2", "score": 0.93}
    assert [a.step for a in list_attempts(rt.db, runs[0].id)] == ["train"]
    assert marker.read_text() == "done"
    assert dispatch_pending(rt.db, "test") == []  # each event starts its runs once
    listed = cli(data, "action", "runs", "--workflow", "retrain")
    assert runs[0].id in listed.stdout and "Succeeded" in listed.stdout
    shown = cli(data, "action", "show", runs[0].id)
    assert '"step": "train"' in shown.stdout and '"score": 0.93' in shown.stdout
    dead = cli(data, "delivery", "dead-letters")
    assert dead.returncode == 0 and dead.stdout.strip() == ""  # nothing was lost


def test_silences_mute_but_owed_resolves_are_sent(tmp_path: Path):
    from vigil.alerts.notify import add_silence, notify_transitions
    from vigil.alerts.service import Transition

    rt = _runtime(tmp_path / "data")
    put_topic(rt.db, "team")
    subscribe(rt.db, "team", "webhook", {"url": "http://127.0.0.1:9/x"}, id="hook")
    outbox = make_outbox(rt.db)

    def t(alarm: str, old: str, new: str, at: datetime) -> Transition:
        return Transition(alarm, old, new, "why", {}, ["team"], at)

    t1 = T0 + timedelta(hours=1)
    assert notify_transitions(rt.db, outbox, [t("drift-a", "OK", "ALARM", T0)], T0) == 1
    add_silence(rt.db, ['alarm=~"drift-.*"'], t1, t1 + timedelta(hours=2), "maintenance")
    queued = notify_transitions(
        rt.db, outbox, [t("drift-b", "OK", "ALARM", t1), t("drift-a", "ALARM", "OK", t1)], t1
    )
    assert queued == 1, "drift-b is silenced; drift-a's resolve is owed and sent"
    later = t1 + timedelta(hours=3)  # the silence is over
    assert notify_transitions(rt.db, outbox, [t("drift-b", "ALARM", "OK", later)], later) == 0
    bad = cli(tmp_path / "data", "alarm", "silence", "--matcher", "no operator")
    assert bad.returncode == 2 and "expected name=value" in bad.stderr
