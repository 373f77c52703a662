"""The channel interface every notification backend plugs into, and its HTTP rules.

A channel turns one :class:`~vigil.alerts.delivery.message.Message` into one delivery to one
subscription (``config`` holds the subscription's endpoint settings) and reports a
:class:`DeliveryResult`. Channels never retry: the outbox does, from ``retryable``.

HTTP rules (SNS): 2xx is delivered; 429, 5xx and connection errors or timeouts are retried;
any other status (4xx, or an unfollowed 3xx) goes straight to the dead letters. A connection
the outbound policy refuses (:mod:`vigil.net`: loopback, private and link-local addresses
unless ``VIGIL_OUTBOUND_ALLOW`` allows them) is a failed, retried attempt whose error says so.

>>> classify_status(202), classify_status(429).retryable, classify_status(404).retryable
(DeliveryResult(ok=True, retryable=False, status=202, error=None), True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx
import orjson

from vigil.alerts.delivery.message import Message
from vigil.errors import ConfigError
from vigil.net.errors import OutboundRefusedError
from vigil.net.http import guarded_client
from vigil.net.policy import check_host, check_url
from vigil.store.secrets import redact_url

DEFAULT_TIMEOUT = 10.0
USER_AGENT = "vigil-delivery/1"


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one delivery attempt.

    ``ok``: delivered (the receiver acknowledged it). ``retryable``: a failure worth another
    attempt later. ``status``: the HTTP or SMTP status code, when there was one.
    """

    ok: bool
    retryable: bool
    status: int | None = None
    error: str | None = None


@runtime_checkable
class Channel(Protocol):
    """Delivers a message to one subscription endpoint. Implementations are thread-safe."""

    def send(self, message: Message, config: Mapping[str, Any]) -> DeliveryResult:
        """Attempt one delivery; never raises for delivery failures."""
        ...


def classify_status(status: int, text: str = "") -> DeliveryResult:
    """The :class:`DeliveryResult` for an HTTP response status (SNS rules)."""
    if 200 <= status < 300:
        return DeliveryResult(ok=True, retryable=False, status=status)
    retryable = status == 429 or status >= 500
    detail = f"HTTP {status}" + (f": {text[:200]}" if text else "")
    return DeliveryResult(ok=False, retryable=retryable, status=status, error=detail)


def require(config: Mapping[str, Any], key: str, channel: str) -> Any:
    """``config[key]``, or a :class:`ConfigError` naming the channel and the missing key."""
    value = config.get(key)
    if value in (None, ""):
        raise ConfigError(f"{channel} subscription: missing required setting {key!r}")
    return value


def check_destination(protocol: str, config: Mapping[str, Any]) -> None:
    """The definition-time courtesy check of a subscription's destination: a ``url`` (or an
    email ``host``) that is a literal address the outbound policy refuses is a
    :class:`ConfigError` naming the field. Host names are judged when connecting."""
    if config.get("url"):
        check_url(str(config["url"]), "config.url")
    if protocol == "sms" and config.get("base_url"):
        check_url(str(config["base_url"]), "config.base_url")
    if protocol == "email" and config.get("host"):
        check_host(str(config["host"]), "config.host")


class HttpChannel:
    """Base of the channels that POST JSON; one keep-alive ``httpx.Client`` shared by threads.

    Subclasses build the request with :meth:`request`; ``config["timeout"]`` overrides the
    client's timeout per subscription. The default client connects only where the outbound
    policy allows (:func:`vigil.net.http.guarded_client`) and follows no redirect.
    """

    name = "http"

    def __init__(self, client: httpx.Client | None = None, timeout: float = DEFAULT_TIMEOUT):
        self._own = client is None
        self.client = client or guarded_client(
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )

    def request(
        self, message: Message, config: Mapping[str, Any]
    ) -> tuple[str, bytes, dict[str, str]]:
        """The URL, body and headers to POST for ``message``."""
        raise NotImplementedError

    def send(self, message: Message, config: Mapping[str, Any]) -> DeliveryResult:
        try:
            url, body, headers = self.request(message, config)
        except ConfigError as exc:
            return DeliveryResult(ok=False, retryable=False, error=str(exc))
        return post(self.client, url, body, headers, config.get("timeout"))

    def close(self) -> None:
        """Close the client if this channel created it."""
        if self._own:
            self.client.close()

    def __enter__(self) -> HttpChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def post(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float | None = None,
) -> DeliveryResult:
    """POST ``body`` as JSON and classify the answer; transport errors are retryable."""
    all_headers = {"Content-Type": "application/json", **headers}
    return attempt(client, url, {"content": body, "headers": all_headers}, timeout)


ErrorText = Callable[[httpx.Response], str]


def attempt(
    client: httpx.Client,
    url: str,
    kwargs: Mapping[str, Any],
    timeout: float | None = None,
    error_text: ErrorText | None = None,
) -> DeliveryResult:
    """POST with httpx's ``kwargs`` (``content``, ``data``, ``headers``, ``auth``) and
    classify the answer by SNS's rules; ``error_text`` turns a failed response into the
    reason recorded (by default its text). Transport errors and refusals are retryable."""
    try:
        options: dict[str, Any] = dict(kwargs)
        if timeout is not None:
            options["timeout"] = float(timeout)
        response = client.post(url, **options)
    except OutboundRefusedError as exc:
        return DeliveryResult(ok=False, retryable=True, error=exc.message)
    except httpx.TransportError as exc:
        return DeliveryResult(ok=False, retryable=True, error=f"{type(exc).__name__}: {exc}")
    except httpx.InvalidURL as exc:
        shown = redact_url(url)  # never a secret of the URL in an error
        return DeliveryResult(ok=False, retryable=False, error=f"invalid URL {shown!r}: {exc}")
    if 200 <= response.status_code < 300:
        return classify_status(response.status_code)
    if error_text is None:
        return classify_status(response.status_code, response.text)
    failed = classify_status(response.status_code)  # the reason given whole, not cut
    return DeliveryResult(
        ok=False,
        retryable=failed.retryable,
        status=response.status_code,
        error=f"HTTP {response.status_code}: {error_text(response)}",
    )


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes (orjson; non-JSON values are written with ``str``)."""
    return orjson.dumps(obj, default=str)
