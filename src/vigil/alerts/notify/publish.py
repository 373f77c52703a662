"""Notifications of events (a failed training job, a pipeline run that broke, a rule that
matched): a :class:`~vigil.alerts.delivery.Message` with a severity, published to a topic's
subscribers.

The message id is derived from the event's id and the topic, so publishing the same event
twice (a redelivered event, a restarted dispatcher) gives the same id and receivers drop the
duplicate. The severity prefixes the subject and is the ``severity`` attribute that filter
policies and ``min_severity`` route by, as for alarms.

>>> event = {"id": "e-1", "source": "aws.sagemaker", "time": "2024-05-01T12:00:00Z",
...          "detail-type": "SageMaker Training Job State Change",
...          "detail": {"TrainingJobName": "churn-train", "TrainingJobStatus": "Failed"}}
>>> m = event_message("oncall", event, severity="critical", subject="Training job failed")
>>> m.subject, m.attributes["severity"], m.attributes["source"]
('[CRITICAL] Training job failed', 'critical', 'aws.sagemaker')
>>> m.id == event_message("oncall", event, severity="critical").id
True
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import orjson

from vigil.alerts.delivery import Message, Outbox, Subscription
from vigil.alerts.notify.context import EventExplainer, with_context
from vigil.alerts.notify.topics import load_subscriptions
from vigil.errors import NotFoundError
from vigil.events.severity import DEFAULT_SEVERITY, parse_severity, subject_prefix
from vigil.store.db import Database
from vigil.store.models import TopicRecord

log = logging.getLogger(__name__)
_NAMESPACE = uuid.UUID("5d1f4f9e-3c55-4f4b-9a52-7a0e0f3b1c11")


def _time(event: Mapping[str, Any]) -> datetime:
    raw = event.get("time")
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return datetime.now(timezone.utc)


def event_message(
    topic: str,
    event: Mapping[str, Any],
    *,
    severity: str = DEFAULT_SEVERITY,
    subject: str | None = None,
    body: str | None = None,
    rule: str | None = None,
) -> Message:
    """The notification of ``event`` (EventBridge's envelope, or a Vigil event with
    ``kind`` and ``detail``) to ``topic``. ``subject`` defaults to the detail type (or kind);
    ``body`` to the detail as indented JSON. ``rule`` names the rule that matched."""
    level = parse_severity(severity, "notification severity")
    kind = str(event.get("detail-type") or event.get("kind") or "event")
    detail = event.get("detail") or {}
    text = body if body is not None else orjson.dumps(
        detail, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS, default=str
    ).decode()
    event_id = str(event.get("id") or "")
    seed = f"{topic}\n{event_id}" if event_id else f"{topic}\n{kind}\n{text}"
    attributes: dict[str, Any] = {"severity": level, "kind": kind}
    if event.get("source"):
        attributes["source"] = str(event["source"])
    if rule:
        attributes["rule"] = rule
    return Message(
        topic=topic,
        subject=f"{subject_prefix(level)}{subject or kind}"[:100],
        body=text,
        attributes=attributes,
        payload={
            "status": "firing",
            "severity": level,
            "source": str(event.get("source") or "vigil"),
            "event_id": event_id,
            "rule": rule,
            "detail": dict(detail) if isinstance(detail, Mapping) else detail,
            "dedup_key": f"{topic}/{event_id or kind}",
        },
        id=str(uuid.uuid5(_NAMESPACE, seed)),
        created_at=_time(event),
    )


def publish(db: Database, outbox: Outbox, messages: Iterable[Message]) -> int:
    """Queue each message for the subscriptions of its topic that accept it (filter policy,
    ``min_severity``); the number of deliveries queued."""
    wanted = list(messages)
    if not wanted:
        return 0
    with db.session() as s:
        subscriptions = load_subscriptions(s, {m.topic for m in wanted})
    batch: list[tuple[Message, list[Subscription]]] = [
        (m, subscriptions.get(m.topic, [])) for m in wanted
    ]
    return outbox.enqueue_many(batch)


TopicPublisher = Callable[..., tuple[str, int]]
"""``(topic, event, *, severity, rule, subject, body, key) -> (message id, deliveries)``:
what :class:`vigil.actions.Runner` calls for a rule's topic target
(:class:`vigil.actions.topics.Publisher`)."""


def topic_publisher(
    db: Database, outbox: Outbox, explain: EventExplainer | None = None
) -> TopicPublisher:
    """The publisher of the actions' topic targets: :func:`event_message` of the event,
    its id derived from the topic and ``key`` (the event, rule and step: a retried step gives
    the same id and the outbox queues it once), queued by :func:`publish`. An unknown topic
    raises :class:`~vigil.errors.NotFoundError` (the run fails ``Vigil.PublishFailed``).
    ``explain`` gives an event's notification its links, summary and surrounding changes
    (an execution's finding: the application's); a failing one costs only those.

    >>> from vigil.alerts.notify.topics import make_outbox, put_topic
    >>> db = Database("sqlite://"); db.create_all(); _ = put_topic(db, "oncall")
    >>> send = topic_publisher(db, make_outbox(db))
    >>> mid, queued = send("oncall", {"id": "e1", "detail": {}}, severity="high", rule="r",
    ...                    subject=None, body="hi", key="e1/r")
    >>> len(mid), queued  # no subscription yet
    (36, 0)
    >>> send("nope", {}, severity="high", rule="r", subject=None, body=None, key="k")
    Traceback (most recent call last):
    ...
    vigil.errors.NotFoundError: [not_found] no topic named 'nope'
    """

    def publish_one(
        topic: str,
        event: Mapping[str, Any],
        *,
        severity: str,
        rule: str | None,
        subject: str | None,
        body: str | None,
        key: str,
    ) -> tuple[str, int]:
        with db.session() as s:
            if s.get(TopicRecord, topic) is None:
                raise NotFoundError(f"no topic named {topic!r}")
        message = event_message(
            topic, event, severity=severity, subject=subject, body=body, rule=rule
        )
        message = dataclasses.replace(message, id=str(uuid.uuid5(_NAMESPACE, f"{topic}\n{key}")))
        if explain is not None:
            try:
                message = with_context(message, explain(event), lead=0)
            except Exception:  # the notification goes out without its context
                log.exception("building the context of event %s's notification failed",
                              event.get("id"))
        return message.id, publish(db, outbox, [message])

    return publish_one
