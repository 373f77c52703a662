"""Generic chat webhooks (Mattermost, Rocket.Chat, Google Chat, Discord, ...): a JSON body
built from a template.

A template is any JSON value; every string in it may name fields of the message in braces,
and only these (:data:`FIELDS`): ``{subject}``, ``{message}``, ``{text}`` (subject, a new
line, message), ``{severity}``, ``{topic}``, ``{id}``, ``{alarm}``, ``{state}``,
``{status}`` (firing or resolved), ``{timestamp}``, ``{summary}`` (the finding in one line)
and the dashboard's ``{alarm_url}``, ``{execution_url}`` and ``{report_url}`` (empty
without a public URL). ``{{`` and ``}}`` are literal braces.
Nothing else happens: no expressions, attribute access or code, and the values are placed
into the parsed template's strings, so the serializer escapes them (a message cannot break
out of its string). A template naming an unknown field is refused when the subscription is
stored. Each substituted string is cut to ``max_length`` characters.

Presets (``config["preset"]``) give the template and limit of the common receivers:
``mattermost`` and ``rocketchat`` ``{"text": "{text}"}``, ``googlechat`` the same (4,096),
``discord`` ``{"content": "{text}"}`` (2,000 characters, Discord's limit).

Config: ``url`` (required), ``preset`` or ``template`` (default the ``mattermost`` one),
``max_length``, ``headers`` (extra headers), ``timeout``. Secret (:data:`SECRETS`): ``url``
(such URLs carry their token) and every ``headers`` value.

>>> m = Message(topic="oncall", subject='ALARM: "churn-5xx"', body="rate 0.2", id="m-1",
...             attributes={"severity": "critical"})
>>> chat_body(m, {"preset": "discord"})
{'content': 'ALARM: "churn-5xx"\\nrate 0.2'}
>>> chat_body(m, {"template": {"msg": "{{{severity}}} {subject}", "n": 1}})
{'msg': '{critical} ALARM: "churn-5xx"', 'n': 1}
>>> validate_template({"text": "{subject.__class__}"})
Traceback (most recent call last):
...
vigil.errors.ConfigError: [config_error] chat subscription template: '{subject.__class__}' \
names no known field (expected one of alarm, alarm_url, execution_url, id, message, report_url, \
severity, state, status, subject, summary, text, timestamp, topic)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from vigil.alerts.delivery.base import HttpChannel, dumps, require
from vigil.alerts.delivery.message import Message
from vigil.errors import ConfigError
from vigil.events.severity import DEFAULT_SEVERITY
from vigil.store.secrets import SecretFields

FIELDS = ("alarm", "alarm_url", "execution_url", "id", "message", "report_url", "severity",
          "state", "status", "subject", "summary", "text", "timestamp", "topic")
#: preset -> (template, max_length)
PRESETS: dict[str, tuple[Any, int]] = {
    "mattermost": ({"text": "{text}"}, 16_000),
    "rocketchat": ({"text": "{text}"}, 5_000),
    "googlechat": ({"text": "{text}"}, 4_096),
    "discord": ({"content": "{text}"}, 2_000),
}
DEFAULT_PRESET = "mattermost"

#: The secret settings: the webhook URL whole, every header value.
SECRETS = SecretFields(values=("url",), maps=("headers",))

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def _fill(text: str, values: Mapping[str, str], limit: int | None) -> str:
    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = match.group(1)
        if name not in values:
            raise ConfigError(
                f"chat subscription template: {token!r} names no known field "
                f"(expected one of {', '.join(FIELDS)})"
            )
        return values[name]

    filled = _TOKEN.sub(one, text)
    if limit is not None and len(filled) > limit:
        filled = filled[: limit - 1] + "…"
    return filled


def _walk(template: Any, values: Mapping[str, str], limit: int | None) -> Any:
    if isinstance(template, str):
        return _fill(template, values, limit)
    if isinstance(template, list):
        return [_walk(v, values, limit) for v in template]
    if isinstance(template, Mapping):
        return {str(k): _walk(v, values, limit) for k, v in template.items()}
    if template is None or isinstance(template, (bool, int, float)):
        return template
    raise ConfigError(
        f"chat subscription template: expected JSON values, got {type(template).__name__}"
    )


def _template(config: Mapping[str, Any]) -> tuple[Any, int]:
    preset = config.get("preset")
    if preset is not None and str(preset) not in PRESETS:
        raise ConfigError(
            f"chat subscription preset: expected one of {', '.join(sorted(PRESETS))}, "
            f"got {preset!r}"
        )
    template, limit = PRESETS[str(preset or DEFAULT_PRESET)]
    if config.get("template") is not None:
        template = config["template"]
    if config.get("max_length") is not None:
        raw = config["max_length"]
        if not isinstance(raw, int) or isinstance(raw, bool) or raw < 2:
            raise ConfigError(
                f"chat subscription max_length: expected an integer of at least 2, got {raw!r}"
            )
        limit = raw
    return template, limit


def validate_template(template: Any) -> None:
    """Refuse a template that names an unknown field or holds a non-JSON value."""
    _walk(template, {name: "" for name in FIELDS}, None)


def validate_config(config: Mapping[str, Any]) -> None:
    """The definition-time check of a chat subscription's preset, template and limit."""
    template, _ = _template(config)
    validate_template(template)


def fields_of(message: Message) -> dict[str, str]:
    """The values a template may name, for ``message``."""
    text = "\n".join(p for p in (message.subject, message.body) if p)
    severity = message.attributes.get("severity") or message.payload.get("severity")
    links = message.payload.get("links") or {}
    return {
        "alarm_url": str(links.get("alarm") or ""),
        "execution_url": str(links.get("execution") or ""),
        "report_url": str(links.get("report") or ""),
        "summary": str(message.payload.get("summary") or ""),
        "alarm": str(message.payload.get("alarm") or ""),
        "id": message.id,
        "message": message.body,
        "severity": str(severity or DEFAULT_SEVERITY),
        "state": str(message.payload.get("state") or ""),
        "status": "resolved" if message.resolved else "firing",
        "subject": message.subject,
        "text": text or message.topic,
        "timestamp": message.created_at.isoformat(),
        "topic": message.topic,
    }


def chat_body(message: Message, config: Mapping[str, Any]) -> Any:
    """The JSON document POSTed for ``message``: the template with the fields filled in."""
    template, limit = _template(config)
    return _walk(template, fields_of(message), limit)


class ChatChannel(HttpChannel):
    """POSTs :func:`chat_body` to ``config["url"]``."""

    name = "chat"

    def request(
        self, message: Message, config: Mapping[str, Any]
    ) -> tuple[str, bytes, dict[str, str]]:
        url = require(config, "url", self.name)
        headers = {str(k): str(v) for k, v in (config.get("headers") or {}).items()}
        return str(url), dumps(chat_body(message, config)), headers
