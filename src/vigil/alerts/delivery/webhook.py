"""Generic webhooks: a signed JSON POST.

Body: ``{"id", "topic", "subject", "message", "attributes", "timestamp", "payload"}``.
Headers: ``X-Vigil-Message-Id`` (the stable id: drop duplicates by it), ``X-Vigil-Timestamp``
(Unix seconds of this attempt) and, when the subscription has a ``secret``,
``X-Vigil-Signature: sha256=<hex>``, the HMAC-SHA256 with the secret of the bytes
``timestamp + "." + body``. A receiver recomputes it over the raw body with
:func:`verify_signature`, which also refuses timestamps older than ``tolerance`` seconds
(replays).

Config: ``url`` (required), ``secret``, ``headers`` (extra headers), ``timeout``. Secret
(:data:`SECRETS`): ``secret``, every ``headers`` value, the URL's userinfo and query values.

>>> sig = sign("s3cret", "1714560000", b'{"id":"m-1"}')
>>> sig[:7], verify_signature("s3cret", "1714560000", b'{"id":"m-1"}', sig, now=1714560010)
('sha256=', True)
>>> verify_signature("wrong", "1714560000", b'{"id":"m-1"}', sig, now=1714560010)
False
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from vigil.alerts.delivery.base import HttpChannel, dumps, require
from vigil.alerts.delivery.message import Message
from vigil.store.secrets import SecretFields

MESSAGE_ID_HEADER = "X-Vigil-Message-Id"
TIMESTAMP_HEADER = "X-Vigil-Timestamp"
SIGNATURE_HEADER = "X-Vigil-Signature"

#: The secret settings: the signing secret, every header value, the URL's userinfo and query.
SECRETS = SecretFields(values=("secret",), maps=("headers",), urls=("url",))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Vigil-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str | None,
    *,
    tolerance: float | None = 300.0,
    now: float | None = None,
) -> bool:
    """Whether ``header`` signs ``body`` at ``timestamp`` with ``secret`` (constant time).

    With ``tolerance`` set, a timestamp further than that many seconds from ``now`` fails.
    """
    if not header or not timestamp:
        return False
    if tolerance is not None:
        try:
            age = abs((time.time() if now is None else now) - float(timestamp))
        except ValueError:
            return False
        if age > tolerance:
            return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def webhook_body(message: Message, timestamp: str) -> dict[str, Any]:
    """The JSON document POSTed for ``message``."""
    return {
        "id": message.id,
        "topic": message.topic,
        "subject": message.subject,
        "message": message.body,
        "attributes": dict(message.attributes),
        "timestamp": message.created_at.isoformat(),
        "sent_at": int(timestamp),
        "payload": dict(message.payload),
    }


class WebhookChannel(HttpChannel):
    """POSTs the signed JSON body to ``config["url"]``."""

    name = "webhook"

    def request(
        self, message: Message, config: Mapping[str, Any]
    ) -> tuple[str, bytes, dict[str, str]]:
        url = require(config, "url", self.name)
        timestamp = str(int(time.time()))
        body = dumps(webhook_body(message, timestamp))
        headers = {MESSAGE_ID_HEADER: message.id, TIMESTAMP_HEADER: timestamp}
        headers.update({str(k): str(v) for k, v in (config.get("headers") or {}).items()})
        secret = config.get("secret")
        if secret:
            headers[SIGNATURE_HEADER] = sign(str(secret), timestamp, body)
        return str(url), body, headers
