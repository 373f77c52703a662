"""SMS (Twilio's Messages API shape), Microsoft Teams and generic chat webhooks, delivered to
real loopback HTTP receivers that check the exact requests; their secrets sealed at rest."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from notify_receiver import Receiver
from vigil.alerts.delivery import (
    ChatChannel,
    Message,
    Outbox,
    SmsChannel,
    Subscription,
    TeamsChannel,
)
from vigil.alerts.delivery.store import MemoryOutboxStore
from vigil.alerts.notify import put_topic, subscribe, subscriptions_of
from vigil.app.secrets import redact
from vigil.errors import ConfigError
from vigil.store.db import Database
from vigil.store.models import SubscriptionRecord

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "tok-5f2a9c"
CREATED = json.dumps({"sid": "SM1", "status": "queued", "error_code": None}).encode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def _message(**kw: object) -> Message:
    base: dict[str, object] = dict(
        topic="oncall", subject='[CRITICAL] ALARM: "churn-5xx-errors" in vigil',
        body="Alarm churn-5xx-errors changed from OK to ALARM.\n\nThreshold Crossed: 3 out of "
             "the last 5 datapoints [0.2, 0.3, 0.25] were greater than the threshold (0.05)",
        attributes={"severity": "critical", "alarm": "churn-5xx-errors", "state": "ALARM"},
        payload={"alarm": "churn-5xx-errors", "state": "ALARM", "status": "firing",
                 "generator_url": "http://vigil.example/alarms/churn-5xx-errors"},
        created_at=T0,
    )
    base.update(kw)
    return Message(**base)  # type: ignore[arg-type]


def _sms_config(receiver: Receiver, **kw: object) -> dict[str, object]:
    return {"account_sid": SID, "auth_token": TOKEN, "to": "+15558675310",
            "from": "+15017122661", "base_url": receiver.url, **kw}


def test_sms_request_has_twilios_shape(receiver: Receiver) -> None:
    receiver.script = [(201, CREATED)]
    with SmsChannel() as channel:
        result = channel.send(_message(), _sms_config(receiver))
    assert result.ok and result.status == 201
    [req] = receiver.requests
    assert req["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    scheme, _, blob = req["headers"]["Authorization"].partition(" ")
    assert scheme == "Basic" and base64.b64decode(blob).decode() == f"{SID}:{TOKEN}"
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(req["body"].decode(), strict_parsing=True)
    assert set(form) == {"To", "From", "Body"}
    assert form["To"] == ["+15558675310"] and form["From"] == ["+15017122661"]
    body = form["Body"][0]
    assert body.startswith('[CRITICAL] ALARM: "churn-5xx-errors" in vigil\n')
    assert "greater than the threshold (0.05)" in body and "\n\n" not in body


def test_sms_messaging_service_and_long_body_trimmed(receiver: Receiver) -> None:
    receiver.script = [(201, CREATED)]
    long = _message(body="é🚨 " * 2000)  # non-GSM text: Twilio counts UTF-16 code units
    config = _sms_config(receiver, messaging_service_sid="MG9752274e9e519418a7406176694466fa")
    del config["from"]
    with SmsChannel() as channel:
        assert channel.send(long, config).ok
    form = parse_qs(receiver.requests[0]["body"].decode())
    assert set(form) == {"To", "MessagingServiceSid", "Body"}
    body = form["Body"][0]
    assert len(body.encode("utf-16-le")) // 2 <= 1600 and body.endswith("…")


def test_sms_4xx_dead_letters_with_twilios_error_and_5xx_429_retry(receiver: Receiver) -> None:
    error = {"code": 21211, "message": "The 'To' number +1555 is not a valid phone number.",
             "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}
    receiver.script = [(429, b'{"code": 20429, "message": "Too Many Requests"}'),
                       (503, b"busy"), (400, json.dumps(error).encode())]
    outbox = Outbox(MemoryOutboxStore(), {"sms": SmsChannel()})
    sub = Subscription(id="pager-sms", protocol="sms", config=_sms_config(receiver))
    outbox.enqueue(_message(), [sub], now=T0)
    first = outbox.deliver_due(T0)
    assert first.retrying == 1 and first.dead == 0  # 429: later
    later = T0 + dt.timedelta(minutes=1)
    assert outbox.deliver_due(later).retrying == 1  # 503: later
    assert outbox.deliver_due(later + dt.timedelta(minutes=1)).dead == 1  # 400: dead letter
    [dead] = outbox.list_dead_letters("pager-sms")
    reason = dead.last_error or ""
    assert "21211" in reason and "not a valid phone number" in reason
    assert "https://www.twilio.com/docs/errors/21211" in reason and "HTTP 400" in reason
    assert TOKEN not in reason


def test_sms_bad_settings_are_not_retried() -> None:
    with SmsChannel() as channel:
        result = channel.send(_message(), {"account_sid": SID, "auth_token": TOKEN, "to": "+1"})
    assert not result.ok and not result.retryable and "'from'" in (result.error or "")


def test_sms_outbound_policy_applies(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> None:
    monkeypatch.setenv("VIGIL_OUTBOUND_ALLOW", "")
    with SmsChannel() as channel:
        result = channel.send(_message(), _sms_config(receiver))
    assert receiver.requests == []
    assert not result.ok and result.retryable and "loopback" in (result.error or "")


def test_sms_token_is_sealed_at_rest_and_redacted(tmp_path: Path, receiver: Receiver) -> None:
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    put_topic(db, "oncall")
    subscribe(db, "oncall", "sms", _sms_config(receiver), id="pager-sms")
    with db.session() as s:
        row = s.scalars(select(SubscriptionRecord)).one()
        assert TOKEN not in json.dumps(row.config) and row.config["to"] == "+15558675310"
    [sub] = subscriptions_of(db, "oncall")
    assert sub.config["auth_token"] == TOKEN  # opened for delivery
    shown = redact("sms", dict(sub.config))
    assert shown["auth_token"] == "***" and shown["account_sid"] == SID


def test_teams_adaptive_card_exact_json(receiver: Receiver) -> None:
    receiver.script = [(202, b"")]
    with TeamsChannel() as channel:
        assert channel.send(_message(id="m-1"), {"url": receiver.url + "/workflows/x"}).ok
    doc = json.loads(receiver.requests[0]["body"])
    assert doc == {
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": None,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": [
                    {"type": "Container", "style": "attention", "bleed": True, "items": [
                        {"type": "TextBlock",
                         "text": '[CRITICAL] ALARM: "churn-5xx-errors" in vigil',
                         "size": "Large", "weight": "Bolder", "wrap": True,
                         "color": "Attention"}]},
                    {"type": "TextBlock", "text": _message().body, "wrap": True},
                    {"type": "FactSet", "facts": [
                        {"title": "Severity", "value": "critical"},
                        {"title": "State", "value": "ALARM"},
                        {"title": "Topic", "value": "oncall"},
                        {"title": "Alarm", "value": "churn-5xx-errors"},
                        {"title": "Time", "value": "2024-05-01 12:00:00 UTC"},
                        {"title": "Message id", "value": "m-1"}]},
                ],
                "actions": [{"type": "Action.OpenUrl", "title": "Open in Vigil",
                             "url": "http://vigil.example/alarms/churn-5xx-errors"}],
            },
        }],
    }


def test_teams_resolved_is_green_and_legacy_messagecard(receiver: Receiver) -> None:
    resolved = _message(payload={"alarm": "a", "state": "OK", "status": "resolved"},
                        attributes={"severity": "warning"})
    with TeamsChannel() as channel:
        assert channel.send(resolved, {"url": receiver.url}).ok
        assert channel.send(resolved, {"url": receiver.url, "format": "messagecard"}).ok
        bad = channel.send(resolved, {"url": receiver.url, "format": "html"})
    card = json.loads(receiver.requests[0]["body"])["attachments"][0]["content"]
    assert card["body"][0]["style"] == "good"
    legacy = json.loads(receiver.requests[1]["body"])
    assert legacy["@type"] == "MessageCard" and legacy["themeColor"] == "2EB886"
    assert not bad.ok and not bad.retryable and "messagecard" in (bad.error or "")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"preset": "mattermost"}, {"text": 'S "quoted"}\nB'}),
        ({"preset": "discord"}, {"content": 'S "quoted"}\nB'}),
        ({"template": {"cards": [{"header": "{severity}: {subject}", "id": "{id}"}],
                       "n": 2, "ok": True}},
         {"cards": [{"header": 'high: S "quoted"}', "id": "m-2"}], "n": 2, "ok": True}),
    ],
)
def test_chat_templates_exact_json(receiver: Receiver, config: dict, expected: dict) -> None:
    m = Message(topic="t", subject='S "quoted"}', body="B", id="m-2",
                attributes={"severity": "high"}, created_at=T0)
    with ChatChannel() as channel:
        assert channel.send(m, {"url": receiver.url, **config}).ok
    req = receiver.requests[0]
    assert req["headers"]["Content-Type"] == "application/json"
    assert json.loads(req["body"]) == expected  # the quote and brace stayed inside the string


def test_chat_discord_limit_and_unknown_fields_refused(tmp_path: Path) -> None:
    m = Message(topic="t", subject="s", body="x" * 5000, created_at=T0)
    from vigil.alerts.delivery import chat_body

    assert len(chat_body(m, {"preset": "discord"})["content"]) == 2000
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    put_topic(db, "chat")
    with pytest.raises(ConfigError, match=r"'\{body\}' names no known field"):
        subscribe(db, "chat", "chat", {"url": "http://x", "template": {"text": "{body}"}})
    with pytest.raises(ConfigError, match="preset: expected one of"):
        subscribe(db, "chat", "chat", {"url": "http://x", "preset": "irc"})
    with pytest.raises(ConfigError, match="min_severity: expected critical, high"):
        subscribe(db, "chat", "chat", {"url": "http://x"}, min_severity="urgent")
