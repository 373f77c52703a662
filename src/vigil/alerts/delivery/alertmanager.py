"""Push alerts to a Prometheus Alertmanager: ``POST {url}/api/v2/alerts``.

The body is a JSON array of one ``{labels, annotations, startsAt, endsAt, generatorURL}``.
Alertmanager identifies an alert by its labels, so labels come only from stable fields:
``alertname`` (the payload's ``alarm``, else the subject), ``topic``, the message's string
and number attributes and ``config["labels"]``. The subject, body and message id go to
annotations, and the payload's ``links`` as ``alarm_url``, ``execution_url`` and
``report_url`` (``generatorURL`` is the alarm's page). A resolved message sets ``endsAt`` to
now; a firing one leaves ``endsAt`` out, so Alertmanager resolves it after its
``resolve_timeout`` unless it is pushed again (the alarm engine re-sends firing alerts, as
Prometheus does).

Config: ``url`` (Alertmanager's base URL, required), ``labels``, ``annotations``,
``generator_url``, ``headers`` (extra headers, e.g. ``Authorization``), ``timeout``. Secret
(:data:`SECRETS`): every ``headers`` value, the URL's userinfo and query values.

>>> m = Message(topic="drift", subject="Drift on churn", body="age drifted", id="m-1",
...             attributes={"severity": "error"}, payload={"alarm": "ChurnDrift"})
>>> [a] = alertmanager_alerts(m, {"url": "http://am:9093"})
>>> a["labels"], a["annotations"]["summary"], "endsAt" in a
({'alertname': 'ChurnDrift', 'topic': 'drift', 'severity': 'error'}, 'Drift on churn', False)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from vigil.alerts.delivery.base import HttpChannel, dumps, require
from vigil.alerts.delivery.message import Message
from vigil.store.secrets import SecretFields

#: The secret settings: every header value, the URL's userinfo and query.
SECRETS = SecretFields(maps=("headers",), urls=("url",))


def _rfc3339(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def alertmanager_alerts(message: Message, config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``/api/v2/alerts`` body for ``message``."""
    labels = {
        "alertname": str(message.payload.get("alarm") or message.subject or message.topic),
        "topic": message.topic,
    }
    for key, value in message.attributes.items():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            labels.setdefault(key, str(value))
    labels.update({str(k): str(v) for k, v in (config.get("labels") or {}).items()})
    annotations = {"summary": message.subject, "description": message.body,
                   "message_id": message.id}
    for name, url in (message.payload.get("links") or {}).items():
        annotations[f"{name}_url"] = str(url)
    annotations.update({str(k): str(v) for k, v in (config.get("annotations") or {}).items()})
    alert: dict[str, Any] = {"labels": labels, "annotations": annotations}
    starts = message.payload.get("starts_at")
    if starts:
        alert["startsAt"] = str(starts)
    elif not message.resolved:
        alert["startsAt"] = _rfc3339(message.created_at)
    if message.resolved:
        alert["endsAt"] = _rfc3339(datetime.now(timezone.utc))
    generator = message.payload.get("generator_url") or config.get("generator_url")
    if generator:
        alert["generatorURL"] = str(generator)
    return [alert]


class AlertmanagerChannel(HttpChannel):
    """POSTs :func:`alertmanager_alerts` to ``{url}/api/v2/alerts`` (200 is success)."""

    name = "alertmanager"

    def request(
        self, message: Message, config: Mapping[str, Any]
    ) -> tuple[str, bytes, dict[str, str]]:
        base = str(require(config, "url", self.name)).rstrip("/")
        headers = {str(k): str(v) for k, v in (config.get("headers") or {}).items()}
        return f"{base}/api/v2/alerts", dumps(alertmanager_alerts(message, config)), headers
