"""Outgoing connections obey the operator's policy (issue 9, item 5: SSRF).

Real loopback receivers (an HTTP server, an aiosmtpd SMTP server), the real channels, outbox
and HTTP action target; the policy is switched through ``VIGIL_OUTBOUND_ALLOW`` as an
operator would (conftest allows loopback for the other tests, these tests narrow it).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from vigil.actions import errors as E
from vigil.actions.errors import StepError
from vigil.actions.spec import HttpTarget
from vigil.actions.targets import run_http
from vigil.alerts.delivery import (
    EmailChannel,
    MemoryOutboxStore,
    Message,
    Outbox,
    RetryPolicy,
    Subscription,
    WebhookChannel,
)
from vigil.errors import ConfigError
from vigil.net import ENV_ALLOW, OutboundPolicy, check_url

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request; ``redirect`` answers 302."""

    def __init__(self, redirect: str | None = None) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                owner.requests.append(self.path)
                if redirect:
                    self.send_response(302)
                    self.send_header("Location", redirect)
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = do_GET = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def no_allow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default policy: nothing beyond public addresses."""
    monkeypatch.setenv(ENV_ALLOW, "")


MESSAGE = Message(topic="ops", subject="Drift", body="age drifted", id="m-1")


# -- the policy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
     "169.254.169.254", "fe80::1", "fc00::1", "fd12::1", "0.0.0.0", "::", "224.0.0.1",
     "ff02::1", "100.64.0.1", "240.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
     "::ffff:10.0.0.1", "2002:7f00:1::1", "64:ff9b::a9fe:a9fe"],
)
def test_the_default_policy_refuses_every_non_public_address(address: str) -> None:
    assert OutboundPolicy().refusal(address) is not None


def test_public_addresses_pass_and_the_allow_list_widens_it() -> None:
    default = OutboundPolicy()
    assert default.refusal("8.8.8.8") is None and default.refusal("2606:4700::1111") is None
    policy = OutboundPolicy.parse("127.0.0.1/32, 10.0.0.0/8, [::1]:8080, 192.168.1.5:25")
    assert policy.refusal("127.0.0.1") is None and policy.refusal("10.9.9.9") is None
    assert policy.refusal("::ffff:127.0.0.1") is None  # the same address, mapped
    assert policy.refusal("::1", 8080) is None and policy.refusal("::1", 8081) is not None
    assert policy.refusal("192.168.1.5", 25) is None and policy.refusal("192.168.1.5", 80)
    assert policy.refusal("169.254.169.254") is not None
    with pytest.raises(ConfigError, match="VIGIL_OUTBOUND_ALLOW: 'nonsense'"):
        OutboundPolicy.parse("127.0.0.1/32,nonsense")


# -- delivery, at connect time -----------------------------------------------------------


def test_a_loopback_webhook_is_refused_without_the_allow(no_allow: None, receiver: Receiver):
    with WebhookChannel() as channel:
        result = channel.send(MESSAGE, {"url": receiver.url()})
    assert not result.ok and result.retryable
    assert "refused by policy" in (result.error or "") and "loopback" in (result.error or "")
    assert receiver.requests == []


def test_a_loopback_webhook_is_delivered_with_the_allow(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
):
    monkeypatch.setenv(ENV_ALLOW, "127.0.0.1/32")
    with WebhookChannel() as channel:
        result = channel.send(MESSAGE, {"url": receiver.url()})
    assert result.ok, result.error
    assert receiver.requests == ["/hook"]


@pytest.mark.parametrize("host", ["localhost", "[::ffff:127.0.0.1]"])
def test_names_and_mapped_forms_of_loopback_are_refused_too(
    no_allow: None, receiver: Receiver, host: str
):
    with WebhookChannel() as channel:
        result = channel.send(MESSAGE, {"url": receiver.url(host)})
    assert not result.ok and "refused by policy" in (result.error or "")
    assert receiver.requests == []


def test_a_refused_delivery_retries_then_dead_letters_with_the_reason(
    no_allow: None, receiver: Receiver
):
    t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
    retry = RetryPolicy(num_retries=2, num_no_delay_retries=2)
    sub = Subscription(id="ops", protocol="webhook", config={"url": receiver.url()}, retry=retry)
    outbox = Outbox(MemoryOutboxStore(), {"webhook": WebhookChannel()})
    try:
        assert outbox.enqueue(MESSAGE, [sub], now=t0) == 1
        counts = [outbox.deliver_due(t0 + timedelta(seconds=i)) for i in range(4)]
        assert sum(c.retrying for c in counts) >= 1 and sum(c.dead for c in counts) == 1
        [dead] = outbox.list_dead_letters()
        assert dead.attempt == 3 and "refused by policy" in (dead.last_error or "")
    finally:
        outbox.close()
    assert receiver.requests == []


def test_redirects_are_not_followed_to_an_address_the_policy_refuses(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
):
    hop = Receiver(redirect=receiver.url())
    try:
        monkeypatch.setenv(ENV_ALLOW, f"127.0.0.1:{hop.port}")  # only the first hop
        with WebhookChannel() as channel:
            result = channel.send(MESSAGE, {"url": hop.url()})
        assert not result.ok and result.status == 302 and not result.retryable
        assert hop.requests == ["/hook"] and receiver.requests == []
    finally:
        hop.close()


def test_smtp_hosts_obey_the_policy(monkeypatch: pytest.MonkeyPatch):
    from aiosmtpd.controller import Controller

    subjects: list[str] = []

    class Mailbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            subjects.append(str(message_from_bytes(envelope.content)["Subject"]))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Mailbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = {"host": "127.0.0.1", "port": port, "to": "ops@x.org", "from": "v@x.org"}
        monkeypatch.setenv(ENV_ALLOW, "")
        refused = EmailChannel().send(MESSAGE, config)
        assert not refused.ok and refused.retryable
        assert "refused by policy" in (refused.error or "") and subjects == []
        monkeypatch.setenv(ENV_ALLOW, f"127.0.0.1:{port}")
        sent = EmailChannel().send(MESSAGE, config)
        assert sent.ok, sent.error
        assert subjects == ["Drift"]
    finally:
        controller.stop()


def test_an_http_action_to_loopback_fails_with_the_policy_reason(
    no_allow: None, receiver: Receiver
):
    with pytest.raises(StepError) as caught:
        run_http(HttpTarget(url=receiver.url()), {"n": 1})
    assert caught.value.error == E.HTTP_CONNECTION_ERROR
    assert "refused by policy" in caught.value.cause
    assert receiver.requests == []


def test_an_http_action_with_the_allow_reaches_its_receiver(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
):
    monkeypatch.setenv(ENV_ALLOW, "127.0.0.1/32")
    assert run_http(HttpTarget(url=receiver.url()), {"n": 1}).output == {}
    assert receiver.requests == ["/hook"]


# -- at definition time ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.7/x",
            "http://[::ffff:127.0.0.1]:9/x", "http://[fe80::1]/"]
)
def test_literal_refused_addresses_are_refused_at_definition(no_allow: None, url: str):
    with pytest.raises(ConfigError, match=r"config\.url: outbound connection refused"):
        check_url(url, "config.url")
    check_url("https://hooks.example.com/x", "config.url")  # names are judged when connecting
