"""Notifications that link and explain: the dashboard links (alarm, execution, report) from
the public URL, a summary of which features drifted and by how much, and the platform events
of the hours before the finding, through a real pipeline (executions over drifting captures,
alarms evaluated, the durable outbox delivering to a loopback webhook and a real SMTP
server); then the summary builder, the context in each channel and the baseline events."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from conftest import sagemaker_columns
from live_server import free_port
from test_alarm_service import _hour, drift_alarm
from test_grouping import _alarm
from test_runtime import cli, config_file
from vigil.alerts.delivery import alertmanager_alerts, pagerduty_event, slack_body
from vigil.alerts.delivery.chat import chat_body
from vigil.alerts.delivery.sms import sms_body
from vigil.alerts.delivery.teams import teams_body
from vigil.alerts.notify import (
    execution_summary,
    feature_drifts,
    flush_groups,
    make_outbox,
    message_for,
    metric_summary,
    notify_transitions,
    put_topic,
    subscribe,
    with_context,
)
from vigil.alerts.notify.context import NoticeContext
from vigil.alerts.service import Transition, put_alarm
from vigil.app.bootstrap import open_database
from vigil.app.catalog import register_baseline
from vigil.app.config import BaselineSpec
from vigil.app.context_events import what_changed
from vigil.app.event_queries import EventFilter, list_events
from vigil.app.events import EventBus
from vigil.app.notice_context import NoticeBuilder, dashboard_links
from vigil.app.scheduler import alarms_and_notifications
from vigil.metrics import contract as mc
from vigil.monitor.runner import run_scheduled
from vigil.monitor.runtime import Runtime
from vigil.store.executions import list_executions
from vigil.store.metrics import MetricStore
from vigil.store.settings import Settings

T0 = datetime(2024, 5, 1, 0, tzinfo=timezone.utc)
PUBLIC = "https://vigil.example.com/ml"
ALARM = "links drift c0"  # a space: the link must encode it
TOPIC = "notify-links-team"
#: the drifting hour's alarm evaluation (as test_alerting_e2e: hour h is evaluated at +2h05)
FINDING = T0 + timedelta(hours=3, minutes=5)


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _receiver(bodies: list[dict[str, Any]]) -> ThreadingHTTPServer:
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _deployment(version: str, at: datetime) -> dict[str, Any]:
    return {
        "Source": "ci.deploy", "DetailType": "Deployment",
        "Time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Detail": json.dumps({"model": "churn", "version": version, "environment": "prod"}),
    }


@dataclass
class Run:
    rt: Runtime
    hooks: list[dict[str, Any]]
    mails: list[Any]
    events: dict[str, str] = field(default_factory=dict)  # version -> event id


def _pipeline(tmp_path: Path, sagemaker_dir: Path, monkeypatch: Any, public: str | None) -> Run:
    """Three hours (calm, drifting, calm) through the runtime and the alarm evaluation, with
    deployments 20 minutes and 7 hours before the drifting hour's finding and one after it."""
    mailbox = _Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    hooks: list[dict[str, Any]] = []
    http = _receiver(hooks)
    try:
        data = tmp_path / "data"
        assert cli(data, "apply", "-f", str(config_file(tmp_path, sagemaker_dir))).returncode == 0
        if public is None:
            monkeypatch.delenv("VIGIL_PUBLIC_URL", raising=False)
        else:
            monkeypatch.setenv("VIGIL_PUBLIC_URL", public + "/")  # a trailing slash is dropped
        settings = Settings.from_env(data)
        db = open_database(settings)
        rt = Runtime(settings=settings, db=db, metrics=MetricStore(db), owner="links")
        put_topic(db, TOPIC)
        subscribe(db, TOPIC, "email",
                  {"host": "127.0.0.1", "port": smtp.port, "from": "vigil@test", "to": ["ml@t"]})
        subscribe(db, TOPIC, "webhook", {"url": f"http://127.0.0.1:{http.server_port}/hook"})
        put_alarm(db, drift_alarm([TOPIC]).model_copy(update={"name": ALARM}))
        answer = EventBus(settings, db, rt.metrics).put_entries([
            _deployment("2", FINDING - timedelta(minutes=20)),
            _deployment("1", FINDING - timedelta(hours=7)),
            _deployment("3", FINDING + timedelta(minutes=10)),
        ])
        assert answer["FailedEntryCount"] == 0
        run = Run(rt, hooks, mailbox.messages)
        run.events = {v: e["EventId"] for v, e in zip("213", answer["Entries"])}
        outbox = make_outbox(db)
        cols = sagemaker_columns(sagemaker_dir)
        for h, shift in enumerate([0.0, 2.0, 0.0]):
            t = T0 + timedelta(hours=h)
            _hour(data / "capture", cols, t, shift)
            run_scheduled(rt, "hourly", t + timedelta(hours=1))
            alarms_and_notifications(rt, outbox, t + timedelta(hours=2, minutes=5))
            outbox.deliver_due(datetime.now(timezone.utc))
        assert outbox.list_dead_letters() == []
        return run
    finally:
        smtp.stop()
        http.shutdown()


def _firing(run: Run) -> tuple[dict[str, Any], Any]:
    """The ALARM notification as the webhook and the SMTP server received it."""
    [hook] = [b for b in run.hooks if b["payload"]["state"] == "ALARM"]
    [mail] = [m for m in run.mails if m["Subject"].endswith(f'ALARM: "{ALARM}" in vigil')]
    return hook, mail


def _text(mail: Any) -> str:
    """The email's text, its transfer encoding undone."""
    return mail.get_payload(decode=True).decode().replace("\r\n", "\n")


def _drifting_execution(rt: Runtime) -> Any:
    [ex] = [e for e in list_executions(rt.db, schedule="hourly")
            if e.window_start == T0 + timedelta(hours=1)]
    return ex


def test_alarm_notification_links_summarises_and_lists_changes(
    tmp_path: Path, sagemaker_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    run = _pipeline(tmp_path, sagemaker_dir, monkeypatch, PUBLIC)
    hook, mail = _firing(run)
    payload = hook["payload"]
    ex = _drifting_execution(run.rt)
    assert ex.status == "CompletedWithViolations"
    out = Path(ex.output_uri)
    assert (out / "report.html").is_file()
    # 1. the three links, on the public URL, the alarm's name encoded
    links = {
        "alarm": f"{PUBLIC}/alarms/links%20drift%20c0",
        "execution": f"{PUBLIC}/executions/{ex.id}",
        "report": f"{PUBLIC}/executions/{ex.id}/report",
    }
    assert payload["links"] == links
    assert payload["generator_url"] == links["alarm"]
    assert payload["execution"]["id"] == ex.id
    # 2. the summary names the drifting features with the execution's own figures
    violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
    drifting = [v["feature_name"] for v in violations
                if v["constraint_check_type"] == "baseline_drift_check"]
    assert "_c0" in drifting
    features = len(json.loads((out / "statistics.json").read_text())["features"])
    assert [f["feature"] for f in payload["findings"]] == drifting
    threshold = json.loads((tmp_path / "baseline" / "constraints.json").read_text())[
        "monitoring_config"]["distribution_constraints"]["comparison_threshold"]
    for finding in payload["findings"]:
        [point] = run.rt.metrics.query(
            mc.DATA_QUALITY_NAMESPACE, mc.feature_baseline_drift(finding["feature"]),
            mc.schedule_dimensions("churn", "hourly"), ex.window_start,
            ex.window_start + timedelta(hours=1), 3600, ["Maximum"],
        )
        assert finding["value"] == point["Maximum"]  # the figure the execution wrote
        assert finding["threshold"] == threshold
        assert f"{finding['feature']} (distance {finding['value']:.2f} > {threshold:.2f})" in (
            payload["summary"])
    noun = "feature" if features == 1 else "features"
    assert payload["summary"].startswith(f"Drift in {len(drifting)} of {features} {noun}: ")
    # 3. what changed: the deployment 20 minutes before; not the one 7 h before, nor after
    ids = [c["event_id"] for c in payload["changes"]]
    assert run.events["2"] in ids
    assert run.events["1"] not in ids and run.events["3"] not in ids
    [deploy] = [c for c in payload["changes"] if c["event_id"] == run.events["2"]]
    assert deploy["source"] == "ci.deploy" and "version 2" in deploy["summary"]
    assert deploy["time"] == (FINDING - timedelta(minutes=20)).isoformat()
    # the webhook's text and the email body carry the same, links included
    body = _text(mail)
    for text in (hook["message"], body):
        assert payload["summary"] in text
        for url in links.values():
            assert url in text
        assert "What changed in the 6 hours before:" in text
        assert "ci.deploy: Deployment: model churn, version 2, environment prod" in text
    assert body.index(payload["summary"]) < body.index("Threshold Crossed")
    # the resolve links to the calm execution that cleared it
    [ok] = [b for b in run.hooks if b["payload"]["state"] == "OK"]
    [calm] = [e for e in list_executions(run.rt.db, schedule="hourly")
              if e.window_start == T0 + timedelta(hours=2)]
    assert ok["payload"]["links"]["execution"] == f"{PUBLIC}/executions/{calm.id}"
    assert ok["payload"]["summary"].startswith("feature_baseline_drift__c0 (Maximum) ")
    # an execution's completion event (a rule's topic target) explains itself the same way
    completed = [e for e in list_events(run.rt.db, EventFilter(kind="execution_completed")).events
                 if e["detail"]["execution_id"] == ex.id]
    context = NoticeBuilder(run.rt.settings, run.rt.db).event(completed[0])
    assert context is not None
    assert context.links == {"execution": links["execution"], "report": links["report"]}
    assert context.summary == payload["summary"]


def test_without_a_public_url_no_links(
    tmp_path: Path, sagemaker_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    run = _pipeline(tmp_path, sagemaker_dir, monkeypatch, None)
    hook, mail = _firing(run)
    payload = hook["payload"]
    assert "links" not in payload and "generator_url" not in payload
    assert "http" not in hook["message"] and "http" not in _text(mail)
    assert payload["summary"].startswith("Drift in ")  # the summary and changes still come
    assert run.events["2"] in [c["event_id"] for c in payload["changes"]]


# -- the summary builder ----------------------------------------------------------------------


def _drift(feature: str, description: str) -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": "baseline_drift_check",
            "description": description}


def test_feature_drifts_read_every_wording_exactly():
    found = feature_drifts([
        _drift("a", "Numerical distance: 0.41234567890123 exceeds numerical threshold: 0.1"),
        _drift("b", "Categorical distance: 0.7 exceeds categorical threshold: 0.25"),
        _drift("c", "Numerical ks p-value: 1.5e-07 is below threshold: 0.05"),
        _drift("d", "Numerical psi distance: 0.3 exceeds threshold: 0.2"),
        _drift("e", "something else entirely"),
        {"feature_name": "f", "constraint_check_type": "completeness_check",
         "description": "Value: 0.5 does not meet the constraint requirement!"},
    ])
    assert [(d.feature, d.measure, d.method, d.value, d.threshold) for d in found] == [
        ("a", "distance", None, 0.41234567890123, 0.1),
        ("b", "distance", None, 0.7, 0.25),
        ("c", "p-value", "ks", 1.5e-07, 0.05),
        ("d", "distance", "psi", 0.3, 0.2),
    ]


def test_execution_summary_lines():
    drifts = [
        _drift("mean radius", "Numerical distance: 0.41 exceeds numerical threshold: 0.1"),
        _drift("mean texture", "Numerical ks p-value: 0.0012 is below threshold: 0.05"),
    ]
    assert execution_summary(drifts, features=5) == (
        "Drift in 2 of 5 features: mean radius (distance 0.41 > 0.10), "
        "mean texture (ks p-value 0.0012 < 0.05)"
    )
    other = {"feature_name": "age", "constraint_check_type": "completeness_check",
             "description": "Value: 0.5 does not meet the constraint requirement!"}
    assert execution_summary([*drifts[:1], other]) == (
        "Drift in 1 feature: mean radius (distance 0.41 > 0.10); "
        "1 other violation: completeness_check (age)"
    )
    assert execution_summary([other]) == "1 other violation: completeness_check (age)"
    assert execution_summary([], features=5) == ""
    many = [_drift(f"f{i}", f"Numerical distance: 0.{i + 2} exceeds numerical threshold: 0.1")
            for i in range(7)]
    assert execution_summary(many, 9).endswith("f4 (distance 0.60 > 0.10) and 2 more")


def test_metric_summary_against_the_threshold():
    assert metric_summary("5xx", "Average", "GreaterThanThreshold", 0.2, 0.05, "ALARM") == (
        "5xx (Average) 0.20 > 0.05")
    assert metric_summary("5xx", "Average", "GreaterThanThreshold", 0.01, 0.05, "OK") == (
        "5xx (Average) 0.01, alarm when > 0.05")
    assert metric_summary("lat", "p99", "LessThanLowerOrGreaterThanUpperThreshold", 9.0, None,
                          "ALARM") == "lat (p99) 9 (LessThanLowerOrGreaterThanUpperThreshold)"
    assert metric_summary("x", "Sum", "GreaterThanThreshold", None, 1.0, "ALARM") == ""


# -- the context in the message and in each channel -------------------------------------------

LINKS = {"alarm": f"{PUBLIC}/alarms/a", "execution": f"{PUBLIC}/executions/e1",
         "report": f"{PUBLIC}/executions/e1/report"}
CONTEXT = NoticeContext(
    links=LINKS, summary="Drift in 1 of 3 features: x (distance 0.50 > 0.10)",
    changes=({"time": "2024-05-01T02:40:00+00:00", "source": "ci.deploy",
              "summary": "Deployment: model m, version 2", "event_id": "ev-1"},),
)


def _transition(state: str = "ALARM") -> Transition:
    return Transition("a", "OK", state, "Threshold Crossed: 1 datapoint", {}, ["t"], T0)


def test_message_for_keeps_its_body_without_a_context_and_orders_it_with_one():
    plain = message_for(_transition(), "t")
    assert plain.body == "Alarm a changed from OK to ALARM.\n\nThreshold Crossed: 1 datapoint"
    assert "links" not in plain.payload and "changes" not in plain.payload
    rich = message_for(_transition(), "t", context=CONTEXT)
    assert rich.subject == plain.subject and rich.id != ""
    assert rich.body.split("\n\n") == [
        "Alarm a changed from OK to ALARM.",
        CONTEXT.summary,
        "\n".join(f"{k.title()}: {v}" for k, v in LINKS.items()),
        "Threshold Crossed: 1 datapoint",
        "What changed in the 6 hours before:\n"
        "- 2024-05-01 02:40 UTC ci.deploy: Deployment: model m, version 2",
    ]
    assert rich.payload["links"] == LINKS and rich.payload["changes"][0]["event_id"] == "ev-1"
    empty = with_context(plain, NoticeContext())
    assert empty.body == plain.body and empty.payload["changes"] == []


def test_every_channel_carries_the_links():
    m = message_for(_transition(), "t", context=CONTEXT)
    blocks = slack_body(m, {})["blocks"]
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [(e["text"]["text"], e["url"]) for e in actions["elements"]] == [
        ("Open alarm", LINKS["alarm"]), ("Open execution", LINKS["execution"]),
        ("Open report", LINKS["report"])]
    card = teams_body(m, {})["attachments"][0]["content"]
    assert [a["url"] for a in card["actions"]] == list(LINKS.values())
    legacy = teams_body(m, {"format": "messagecard"})
    assert [a["targets"][0]["uri"] for a in legacy["potentialAction"]] == list(LINKS.values())
    page = pagerduty_event(m, {"routing_key": "R"})
    assert [link["href"] for link in page["links"]] == list(LINKS.values())
    assert page["payload"]["custom_details"]["summary"] == CONTEXT.summary
    [alert] = alertmanager_alerts(m, {"url": "http://am"})
    assert alert["generatorURL"] == LINKS["alarm"]
    assert alert["annotations"]["report_url"] == LINKS["report"]
    doc = chat_body(m, {"template": {"t": "{summary} {alarm_url} {report_url}"}})
    assert doc == {"t": f"{CONTEXT.summary} {LINKS['alarm']} {LINKS['report']}"}
    assert LINKS["alarm"] in sms_body(m)
    # without links: no buttons, the old "Open in Vigil" absent, empty chat fields
    bare = message_for(_transition(), "t", context=NoticeContext(summary="s"))
    assert not [b for b in slack_body(bare, {})["blocks"] if b["type"] == "actions"]
    assert "actions" not in teams_body(bare, {})["attachments"][0]["content"]
    assert chat_body(bare, {"template": {"t": "[{alarm_url}]"}}) == {"t": "[]"}


def test_dashboard_links_encode_names_and_need_a_public_url():
    assert dashboard_links(PUBLIC + "/", alarm="a b/c") == {
        "alarm": f"{PUBLIC}/alarms/a%20b%2Fc"}
    assert dashboard_links("", alarm="a") == {}


# -- what changed: deployments and baseline changes ---------------------------------------------


def test_what_changed_lists_baseline_changes_and_deployments(tmp_path: Path, sagemaker_dir: Path):
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings)
    base = tmp_path / "base"
    base.mkdir()
    for name in ("statistics", "constraints"):
        (base / f"{name}.json").write_bytes(
            (sagemaker_dir / f"data_quality_{name}.json").read_bytes())
    register_baseline(settings, db, BaselineSpec(name="links-base", path=str(base)))
    register_baseline(settings, db, BaselineSpec(name="links-base", path=str(base)))
    now = datetime.now(timezone.utc)
    EventBus(settings, db, MetricStore(db)).put_entries(
        [_deployment("9", now - timedelta(minutes=5))])
    changes = what_changed(db, now + timedelta(seconds=1))
    baseline = [c for c in changes if c.detail_type == "Vigil Baseline Changed"]
    assert [c.summary.split(": ", 1)[1].split(" from ")[0] for c in baseline] == [
        "baseline links-base replaced", "baseline links-base registered"]
    assert baseline[0].resources == ("vigil:baseline/links-base",)
    [deploy] = [c for c in changes if c.source == "ci.deploy"]
    assert deploy.summary == "Deployment: model churn, version 9, environment prod"
    assert what_changed(db, now - timedelta(hours=1)) == []  # all after that finding


def test_a_failing_explainer_costs_only_the_context():
    """The notifier queues the plain message when the application's explainer raises."""
    from vigil.alerts.notify.transitions import _Contexts

    def broken(t: Transition) -> NoticeContext:
        raise RuntimeError("no database")

    contexts = _Contexts(broken)
    assert contexts(_transition()) is None
    assert message_for(_transition(), "t", context=contexts(_transition())).body == (
        message_for(_transition(), "t").body)


def test_a_grouped_notification_carries_each_alarms_summary_and_link(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, public_url=PUBLIC)
    db = open_database(settings)
    put_topic(db, "team", {"group_by": ["Endpoint"], "group_wait": 0})
    subscribe(db, "team", "webhook", {"url": "http://127.0.0.1:9/x"}, id="links-hook")
    put_alarm(db, _alarm("links-grouped"))
    outbox = make_outbox(db)
    data = {"period": 60, "threshold": 1.0,
            "evaluatedDatapoints": [{"timestamp": "2024-05-01T00:00:00+00:00", "value": 3.0}]}
    t = Transition("links-grouped", "OK", "ALARM", "crossed", data, ["team"], T0)
    notify_transitions(db, outbox, [t], T0, NoticeBuilder(settings, db))
    assert flush_groups(db, outbox, T0 + timedelta(seconds=1)) == 1
    message = outbox.store.list()[-1].payload["message"]
    [alert] = message["payload"]["alerts"]
    assert alert["links"] == {"alarm": f"{PUBLIC}/alarms/links-grouped"}
    assert alert["summary"] == "links-grouped (Maximum) 3 > 1"  # no execution: the figure
    assert f"  alarm: {PUBLIC}/alarms/links-grouped" in message["body"]
