"""SMS through a provider's HTTP API in the shape of Twilio's Messages API.

One delivery is ``POST {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`` with HTTP
Basic authentication ``account_sid:auth_token`` and a form-encoded body: ``To``, ``From``
(or ``MessagingServiceSid``) and ``Body``. Twilio answers ``201 Created``; a 429 or 5xx (and
a connection error) is retried by the outbox; any other 4xx goes to the dead letters with
Twilio's error document (``{code, message, more_info, status}``) in the reason. Any provider
with the same API (or a test double) is reached by ``base_url``.

The body is the subject (with its severity prefix) and the message text, trimmed to
:data:`BODY_LIMIT` characters as Twilio counts them (UTF-16 code units), whitespace runs
folded so that a long reason does not waste the message.

Config: ``account_sid``, ``auth_token``, ``to`` (E.164, one number per subscription) and
``from`` or ``messaging_service_sid`` (required), ``base_url`` (default :data:`BASE_URL`),
``timeout``. Secret (:data:`SECRETS`): ``auth_token``, the base URL's userinfo and query.

>>> m = Message(topic="oncall", subject="[CRITICAL] ALARM: churn-5xx", id="m-1",
...             body="Alarm churn-5xx changed from OK to ALARM.\\n\\n  Threshold   Crossed")
>>> sms_body(m)
'[CRITICAL] ALARM: churn-5xx\\nAlarm churn-5xx changed from OK to ALARM.\\nThreshold Crossed'
>>> form = sms_form(m, {"to": "+15558675310", "from": "+15017122661"})
>>> sorted(form)
['Body', 'From', 'To']
>>> sms_url({"account_sid": "AC123", "base_url": "http://127.0.0.1:9/"})
'http://127.0.0.1:9/2010-04-01/Accounts/AC123/Messages.json'
>>> len(sms_body(Message(topic="t", subject="s", body="x" * 5000))) == BODY_LIMIT
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from vigil.alerts.delivery.base import DeliveryResult, HttpChannel, attempt, require
from vigil.alerts.delivery.message import Message
from vigil.errors import ConfigError
from vigil.store.secrets import SecretFields

BASE_URL = "https://api.twilio.com"
API_VERSION = "2010-04-01"
#: Twilio's limit on a message body (characters, as UTF-16 code units)
BODY_LIMIT = 1600

#: The secret settings: the auth token, the base URL's userinfo and query.
SECRETS = SecretFields(values=("auth_token",), urls=("base_url",))

_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _trim(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-16 code units, ending in an ellipsis when cut."""
    if _units(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        size = _units(ch)
        if used + size > limit - 1:
            break
        out.append(ch)
        used += size
    return "".join(out).rstrip() + "…"


def sms_body(message: Message) -> str:
    """The readable text of ``message``: subject, then body, blank lines and runs of spaces
    folded, at most :data:`BODY_LIMIT` characters."""
    parts = [message.subject.strip(), message.body.strip()]
    text = "\n".join(p for p in parts if p) or message.topic
    text = _BLANK_LINES.sub("\n", _SPACES.sub(" ", text))
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _trim(text, BODY_LIMIT)


def sms_url(config: Mapping[str, Any]) -> str:
    """The Messages resource of the subscription's account."""
    base = str(config.get("base_url") or BASE_URL).rstrip("/")
    sid = str(require(config, "account_sid", "sms"))
    return f"{base}/{API_VERSION}/Accounts/{quote(sid, safe='')}/Messages.json"


def sms_form(message: Message, config: Mapping[str, Any]) -> dict[str, str]:
    """The form fields of one message: ``To``, ``From`` or ``MessagingServiceSid``, ``Body``."""
    to = require(config, "to", "sms")
    if not isinstance(to, str):
        raise ConfigError("sms subscription: setting 'to' must be one phone number (E.164)")
    form = {"To": to}
    if config.get("messaging_service_sid"):
        form["MessagingServiceSid"] = str(config["messaging_service_sid"])
    elif config.get("from"):
        form["From"] = str(config["from"])
    else:
        raise ConfigError(
            "sms subscription: missing required setting 'from' (or 'messaging_service_sid')"
        )
    form["Body"] = sms_body(message)
    return form


def twilio_error(response: httpx.Response) -> str:
    """The reason of a refused message: Twilio's ``code``, ``message`` and ``more_info``
    when the answer is its error document, else the answer's text."""
    try:
        doc = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and ("code" in doc or "message" in doc):
        text = f"Twilio error {doc.get('code')}: {doc.get('message', '')}"
        if doc.get("more_info"):
            text += f" ({doc['more_info']})"
        return text
    return response.text[:300]


class SmsChannel(HttpChannel):
    """POSTs :func:`sms_form` to :func:`sms_url` with Basic authentication."""

    name = "sms"

    def send(self, message: Message, config: Mapping[str, Any]) -> DeliveryResult:
        try:
            url = sms_url(config)
            form = sms_form(message, config)
            auth = (str(config["account_sid"]), str(require(config, "auth_token", "sms")))
        except ConfigError as exc:
            return DeliveryResult(ok=False, retryable=False, error=str(exc))
        kwargs = {"data": form, "auth": auth, "headers": {"Accept": "application/json"}}
        return attempt(self.client, url, kwargs, config.get("timeout"), twilio_error)
