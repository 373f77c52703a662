"""Rules that notify: a ``topic`` target publishes through the durable outbox, routed by the
rule's severity (subscriptions' ``min_severity`` and filter policies), its body shaped by the
input transformer; the run is recorded; vigil.yaml applies and exports it; a live
``vigil server`` takes the rule over the API and an event over PutEvents and the webhook
receives the notification with its severity."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from live_server import free_port, start_vigil_server
from notify_receiver import Receiver
from vigil.actions import Runner, TopicTarget, dispatch, get_run, list_attempts
from vigil.actions.definitions import dispatch_pending, put_rule
from vigil.actions.spec import Rule, Step, Workflow
from vigil.alerts.notify import make_outbox, put_topic, subscribe, topic_publisher
from vigil.app.bootstrap import open_database
from vigil.app.catalog import apply_config, current_config
from vigil.app.config import dump_config, parse_config
from vigil.errors import ConfigError
from vigil.server.auth import create_token
from vigil.store.db import Database
from vigil.store.models import Event
from vigil.store.settings import Settings

FAILED = {"source": ["aws.sagemaker"], "detail": {"TrainingJobStatus": ["Failed"]}}


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    rs = (Receiver(), Receiver())
    rs[0].script = [(201, b"{}")] * 10  # Twilio answers 201
    yield rs
    for r in rs:
        r.stop()


def _oncall(db: Database, sms: Receiver, hook: Receiver) -> None:
    put_topic(db, "oncall")
    subscribe(db, "oncall", "sms", {"account_sid": "AC1", "auth_token": "t0k", "to": "+15550001",
                                    "from": "+15550002", "base_url": sms.url},
              id="pager-sms", min_severity="high")
    subscribe(db, "oncall", "webhook", {"url": hook.url}, id="sev-hook",
              filter_policy={"severity": ["critical"]})


def _event(db: Database, job: str, status: str = "Failed") -> Event:
    with db.session() as s:
        row = Event(kind="external", source="aws.sagemaker",
                    detail_type="SageMaker Training Job State Change",
                    time=dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc),
                    detail={"TrainingJobName": job, "TrainingJobStatus": status,
                            "FailureReason": "OOM"})
        s.add(row)
        s.flush()
        s.expunge(row)
        return row


def test_critical_rule_pages_warning_rule_does_not(
    tmp_path: Path, receivers: tuple[Receiver, Receiver]
) -> None:
    sms, hook = receivers
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    _oncall(db, sms, hook)
    put_rule(db, Rule.model_validate({
        "name": "train-failed", "pattern": FAILED, "severity": "CRITICAL",
        "targets": [{"topic": "oncall", "subject": "Training failed",
                     "input_transformer": {
                         "InputPathsMap": {"job": "$.detail.TrainingJobName",
                                           "why": "$.detail.FailureReason"},
                         "InputTemplate":
                             "job <job> failed: <why> (rule <aws.events.rule-name>)"}}],
    }))  # fmt: skip
    put_rule(db, Rule.model_validate({
        "name": "train-failed-fyi", "pattern": FAILED, "targets": [{"topic": "oncall"}],
    }))  # warning, the default
    event = _event(db, "churn-train")
    _event(db, "churn-train", "Completed")  # matches neither rule
    outbox = make_outbox(db)
    runs = dispatch_pending(db, "t", publish=topic_publisher(db, outbox))
    assert sorted((r.rule, r.status) for r in runs) == [
        ("train-failed", "Succeeded"), ("train-failed-fyi", "Succeeded")]
    outputs = {r.rule: r.output for r in runs}
    # the critical one: SMS (min_severity high) + webhook (filter critical); the warning: none
    assert outputs["train-failed"]["deliveries"] == 2
    assert outputs["train-failed-fyi"]["deliveries"] == 0
    outbox.deliver_due(dt.datetime.now(dt.timezone.utc))
    [text] = [parse_qs(r["body"].decode())["Body"][0] for r in sms.requests]
    assert text.startswith("[CRITICAL] Training failed")
    assert "job churn-train failed: OOM (rule train-failed)" in text
    [body] = [json.loads(r["body"]) for r in hook.requests]
    assert body["attributes"]["severity"] == "critical"
    assert body["attributes"]["rule"] == "train-failed"
    assert body["message"] == "job churn-train failed: OOM (rule train-failed)"
    assert body["id"] == outputs["train-failed"]["message_id"]
    # the run is recorded like the other targets: type, event, input, output
    [run_id] = [r.id for r in runs if r.rule == "train-failed"]
    run = get_run(db, run_id)
    assert run.target_type == "topic" and run.event_id == event.id
    [attempt] = list_attempts(db, run.id)
    assert attempt.status == "Succeeded" and attempt.output == run.output
    assert dispatch_pending(db, "t", publish=topic_publisher(db, outbox)) == []


def test_no_publisher_or_unknown_topic_fails_the_run_clearly(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    rule = Rule(name="r", pattern={}, targets=[TopicTarget(topic="oncall")])
    [run] = dispatch(db, {"id": "e1", "detail": {}}, [rule])
    assert run.status == "Failed" and run.error == "Vigil.NoPublisher"
    assert "no publisher is configured" in (run.cause or "")
    [run] = dispatch(db, {"id": "e2", "detail": {}}, [rule],
                     publish=topic_publisher(db, make_outbox(db)))
    assert run.status == "Failed" and run.error == "Vigil.PublishFailed"
    assert "no topic named 'oncall'" in (run.cause or "")


def test_workflow_step_publishes_with_the_rule_severity(
    tmp_path: Path, receivers: tuple[Receiver, Receiver]
) -> None:
    sms, hook = receivers
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    _oncall(db, sms, hook)
    wf = Workflow(name="triage", steps=[
        Step(name="shape", target={"entry_point": "json:dumps"}),
        Step(name="page", target={"topic": "oncall"}),
    ])  # fmt: skip
    rule = Rule(name="triage-on-failure", pattern=FAILED, severity="critical",
                targets=[{"workflow": "triage"}])
    outbox = make_outbox(db)
    runner = Runner(db, {"triage": wf}, publish=topic_publisher(db, outbox))
    event = {"id": "e-wf", "source": "aws.sagemaker", "detail-type": "x",
             "detail": {"TrainingJobStatus": "Failed"}}
    [run] = dispatch(db, event, [rule], runner=runner)
    assert run.status == "Succeeded", run.cause
    assert run.output["deliveries"] == 2  # critical: the SMS and the filtered webhook
    outbox.deliver_due(dt.datetime.now(dt.timezone.utc))
    [body] = [json.loads(r["body"]) for r in hook.requests]
    # the step's input (the previous step's output: a string) is the body, as it is
    assert body["message"] == json.dumps(event)
    assert body["attributes"]["severity"] == "critical"


def test_rule_with_topic_applies_from_yaml_and_exports_back(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings)
    text = (
        "topics: [{name: oncall}]\n"
        "rules:\n"
        "  - name: pipeline-broke\n"
        "    severity: high\n"
        "    pattern: {source: [aws.codepipeline], detail: {state: [FAILED]}}\n"
        "    targets:\n"
        "      - topic: oncall\n"
        "        subject: Pipeline broke\n"
        "        input_path: $.detail\n"
    )
    apply_config(settings, db, parse_config(text))
    exported = current_config(db, secrets="export")
    [rule] = exported.rules
    assert rule.severity == "high"
    [target] = rule.targets
    assert (target.type, target.topic, target.subject, target.input_path) == (
        "topic", "oncall", "Pipeline broke", "$.detail")
    again = parse_config(dump_config(exported))
    assert again.rules[0].model_dump() == rule.model_dump()
    bad = text.replace("topic: oncall", "topic: nobody")
    with pytest.raises(ConfigError, match="targets\\[0\\]: no topic named 'nobody'"):
        apply_config(settings, db, parse_config(bad))


def test_live_server_rule_over_api_event_over_putevents(tmp_path: Path) -> None:
    hook = Receiver()
    data = tmp_path / "data"
    db = open_database(Settings(data_dir=data))
    writer, ingest = create_token(db, "w", "write"), create_token(db, "i", "ingest")
    db.engine.dispose()
    port = free_port()
    env = {**os.environ, "VIGIL_OUTBOUND_ALLOW": "127.0.0.1/32",
           "VIGIL_SELF_METRICS_INTERVAL": "0"}
    server = start_vigil_server(data, port, env)
    try:
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10)
        as_writer = {"Authorization": f"Bearer {writer}"}
        rule = {"name": "deploy-failed", "severity": "critical",
                "pattern": {"source": ["com.acme.deploy"], "detail": {"status": ["FAILED"]}},
                "targets": [{"topic": "oncall"}]}
        r = api.post("/rules", json=rule, headers=as_writer)
        assert r.status_code == 422 and "no topic named 'oncall'" in r.text
        assert api.post("/topics", json={"name": "oncall"}, headers=as_writer).is_success
        r = api.post("/topics/oncall/subscriptions", headers=as_writer,
                     json={"protocol": "webhook", "config": {"url": hook.url}})
        assert r.is_success, r.text
        assert api.post("/rules", json=rule, headers=as_writer).status_code == 201
        listed = api.get("/rules", headers=as_writer).json()
        assert listed["rules"][0]["targets"] == [{"type": "topic", "topic": "oncall",
                                                  "subject": None, "severity": None}]
        r = api.post("/events", headers={"Authorization": f"Bearer {ingest}"}, json={"Entries": [
            {"Source": "com.acme.deploy", "DetailType": "Deploy",
             "Detail": json.dumps({"status": "FAILED", "service": "churn"})}]})
        assert r.json()["FailedEntryCount"] == 0
        deadline = time.monotonic() + 15
        while not hook.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        [got] = [json.loads(x["body"]) for x in hook.requests]
        assert got["attributes"]["severity"] == "critical"
        assert got["subject"] == "[CRITICAL] Deploy"
        assert json.loads(got["message"]) == {"service": "churn", "status": "FAILED"}
    finally:
        server.terminate()
        server.wait(15)
        hook.stop()
