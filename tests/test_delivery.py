"""Notification delivery against real receivers on loopback: HTTP servers, an aiosmtpd SMTP
server (plain, AUTH LOGIN, STARTTLS and implicit TLS with a certificate made here) and a real
Prometheus Alertmanager; the outbox over SQLite across a restart."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

import vigil.alerts.delivery as delivery
from vigil.alerts.delivery import (
    AlertmanagerChannel,
    EmailChannel,
    Message,
    Outbox,
    PagerDutyChannel,
    RetryPolicy,
    SlackChannel,
    SQLOutboxStore,
    Subscription,
    WebhookChannel,
    filter_matches,
    verify_signature,
)
from vigil.alerts.delivery.retry import EMAIL_DEFAULT, HTTP_DEFAULT
from vigil.alerts.delivery.store import MemoryOutboxStore
from vigil.errors import ConfigError
from vigil.store.db import Database

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- a recording HTTP receiver --------------------------------------------------------------


class Receiver:
    """A threaded HTTP server on 127.0.0.1 that records every request and answers with the
    next scripted status (then ``default``)."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[int] = []
        self.default = 200
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with owner.lock:
                    status = owner.script.pop(0) if owner.script else owner.default
                    owner.requests.append({"path": self.path, "headers": dict(self.headers),
                                           "body": body, "status": status})
                reply = b'{"status":"ok"}' if status < 300 else b'{"error":"nope"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def delivered(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if 200 <= r["status"] < 300]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def message() -> Message:
    return Message(
        topic="model-alarms",
        subject="ALARM: churn-drift",
        body="feature_baseline_drift_age = 0.41 > 0.2 for 3 of 3 datapoints",
        attributes={"severity": "critical", "endpoint": "churn-prod", "drift": 0.41},
        payload={"alarm": "churn-drift", "state": "ALARM", "value": 0.41},
        created_at=T0,
    )


# -- message and filter policies --------------------------------------------------------------


def test_filter_policy_semantics() -> None:
    attrs = {"severity": "critical", "endpoint": "churn-prod", "drift": 0.41, "tags": ["a", "b"]}
    assert filter_matches({"severity": ["error", "critical"]}, attrs)  # OR across values
    assert not filter_matches({"severity": ["critical"], "endpoint": ["x"]}, attrs)  # AND
    assert filter_matches({"drift": [0.41]}, attrs)
    assert not filter_matches({"drift": ["0.41"]}, attrs)  # a string never equals a number
    assert filter_matches({"endpoint": [{"prefix": "churn-"}]}, attrs)
    assert not filter_matches({"endpoint": [{"anything-but": ["churn-prod"]}]}, attrs)
    assert filter_matches({"endpoint": [{"anything-but": {"prefix": "fraud"}}]}, attrs)
    assert not filter_matches({"missing": [{"anything-but": ["x"]}]}, attrs)
    assert filter_matches({"drift": [{"numeric": [">", 0.2, "<=", 1]}]}, attrs)
    assert not filter_matches({"drift": [{"numeric": ["<", 0.2]}]}, attrs)
    assert filter_matches({"drift": [{"numeric": ["=", 0.41]}]}, attrs)
    assert filter_matches({"tags": ["b"]}, attrs)
    assert filter_matches({"endpoint": [{"exists": True}], "runbook": [{"exists": False}]}, attrs)
    assert not filter_matches({"runbook": [{"exists": True}]}, attrs)
    assert filter_matches({}, attrs) and filter_matches(None, {})
    with pytest.raises(ConfigError, match="numeric"):
        filter_matches({"drift": [{"numeric": [">"]}]}, attrs)


def test_message_round_trip_and_resolved(message: Message) -> None:
    again = Message.from_dict(json.loads(json.dumps(message.to_dict())))
    assert again == message
    assert not message.resolved
    assert Message(topic="t", subject="s", body="b", payload={"state": "OK"}).resolved
    assert Message(topic="t", subject="s", body="b").id != Message(topic="t", subject="s",
                                                                   body="b").id
    with pytest.raises(ConfigError):
        Message(topic="t", subject="s", body="b", created_at=dt.datetime(2024, 1, 1))


# -- retry policies -----------------------------------------------------------------------------


def test_http_default_policy() -> None:
    assert HTTP_DEFAULT.delays() == [20.0, 20.0, 20.0]
    with pytest.raises(ConfigError, match="exceeds the limit of 3600"):
        RetryPolicy(num_retries=100, min_delay_target=20, max_delay_target=3599,
                    num_max_delay_retries=90)


def test_email_policy_matches_sns_smtp_row() -> None:
    # AWS: SMTP = 0 immediate, 2 retries 10 s apart, 10 exponential from 10 s to 600 s,
    # 38 retries 600 s apart: 50 attempts over 6 hours.
    d = EMAIL_DEFAULT.delays()
    assert len(d) == 50
    assert d[:2] == [10.0, 10.0]
    backoff = d[2:12]
    assert backoff[-1] == 600.0 and all(10 < x <= 600 for x in backoff)
    assert backoff == sorted(backoff)
    assert d[12:] == [600.0] * 38
    assert 6 * 3600 <= sum(d) < 7 * 3600


def test_aws_managed_row_and_phase_counts() -> None:
    # AWS's managed-endpoint row: 3 immediate, 2 at 1 s, 10 backoff 1 -> 20 s, then 20 s.
    p = RetryPolicy(num_retries=3 + 2 + 10 + 5, num_no_delay_retries=3, num_min_delay_retries=2,
                    num_max_delay_retries=5, min_delay_target=1, max_delay_target=20,
                    backoff_function="exponential")
    d = p.delays()
    assert d[:3] == [0.0] * 3 and d[3:5] == [1.0, 1.0] and d[15:] == [20.0] * 5
    assert d[14] == 20.0 and d[5] < 2


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        # n = 4 backoff retries from 2 s to 10 s, computed by hand from the module's formulas
        ("linear", [4.0, 6.0, 8.0, 10.0]),
        ("arithmetic", [2.8, 4.4, 6.8, 10.0]),  # 2 + 8 * i(i+1)/20
        ("exponential", [2.533, 3.6, 5.733, 10.0]),  # 2 + 8 * (2^i - 1)/15
        ("geometric", [2.991, 4.472, 6.687, 10.0]),  # 2 * 5^(i/4)
    ],
)
def test_backoff_functions(function: str, expected: list[float]) -> None:
    p = RetryPolicy(num_retries=4, min_delay_target=2, max_delay_target=10,
                    backoff_function=function)  # type: ignore[arg-type]
    assert p.delays() == expected


def test_retry_policy_validation_and_camel_case() -> None:
    p = RetryPolicy.from_dict({"numRetries": 5, "numNoDelayRetries": 1, "minDelayTarget": 1,
                               "maxDelayTarget": 4, "backoffFunction": "LINEAR"})
    assert p.delays() == [0.0, 1.75, 2.5, 3.25, 4.0]
    with pytest.raises(ConfigError, match="less than the sum"):
        RetryPolicy(num_retries=1, num_min_delay_retries=2)
    with pytest.raises(ConfigError, match="backoff_function"):
        RetryPolicy(backoff_function="cubic")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="min_delay_target"):
        RetryPolicy(min_delay_target=30, max_delay_target=20)
    jittered = RetryPolicy(jitter=0.5)
    assert all(10 <= (jittered.next_delay(0) or 0) <= 20 for _ in range(50))


# -- HTTP channels -------------------------------------------------------------------------------


def test_webhook_signed_payload(receiver: Receiver, message: Message) -> None:
    with WebhookChannel() as ch:
        result = ch.send(message, {"url": receiver.url + "/hook", "secret": "s3cret",
                                   "headers": {"X-Team": "ml"}})
    assert result.ok and result.status == 200
    [req] = receiver.requests
    h = {k.lower(): v for k, v in req["headers"].items()}
    assert h["x-vigil-message-id"] == message.id and h["x-team"] == "ml"
    assert verify_signature("s3cret", h["x-vigil-timestamp"], req["body"], h["x-vigil-signature"])
    assert not verify_signature("other", h["x-vigil-timestamp"], req["body"],
                                h["x-vigil-signature"])
    assert not verify_signature("s3cret", h["x-vigil-timestamp"], req["body"] + b" ",
                                h["x-vigil-signature"])
    assert not verify_signature("s3cret", h["x-vigil-timestamp"], req["body"],
                                h["x-vigil-signature"], now=time.time() + 3600)
    doc = json.loads(req["body"])
    assert {"id", "topic", "subject", "message", "attributes", "timestamp", "payload"} <= set(doc)
    assert doc["id"] == message.id and doc["message"] == message.body
    assert doc["attributes"]["drift"] == 0.41 and doc["payload"]["alarm"] == "churn-drift"
    assert doc["timestamp"] == "2024-05-01T12:00:00+00:00"


def test_webhook_without_secret_has_no_signature(receiver: Receiver, message: Message) -> None:
    with WebhookChannel() as ch:
        assert ch.send(message, {"url": receiver.url}).ok
    assert "X-Vigil-Signature" not in receiver.requests[0]["headers"]


@pytest.mark.parametrize(
    ("status", "ok", "retryable"),
    [(200, True, False), (204, True, False), (429, False, True), (500, False, True),
     (503, False, True), (400, False, False), (404, False, False), (410, False, False)],
)
def test_http_status_rules(receiver: Receiver, message: Message, status: int, ok: bool,
                           retryable: bool) -> None:
    receiver.default = status
    with SlackChannel() as ch:
        result = ch.send(message, {"url": receiver.url})
    assert (result.ok, result.retryable, result.status) == (ok, retryable, status)
    assert ok or (result.error or "").startswith(f"HTTP {status}")


def test_connection_refused_is_retryable(message: Message) -> None:
    with WebhookChannel() as ch:
        result = ch.send(message, {"url": f"http://127.0.0.1:{free_port()}/hook"})
    assert not result.ok and result.retryable and result.status is None
    assert "ConnectError" in (result.error or "")
    with WebhookChannel() as ch:
        missing = ch.send(message, {})
    assert not missing.ok and not missing.retryable and "'url'" in (missing.error or "")


def test_slack_payload(receiver: Receiver, message: Message) -> None:
    with SlackChannel() as ch:
        assert ch.send(message, {"url": receiver.url + "/services/T/B/X",
                                 "channel": "#ml-alerts"}).ok
    doc = json.loads(receiver.requests[0]["body"])
    assert receiver.requests[0]["path"] == "/services/T/B/X"
    assert doc["text"].startswith("*ALARM: churn-drift*") and doc["channel"] == "#ml-alerts"
    header, section, context = doc["blocks"]
    assert header["type"] == "header" and header["text"]["text"] == message.subject
    assert section["text"] == {"type": "mrkdwn", "text": message.body}
    assert message.id in context["elements"][0]["text"]


def test_pagerduty_trigger_and_resolve(receiver: Receiver, message: Message) -> None:
    receiver.default = 202
    cfg = {"routing_key": "R0UTING", "url": receiver.url + "/v2/enqueue", "source": "vigil-test"}
    resolved = Message(topic=message.topic, subject="OK: churn-drift", body="back to normal",
                       payload={"alarm": "churn-drift", "state": "OK"})
    with PagerDutyChannel() as ch:
        assert ch.send(message, cfg).ok
        assert ch.send(resolved, cfg).ok
        assert not ch.send(message, {"url": receiver.url}).ok  # no routing key: not retryable
    trigger, resolve = (json.loads(r["body"]) for r in receiver.requests)
    assert trigger["routing_key"] == "R0UTING" and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == resolve["dedup_key"] == "model-alarms/churn-drift"
    p = trigger["payload"]
    assert p["summary"] == message.subject and p["source"] == "vigil-test"
    assert p["severity"] == "critical" and p["timestamp"] == "2024-05-01T12:00:00+00:00"
    assert p["custom_details"]["message_id"] == message.id
    assert resolve["event_action"] == "resolve" and "payload" not in resolve
    assert delivery.EVENTS_URL == "https://events.pagerduty.com/v2/enqueue"


# -- Alertmanager (the real one) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not Path(ALERTMANAGER).exists():
        pytest.fail(f"{ALERTMANAGER} is missing: install Debian's prometheus-alertmanager")
    hook = Receiver()
    d = tmp_path_factory.mktemp("alertmanager")
    (d / "am.yml").write_text(
        "route:\n  receiver: hook\n  group_wait: 1s\n  group_interval: 1s\n"
        "  group_by: [alertname]\n"
        f"receivers:\n  - name: hook\n    webhook_configs:\n"
        f"      - url: {hook.url}/am\n        send_resolved: true\n"
    )
    port = free_port()
    proc = subprocess.Popen(
        [ALERTMANAGER, f"--config.file={d / 'am.yml'}", f"--storage.path={d / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=(d / "am.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url + "/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("alertmanager did not start: " + (d / "am.log").read_text()[-2000:])
            time.sleep(0.1)
        yield {"url": url, "hook": hook}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        hook.stop()


def _am_alerts(url: str, alertname: str, **params: str) -> list[dict[str, Any]]:
    r = httpx.get(url + "/api/v2/alerts", params={"filter": f'alertname="{alertname}"', **params})
    r.raise_for_status()
    return list(r.json())


def test_alertmanager_push_and_resolve(alertmanager: dict[str, Any], message: Message) -> None:
    url = alertmanager["url"]
    firing = Message(topic="model-alarms", subject="ALARM: churn-drift", body="drift 0.41",
                     attributes={"severity": "critical", "endpoint": "churn-prod"},
                     payload={"alarm": "ChurnDrift", "state": "ALARM",
                              "generator_url": "http://vigil.local/alarms/churn-drift"})
    with AlertmanagerChannel() as ch:
        result = ch.send(firing, {"url": url, "labels": {"team": "ml"}})
        assert result.ok, result
        [alert] = _am_alerts(url, "ChurnDrift")
        assert alert["labels"] == {"alertname": "ChurnDrift", "topic": "model-alarms",
                                   "severity": "critical", "endpoint": "churn-prod", "team": "ml"}
        assert alert["annotations"]["summary"] == "ALARM: churn-drift"
        assert alert["annotations"]["message_id"] == firing.id
        assert alert["status"]["state"] == "active"
        assert alert["generatorURL"] == "http://vigil.local/alarms/churn-drift"

        # Alertmanager's own webhook (version 4) tells its receiver about it.
        hook: Receiver = alertmanager["hook"]
        deadline = time.monotonic() + 10
        while not hook.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        notified = json.loads(hook.requests[0]["body"])
        assert notified["version"] == "4" and notified["status"] == "firing"
        assert notified["alerts"][0]["labels"]["alertname"] == "ChurnDrift"

        resolved = Message(topic="model-alarms", subject="OK: churn-drift", body="back",
                           attributes={"severity": "critical", "endpoint": "churn-prod"},
                           payload={"alarm": "ChurnDrift", "state": "OK"})
        assert ch.send(resolved, {"url": url, "labels": {"team": "ml"}}).ok
    # A resolved alert leaves the active list; Alertmanager notifies the resolution.
    time.sleep(0.05)
    assert _am_alerts(url, "ChurnDrift", active="true") == []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        docs = [json.loads(r["body"]) for r in hook.requests]
        if any(doc["status"] == "resolved" for doc in docs):
            break
        time.sleep(0.1)
    assert any(doc["status"] == "resolved" for doc in docs)
    # A bad push (a label Alertmanager refuses) is a non-retryable 400.
    with AlertmanagerChannel() as ch:
        bad = ch.send(firing, {"url": url, "labels": {"0bad label": "x"}})
    assert (bad.ok, bad.retryable, bad.status) == (False, False, 400)


# -- email (aiosmtpd) ------------------------------------------------------------------------------


def make_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made with ``cryptography``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Mailbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


class Authenticator:
    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str,
                 auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login, auth_data.password) == (b"vigil", b"pa55")
        return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"))


def _server_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*tls_files)
    return ctx


def _start(controller: Controller) -> Controller:
    controller.start()
    return controller


def _email_cfg(port: int, **extra: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "to": "oncall@example.org, ml@example.org",
            "from": "vigil@example.org", "timeout": 5, **extra}


def test_email_plain(message: Message) -> None:
    box = Mailbox()
    port = free_port()
    c = _start(Controller(box, hostname="127.0.0.1", port=port))
    try:
        result = EmailChannel().send(message, _email_cfg(port))
    finally:
        c.stop()
    assert result.ok and result.status == 250
    [env] = box.envelopes
    assert env.rcpt_tos == ["oncall@example.org", "ml@example.org"]
    mail = message_from_bytes(env.content)
    assert mail["Subject"] == message.subject
    assert mail["Message-ID"] == f"<{message.id}@vigil>"
    assert mail["X-Vigil-Message-Id"] == message.id
    assert mail.get_payload(decode=True).decode().strip() == message.body


def test_email_starttls_with_login(message: Message, tls_files: tuple[Path, Path]) -> None:
    box = Mailbox()
    port = free_port()
    c = _start(Controller(box, hostname="127.0.0.1", port=port,
                          tls_context=_server_context(tls_files), require_starttls=True,
                          authenticator=Authenticator(), auth_required=True))
    try:
        ok = EmailChannel().send(message, _email_cfg(
            port, security="starttls", ca_file=str(tls_files[0]), username="vigil",
            password="pa55"))
        bad_login = EmailChannel().send(message, _email_cfg(
            port, security="starttls", ca_file=str(tls_files[0]), username="vigil",
            password="wrong"))
        untrusted = EmailChannel().send(message, _email_cfg(port, security="starttls"))
        no_tls = EmailChannel().send(message, _email_cfg(port, username="vigil", password="pa55"))
    finally:
        c.stop()
    assert ok.ok, ok
    assert (bad_login.ok, bad_login.retryable, bad_login.status) == (False, False, 535)
    assert not untrusted.ok and "CERTIFICATE_VERIFY_FAILED" in (untrusted.error or "")
    assert not no_tls.ok  # the server requires STARTTLS first
    assert len(box.envelopes) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_email_implicit_tls_and_auth_login_without_tls(message: Message,
                                                       tls_files: tuple[Path, Path]) -> None:
    box = Mailbox()
    port = free_port()
    c = _start(Controller(box, hostname="127.0.0.1", port=port,
                          ssl_context=_server_context(tls_files)))
    port2 = free_port()
    c2 = _start(Controller(box, hostname="127.0.0.1", port=port2, authenticator=Authenticator(),
                           auth_required=True, auth_require_tls=False))
    try:
        ssl_result = EmailChannel().send(message, _email_cfg(
            port, security="ssl", ca_file=str(tls_files[0])))
        login_result = EmailChannel().send(message, _email_cfg(
            port2, username="vigil", password="pa55"))
        anonymous = EmailChannel().send(message, _email_cfg(port2))
    finally:
        c.stop()
        c2.stop()
    assert ssl_result.ok, ssl_result
    assert login_result.ok, login_result
    assert not anonymous.ok and anonymous.status == 530 and not anonymous.retryable
    assert len(box.envelopes) == 2


def test_email_connection_refused_and_bad_config(message: Message) -> None:
    down = EmailChannel().send(message, _email_cfg(free_port()))
    assert not down.ok and down.retryable
    bad = EmailChannel().send(message, {"host": "127.0.0.1"})
    assert not bad.ok and not bad.retryable and "'to'" in (bad.error or "")


# -- the outbox --------------------------------------------------------------------------------


def _sqlite(path: Path) -> SQLOutboxStore:
    store = SQLOutboxStore(Database(f"sqlite:///{path}"))
    store.create_tables()
    return store


def test_outbox_survives_outage_and_restart(tmp_path: Path) -> None:
    db_file = tmp_path / "vigil.db"
    port = free_port()  # nothing listens here yet: connection refused
    sub = Subscription(id="ops-hook", protocol="webhook", topic="model-alarms",
                       config={"url": f"http://127.0.0.1:{port}/hook", "secret": "k"},
                       retry=RetryPolicy(num_retries=6, min_delay_target=1, max_delay_target=8,
                                         backoff_function="exponential"))
    msgs = [Message(topic="model-alarms", subject=f"alarm {i}", body="x",
                    attributes={"i": i}) for i in range(20)]
    outbox = Outbox(_sqlite(db_file), {"webhook": WebhookChannel()}, batch_size=7)
    assert sum(outbox.enqueue(m, [sub], now=T0) for m in msgs) == 20
    assert outbox.enqueue(msgs[0], [sub], now=T0) == 0  # idempotent per (message, sub)

    now = T0
    counts = outbox.deliver_due(now)  # attempt 1: connection refused
    assert counts.claimed == 20 and counts.retrying == 20 and counts.delivered == 0
    assert outbox.deliver_due(now).claimed == 0  # nothing due before the first delay
    delays = sub.retry_policy.delays()

    # The receiver comes up on the subscription's port, answering 500 for a while.
    rec = Receiver(port)
    rec.default = 500
    try:
        now += dt.timedelta(seconds=delays[0])
        assert outbox.deliver_due(now).retrying == 20  # attempt 2: 500s
        assert len(rec.requests) == 20
        outbox.close()

        # "Restart": a new outbox over the same SQLite file; the receiver recovers.
        outbox = Outbox(_sqlite(db_file), {"webhook": WebhookChannel()}, batch_size=7)
        rec.script = [500] * 5  # five more failures, then 200s
        rec.default = 200
        for d in delays[1:4]:
            now += dt.timedelta(seconds=d)
            outbox.deliver_due(now)
        pending = outbox.store.list("pending")
        delivered = outbox.store.list("delivered")
        assert not pending and len(delivered) == 20
        assert not outbox.list_dead_letters()
        got = {json.loads(r["body"])["id"] for r in rec.delivered()}
        assert got == {m.id for m in msgs}  # every message delivered, none lost
        for r in rec.delivered():  # each signed with the subscription's secret
            h = {k.lower(): v for k, v in r["headers"].items()}
            assert verify_signature("k", h["x-vigil-timestamp"], r["body"],
                                    h["x-vigil-signature"])
        assert {r.attempt for r in delivered} <= {3, 4}
    finally:
        outbox.close()
        rec.stop()


def test_outbox_crash_between_send_and_mark_resends_same_id(tmp_path: Path,
                                                           receiver: Receiver) -> None:
    db_file = tmp_path / "vigil.db"
    sub = Subscription(id="ops", protocol="webhook", config={"url": receiver.url})
    outbox = Outbox(_sqlite(db_file), {"webhook": WebhookChannel()}, lease_seconds=60)
    m = Message(topic="t", subject="s", body="b")
    outbox.enqueue(m, [sub], now=T0)
    # A worker claims and sends, then dies before recording the outcome.
    [record] = outbox.store.claim(T0, 10, T0 + outbox.lease, "dead-worker")
    assert WebhookChannel().send(Message.from_dict(record.payload["message"]), sub.config).ok

    restarted = Outbox(_sqlite(db_file), {"webhook": WebhookChannel()}, lease_seconds=60)
    assert restarted.deliver_due(T0 + dt.timedelta(seconds=30)).claimed == 0  # lease held
    assert restarted.deliver_due(T0 + dt.timedelta(seconds=60)).delivered == 1
    ids = [json.loads(r["body"])["id"] for r in receiver.requests]
    assert ids == [m.id, m.id]  # at-least-once: re-sent, with the same id for de-duplication
    # The dead worker's late completion is ignored: the item stays delivered.
    from vigil.alerts.delivery.store import Outcome
    restarted.store.complete([Outcome(record.id, "pending", 1, T0, "late", None, None)],
                             "dead-worker")
    assert restarted.store.list(ids=[record.id])[0].status == "delivered"


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_dead_letters_and_redrive(tmp_path: Path, receiver: Receiver, backend: str) -> None:
    store = MemoryOutboxStore() if backend == "memory" else _sqlite(tmp_path / "v.db")
    outbox = Outbox(store, delivery.default_channels())
    slack_rx = Receiver()
    hook = Subscription(id="hook", protocol="webhook", config={"url": receiver.url})
    slack = Subscription(id="slack", protocol="slack", config={"url": slack_rx.url},
                         retry=RetryPolicy(num_retries=2, min_delay_target=1,
                                           max_delay_target=1))
    filtered = Subscription(id="only-info", protocol="webhook", config={"url": receiver.url},
                            filter_policy={"severity": ["info"]})
    m = Message(topic="t", subject="s", body="b", attributes={"severity": "critical"})
    assert outbox.enqueue(m, [hook, slack, filtered], now=T0) == 2  # the filter drops one

    receiver.default = 400  # the webhook gets a 400: no retry, straight to dead letters
    slack_rx.default = 503  # Slack keeps failing with 503 until its policy is exhausted
    now = T0
    assert outbox.deliver_due(now) == delivery.DeliveryCounts(2, 0, 1, 1)
    [dead] = outbox.list_dead_letters()
    assert dead.subscription == "hook" and dead.attempt == 1 and dead.last_status == 400
    assert "HTTP 400" in (dead.last_error or "")
    for _ in range(2):
        now += dt.timedelta(seconds=1)
        outbox.deliver_due(now)
    dead_slack = outbox.list_dead_letters("slack")
    assert len(dead_slack) == 1 and dead_slack[0].attempt == 3
    assert "retries exhausted after 3 attempts" in (dead_slack[0].last_error or "")
    assert len(receiver.requests) == 1 and len(slack_rx.requests) == 3

    receiver.default = slack_rx.default = 200
    with pytest.raises(ConfigError):
        outbox.redrive()
    assert outbox.redrive([dead.id], now=now) == 1
    assert outbox.redrive(subscription="slack", now=now) == 1
    assert outbox.deliver_due(now).delivered == 2
    assert outbox.list_dead_letters() == []
    [redriven] = receiver.delivered()
    assert json.loads(redriven["body"])["id"] == m.id  # the same message id as the first try
    assert len(slack_rx.delivered()) == 1
    outbox.close()
    slack_rx.stop()


def test_outbox_dead_letters_unknown_channel_and_counts_channel_crash() -> None:
    class Boom:
        def send(self, message: Message, config: Any) -> Any:
            raise RuntimeError("bug")

    outbox = Outbox(MemoryOutboxStore(), {"webhook": Boom()})
    m = Message(topic="t", subject="s", body="b")
    outbox.enqueue(m, [Subscription(id="a", protocol="webhook", config={"url": "x"}),
                       Subscription(id="b", protocol="email", config={"to": "x@y"})], now=T0)
    counts = outbox.deliver_due(T0)
    assert counts.retrying == 1 and counts.dead == 1  # a crashing channel is retried
    [dead] = outbox.list_dead_letters()
    assert "no channel configured for protocol 'email'" in (dead.last_error or "")


def test_public_api() -> None:
    assert set(delivery.__all__) == {
        "EMAIL_DEFAULT", "EVENTS_URL", "HTTP_DEFAULT", "PROTOCOLS", "AlertmanagerChannel",
        "Channel", "DeliveryCounts", "DeliveryResult", "EmailChannel", "HttpChannel",
        "MemoryOutboxStore", "Message", "Outbox", "OutboxRecord", "OutboxStore",
        "PagerDutyChannel", "RetryPolicy", "SQLOutboxStore", "SlackChannel", "Subscription",
        "WebhookChannel", "alertmanager_alerts", "build_email", "classify_status",
        "default_channels", "default_policy", "filter_matches", "pagerduty_event", "sign",
        "slack_body", "verify_signature",
        "SECRETS_BY_PROTOCOL", "SubscriptionTakenError", "secret_fields",
        "SmsChannel", "TeamsChannel", "ChatChannel", "sms_body", "sms_form", "teams_body",
        "chat_body",
    }
    assert all(hasattr(delivery, n) for n in delivery.__all__)
