"""Slack incoming webhooks: ``text`` (the fallback shown in notifications) plus ``blocks``.

A message whose payload has ``links`` (the alarm's, execution's and report's pages on the
dashboard) gets an ``actions`` block of link buttons, one per link.

Config: ``url`` (the incoming-webhook URL, required), ``channel``, ``username``,
``icon_emoji`` (honoured by legacy webhooks), ``timeout``. Secret (:data:`SECRETS`): ``url``.

>>> m = Message(topic="drift", subject="Drift on churn", body="age drifted",
...             id="m-1", attributes={"severity": "error"})
>>> doc = slack_body(m, {})
>>> doc["text"], [b["type"] for b in doc["blocks"]]
('*Drift on churn*\\nage drifted', ['header', 'section', 'context'])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.alerts.delivery.base import HttpChannel, dumps, require
from vigil.alerts.delivery.message import Message
from vigil.store.secrets import SecretFields

HEADER_LIMIT = 150  # Slack's limit on a header block's text
SECTION_LIMIT = 3000  # and on a section's

#: The secret settings: the whole incoming-webhook URL (it is the credential).
SECRETS = SecretFields(values=("url",))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def link_buttons(message: Message) -> list[dict[str, Any]]:
    """One URL button per link of the payload (``Open alarm``, ``Open report``...).

    >>> m = Message(topic="t", subject="s", body="b",
    ...             payload={"links": {"alarm": "https://v/alarms/a"}})
    >>> link_buttons(m)[0]["text"]["text"], link_buttons(m)[0]["url"]
    ('Open alarm', 'https://v/alarms/a')
    """
    links = message.payload.get("links") or {}
    return [
        {"type": "button", "text": {"type": "plain_text", "text": f"Open {name}"},
         "url": str(url), "action_id": f"vigil-open-{name}"}
        for name, url in links.items() if url
    ]


def slack_body(message: Message, config: Mapping[str, Any]) -> dict[str, Any]:
    """The incoming-webhook JSON for ``message``."""
    icon = ":white_check_mark:" if message.resolved else ":rotating_light:"
    context = f"{icon} topic `{message.topic}` · id `{message.id}` · {message.created_at:%F %T} UTC"
    severity = message.attributes.get("severity")
    if severity is not None:
        context += f" · severity *{severity}*"
    doc: dict[str, Any] = {
        "text": _cut(f"*{message.subject}*\n{message.body}", 4000),
        "blocks": [
            {"type": "header",
             "text": {"type": "plain_text", "text": _cut(message.subject or message.topic,
                                                          HEADER_LIMIT)}},
            {"type": "section",
             "text": {"type": "mrkdwn", "text": _cut(message.body or " ", SECTION_LIMIT)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }
    buttons = link_buttons(message)
    if buttons:
        doc["blocks"].insert(2, {"type": "actions", "elements": buttons})
    for key in ("channel", "username", "icon_emoji"):
        if config.get(key):
            doc[key] = config[key]
    return doc


class SlackChannel(HttpChannel):
    """POSTs :func:`slack_body` to the incoming-webhook URL."""

    name = "slack"

    def request(
        self, message: Message, config: Mapping[str, Any]
    ) -> tuple[str, bytes, dict[str, str]]:
        url = require(config, "url", self.name)
        return str(url), dumps(slack_body(message, config)), {}
