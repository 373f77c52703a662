"""PagerDuty Events API v2: trigger and resolve alerts.

``dedup_key`` ties a resolve to its trigger: the message payload's ``dedup_key``, else
``<topic>/<alarm>`` when the payload names an ``alarm``, else the message id. A resolved
message (``payload["status"] == "resolved"`` or alarm state ``OK``) sends
``event_action: resolve``; anything else ``trigger`` with a ``payload`` of ``summary``,
``source``, ``severity`` (critical, error, warning or info: the message's ``severity``
attribute or payload field, else ``config["severity"]``, else ``error``), ``timestamp`` and
``custom_details``, and ``links`` to the dashboard (the payload's ``links``: the alarm, the
execution, its report).

Config: ``routing_key`` (the integration key, required), ``url`` (default
:data:`EVENTS_URL`), ``source``, ``severity``, ``timeout``. Secret (:data:`SECRETS`):
``routing_key``, the URL's userinfo and query values.

>>> m = Message(topic="drift", subject="Drift on churn", body="age drifted", id="m-1",
...             payload={"alarm": "churn-drift", "state": "ALARM"})
>>> e = pagerduty_event(m, {"routing_key": "R1"})
>>> e["event_action"], e["dedup_key"], e["payload"]["severity"]
('trigger', 'drift/churn-drift', 'error')
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

from vigil.alerts.delivery.base import HttpChannel, dumps, require
from vigil.alerts.delivery.message import Message
from vigil.store.secrets import SecretFields

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = ("critical", "error", "warning", "info")

#: The secret settings: the integration key, the URL's userinfo and query.
SECRETS = SecretFields(values=("routing_key",), urls=("url",))


def dedup_key(message: Message) -> str:
    """The key PagerDuty groups trigger and resolve events by."""
    if message.payload.get("dedup_key"):
        return str(message.payload["dedup_key"])
    if message.payload.get("alarm"):
        return f"{message.topic}/{message.payload['alarm']}"
    return message.id


def pagerduty_event(message: Message, config: Mapping[str, Any]) -> dict[str, Any]:
    """The Events API v2 document for ``message``."""
    event: dict[str, Any] = {
        "routing_key": str(require(config, "routing_key", "pagerduty")),
        "event_action": "resolve" if message.resolved else "trigger",
        "dedup_key": dedup_key(message),
    }
    if message.resolved:
        return event
    severity = str(
        message.attributes.get("severity")
        or message.payload.get("severity")
        or config.get("severity")
        or "error"
    ).lower()
    if severity not in SEVERITIES:
        severity = "critical" if severity in ("fatal", "page") else "error"
    event["payload"] = {
        "summary": (message.subject or message.body or message.topic)[:1024],
        "source": str(message.payload.get("source") or config.get("source")
                      or socket.gethostname()),
        "severity": severity,
        "timestamp": message.created_at.isoformat(),
        "custom_details": {
            "message": message.body,
            "topic": message.topic,
            "message_id": message.id,
            "attributes": dict(message.attributes),
            **{k: v for k, v in message.payload.items() if k != "dedup_key"},
        },
    }
    links = message.payload.get("links") or {}
    if links:
        event["links"] = [{"href": str(url), "text": f"Vigil {name}"}
                          for name, url in links.items() if url]
    elif message.payload.get("generator_url"):
        event["links"] = [{"href": str(message.payload["generator_url"]), "text": "Vigil"}]
    return event


class PagerDutyChannel(HttpChannel):
    """POSTs :func:`pagerduty_event` to the Events API (202 Accepted is success)."""

    name = "pagerduty"

    def request(
        self, message: Message, config: Mapping[str, Any]
    ) -> tuple[str, bytes, dict[str, str]]:
        url = str(config.get("url") or EVENTS_URL)
        return url, dumps(pagerduty_event(message, config)), {}
