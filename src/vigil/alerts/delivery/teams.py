"""Microsoft Teams: a message with an Adaptive Card, for a Workflows (Power Automate) webhook
or a channel's incoming webhook.

Body (what the "Post to a channel when a webhook request is received" workflow and the
incoming webhook both take)::

    {"type": "message",
     "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                      "contentUrl": null,
                      "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                                  "type": "AdaptiveCard", "version": "1.4",
                                  "msteams": {"width": "Full"}, "body": [...], "actions": [...]}}]}

The card: a container styled by the severity (``attention`` for critical and high,
``warning``, ``accent`` for info; ``good`` once resolved) holding the subject, then the text,
then a fact set (severity, state, topic, alarm, message id, time) and, when the message has a
``generator_url``, an "Open in Vigil" button (one "Open alarm", "Open execution", "Open
report" button per payload ``links`` entry instead, when it has links). Workflows answer
``202 Accepted``, incoming webhooks ``200``. ``config["format"] = "messagecard"`` sends the
legacy connector card (``@type: MessageCard`` with a ``themeColor``, the links as
``potentialAction``) instead, for old incoming webhooks.

Config: ``url`` (required), ``format`` (``adaptive``, the default, or ``messagecard``),
``timeout``. Secret (:data:`SECRETS`): ``url`` (its signature is the credential).

>>> m = Message(topic="oncall", subject="[CRITICAL] ALARM: churn-5xx", body="5xx rate 0.2",
...             id="m-1", attributes={"severity": "critical"})
>>> doc = teams_body(m, {})
>>> doc["type"], doc["attachments"][0]["contentType"]
('message', 'application/vnd.microsoft.card.adaptive')
>>> card = doc["attachments"][0]["content"]
>>> card["type"], card["version"], card["body"][0]["style"]
('AdaptiveCard', '1.4', 'attention')
>>> teams_body(m, {"format": "messagecard"})["themeColor"]
'D13438'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.alerts.delivery.base import HttpChannel, dumps, require
from vigil.alerts.delivery.message import Message
from vigil.errors import ConfigError
from vigil.events.severity import CARD_COLOURS, CARD_STYLES, DEFAULT_SEVERITY, colour
from vigil.store.secrets import SecretFields

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
TEXT_LIMIT = 10_000  # the whole request must stay under Teams' 28 KB

#: The secret settings: the whole webhook URL (it carries the signature).
SECRETS = SecretFields(values=("url",))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _severity(message: Message) -> str:
    return str(message.attributes.get("severity") or message.payload.get("severity")
               or DEFAULT_SEVERITY).lower()


def _facts(message: Message) -> list[dict[str, str]]:
    facts = [("Severity", _severity(message))]
    state = message.payload.get("state") or message.payload.get("status")
    if state:
        facts.append(("State", str(state)))
    facts.append(("Topic", message.topic))
    if message.payload.get("alarm"):
        facts.append(("Alarm", str(message.payload["alarm"])))
    facts.append(("Time", f"{message.created_at:%Y-%m-%d %H:%M:%S} UTC"))
    facts.append(("Message id", message.id))
    return [{"title": k, "value": v} for k, v in facts]


def adaptive_card(message: Message) -> dict[str, Any]:
    """The Adaptive Card (version 1.4) showing ``message``."""
    severity = _severity(message)
    style = "good" if message.resolved else CARD_STYLES.get(severity, "warning")
    text_colour = "Good" if message.resolved else CARD_COLOURS.get(severity, "Warning")
    card: dict[str, Any] = {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": [
            {
                "type": "Container",
                "style": style,
                "bleed": True,
                "items": [
                    {"type": "TextBlock", "text": _cut(message.subject or message.topic, 300),
                     "size": "Large", "weight": "Bolder", "wrap": True, "color": text_colour},
                ],
            },
            {"type": "TextBlock", "text": _cut(message.body or " ", TEXT_LIMIT), "wrap": True},
            {"type": "FactSet", "facts": _facts(message)},
        ],
    }
    links = message.payload.get("links") or {}
    if links:
        card["actions"] = [{"type": "Action.OpenUrl", "title": f"Open {name}", "url": str(url)}
                           for name, url in links.items() if url]
    elif message.payload.get("generator_url"):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in Vigil",
                            "url": str(message.payload["generator_url"])}]
    return card


def message_card(message: Message) -> dict[str, Any]:
    """The legacy Office 365 connector card (``MessageCard``) showing ``message``."""
    severity = _severity(message)
    theme = "2EB886" if message.resolved else colour(severity).lstrip("#")
    card: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "themeColor": theme,
        "summary": _cut(message.subject or message.topic, 300),
        "title": _cut(message.subject or message.topic, 300),
        "text": _cut(message.body or " ", TEXT_LIMIT),
        "sections": [{"facts": [{"name": f["title"], "value": f["value"]}
                                for f in _facts(message)]}],
    }
    links = message.payload.get("links") or {}
    if links:
        card["potentialAction"] = [
            {"@type": "OpenUri", "name": f"Open {name}", "targets": [{"os": "default", "uri": url}]}
            for name, url in links.items() if url
        ]
    return card


def teams_body(message: Message, config: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON POSTed for ``message``: an Adaptive Card message, or a MessageCard."""
    form = str(config.get("format") or "adaptive").lower()
    if form == "messagecard":
        return message_card(message)
    if form != "adaptive":
        raise ConfigError(
            f"teams subscription: format: expected adaptive or messagecard, got {form!r}"
        )
    return {
        "type": "message",
        "attachments": [
            {"contentType": CONTENT_TYPE, "contentUrl": None, "content": adaptive_card(message)}
        ],
    }


class TeamsChannel(HttpChannel):
    """POSTs :func:`teams_body` to the webhook URL (200 or 202 is success)."""

    name = "teams"

    def request(
        self, message: Message, config: Mapping[str, Any]
    ) -> tuple[str, bytes, dict[str, str]]:
        url = require(config, "url", self.name)
        return str(url), dumps(teams_body(message, config)), {}
