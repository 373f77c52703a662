"""Severity routes: a critical alarm reaches the SMS subscriber (min_severity critical) and the
chat one; a warning alarm only the chat one. A filter policy on ``severity`` routes the same
way; PagerDuty and Alertmanager get the severity in their own vocabularies."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from notify_receiver import Receiver
from vigil.actions.spec import Rule
from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.delivery import alertmanager_alerts, pagerduty_event
from vigil.alerts.notify import (
    event_message,
    make_outbox,
    notify_transitions,
    publish,
    put_topic,
    subscribe,
)
from vigil.alerts.service import Transition, put_alarm
from vigil.store.db import Database

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver, Receiver]]:
    rs = (Receiver(), Receiver(), Receiver())
    for r in rs[:1]:
        r.script = [(201, b"{}")] * 10
    yield rs
    for r in rs:
        r.stop()


def _alarm(name: str, severity: str) -> MetricAlarm:
    return MetricAlarm(name=name, namespace="AWS/SageMaker", metric_name="Invocation5XXErrors",
                       statistic="Average", period=60, evaluation_periods=1, threshold=0.05,
                       comparison_operator="GreaterThanThreshold", alarm_actions=["oncall"],
                       severity=severity)


def test_critical_reaches_sms_and_chat_warning_only_chat(
    tmp_path: Path, receivers: tuple[Receiver, Receiver, Receiver]
) -> None:
    sms, chat, filtered = receivers
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    put_topic(db, "oncall")
    subscribe(db, "oncall", "sms", {"account_sid": "AC1", "auth_token": "t0k", "to": "+15550001",
                                    "from": "+15550002", "base_url": sms.url},
              id="pager-sms", min_severity="critical")
    subscribe(db, "oncall", "chat", {"url": chat.url, "preset": "mattermost"}, id="team-chat")
    subscribe(db, "oncall", "webhook", {"url": filtered.url}, id="sev-filter",
              filter_policy={"severity": ["critical", "high"]})
    put_alarm(db, _alarm("churn-5xx", "CRITICAL"))  # case-insensitive
    put_alarm(db, _alarm("churn-latency", "warning"))
    outbox = make_outbox(db)
    transitions = [Transition(name, "OK", "ALARM", "Threshold Crossed", {}, ["oncall"], T0)
                   for name in ("churn-5xx", "churn-latency")]
    assert notify_transitions(db, outbox, transitions, T0) == 4  # sms 1, chat 2, filter 1
    outbox.deliver_due(dt.datetime.now(dt.timezone.utc))
    texts = [parse_qs(r["body"].decode())["Body"][0] for r in sms.requests]
    assert len(texts) == 1 and texts[0].startswith('[CRITICAL] ALARM: "churn-5xx" in vigil')
    chats = sorted(json.loads(r["body"])["text"].split("\n")[0] for r in chat.requests)
    assert chats == ['[CRITICAL] ALARM: "churn-5xx" in vigil',
                     '[WARNING] ALARM: "churn-latency" in vigil']
    [hook] = [json.loads(r["body"]) for r in filtered.requests]
    assert hook["attributes"]["severity"] == "critical" and hook["payload"]["alarm"] == "churn-5xx"
    # the resolve of the critical alarm keeps its severity: the SMS subscriber hears it too
    back = Transition("churn-5xx", "ALARM", "OK", "back", {}, ["oncall"], T0)
    assert notify_transitions(db, outbox, [back], T0) == 3
    outbox.deliver_due(dt.datetime.now(dt.timezone.utc))
    assert parse_qs(sms.requests[-1]["body"].decode())["Body"][0].startswith(
        '[CRITICAL] OK: "churn-5xx"')


def test_event_messages_route_by_the_rules_severity(
    tmp_path: Path, receivers: tuple[Receiver, Receiver, Receiver]
) -> None:
    _, chat, _ = receivers
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    put_topic(db, "ml")
    subscribe(db, "ml", "chat", {"url": chat.url, "preset": "discord"}, id="pages",
              min_severity="high")
    rule = Rule.model_validate({"name": "train-failed", "severity": "critical",
                                "pattern": {"detail-type": ["SageMaker Training Job State Change"]},
                                "targets": [{"command": ["true"]}]})
    event = {"id": "e-1", "source": "aws.sagemaker", "time": "2024-05-01T12:00:00Z",
             "detail-type": "SageMaker Training Job State Change",
             "detail": {"TrainingJobName": "churn-train", "TrainingJobStatus": "Failed"}}
    outbox = make_outbox(db)
    loud = event_message("ml", event, severity=rule.severity, rule=rule.name,
                         subject="Training job churn-train Failed")
    quiet = event_message("ml", {**event, "id": "e-2"}, severity="info")
    assert publish(db, outbox, [loud, quiet]) == 1
    outbox.deliver_due(dt.datetime.now(dt.timezone.utc))
    [doc] = [json.loads(r["body"]) for r in chat.requests]
    assert doc["content"].startswith("[CRITICAL] Training job churn-train Failed\n")
    assert json.loads(doc["content"].split("\n", 1)[1])["TrainingJobStatus"] == "Failed"


@pytest.mark.parametrize(("level", "pagerduty"),
                         [("critical", "critical"), ("high", "error"), ("warning", "warning"),
                          ("info", "info")])
def test_severity_in_pagerduty_and_alertmanager(level: str, pagerduty: str) -> None:
    from vigil.alerts.notify import message_for

    t = Transition("a", "OK", "ALARM", "r", {}, ["t"], T0)
    m = message_for(t, "t", level)
    assert pagerduty_event(m, {"routing_key": "R"})["payload"]["severity"] == pagerduty
    assert alertmanager_alerts(m, {"url": "http://am"})[0]["labels"]["severity"] == level
    assert m.subject.startswith(f"[{level.upper()}] ALARM")


def test_bad_severity_names_the_field() -> None:
    with pytest.raises(ValueError, match="severity"):
        MetricAlarm.parse({**_alarm("x", "warning").model_dump(), "severity": "sev1"})
    with pytest.raises(ValueError, match="severity"):
        Rule.model_validate({"name": "r", "pattern": {}, "severity": "p1",
                             "targets": [{"command": ["true"]}]})
