"""Topic targets: a rule (or a workflow step) that publishes a notification to a topic.

The actions package does not know how notifications are delivered (that is
:mod:`vigil.alerts.notify`, a sibling it must not import): the :class:`~vigil.actions.Runner`
is handed a :class:`Publisher`, a function that builds the message of an event and queues it
for the topic's subscriptions, and the application floor builds one from the outbox
(:func:`vigil.alerts.notify.topic_publisher`). Without one, a topic target fails its run with
``Vigil.NoPublisher``; a publisher that raises (an unknown topic, a database error) fails it
with ``Vigil.PublishFailed``, which retriers may select.

>>> sent = []
>>> def publisher(topic, event, *, severity, rule, subject, body, key):
...     sent.append((topic, severity, rule, subject, body, key)); return "m-1", 2
>>> event = {"id": "e1", "detail-type": "Build Failed", "detail": {"build": "b1"}}
>>> target = TopicTarget(topic="oncall", severity="critical")
>>> run_topic(target, event, event=event, publisher=publisher, rule="r", key="e1/r/topic").output
{'message_id': 'm-1', 'deliveries': 2}
>>> sent[0][:5]
('oncall', 'critical', 'r', None, None)
>>> run_topic(target, "build b1 failed", event=event, publisher=publisher, rule="r",
...           key="k").output and sent[1][4]
'build b1 failed'
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, Protocol

import orjson

from vigil.actions.errors import StepError, TopicNotFoundError
from vigil.actions.spec import Rule, Step, Target, TopicTarget, Workflow
from vigil.actions.targets import TargetResult
from vigil.events.severity import DEFAULT_SEVERITY, Severity
from vigil.store.db import Database
from vigil.store.event_rows import envelope_of
from vigil.store.models import Event

NO_PUBLISHER = "Vigil.NoPublisher"  # a topic target ran where no publisher is configured
PUBLISH_FAILED = "Vigil.PublishFailed"  # the publisher raised (unknown topic, database error)


class Publisher(Protocol):
    """Builds the notification of ``event`` to ``topic`` and queues it for the topic's
    subscriptions; returns ``(message id, deliveries queued)``. ``body`` ``None``: the
    event's detail; ``key`` identifies the publication (the same key gives the same message
    id, so a retried step is not delivered twice)."""

    def __call__(
        self,
        topic: str,
        event: Mapping[str, Any],
        *,
        severity: str,
        rule: str | None,
        subject: str | None,
        body: str | None,
        key: str,
    ) -> tuple[str, int]: ...


def body_of(data: Any, event: Mapping[str, Any] | None) -> str | None:
    """The message body a topic target sends for its input ``data``: ``None`` (the event's
    detail, as :func:`~vigil.alerts.notify.event_message` writes it) when the input is the
    event itself, a string as it is, other data as JSON.

    >>> body_of({"a": 1}, {"a": 1}), body_of("text", {}), body_of({"a": 1}, None)
    (None, 'text', '{"a":1}')
    """
    if event is not None and data == event:
        return None
    if isinstance(data, str):
        return data
    return orjson.dumps(data, default=str, option=orjson.OPT_SORT_KEYS).decode()


def stored_event(db: Database, event_id: str | None) -> dict[str, Any] | None:
    """The envelope of the stored event ``event_id`` (``None`` when there is none)."""
    if not event_id:
        return None
    with db.session() as s:
        row = s.get(Event, event_id)
        return envelope_of(row) if row is not None else None


def run_topic(
    target: TopicTarget,
    data: Any,
    *,
    event: Mapping[str, Any] | None,
    publisher: Publisher | None,
    rule: str | None,
    key: str,
) -> TargetResult:
    """Publish ``data`` (the target's input) about ``event`` to ``target.topic``."""
    if publisher is None:
        raise StepError(
            NO_PUBLISHER,
            f"topic target {target.topic!r}: no publisher is configured for this runner "
            "(the server's scheduler gives it one; Runner(..., publish=...) in your own code)",
        )
    if event is None and isinstance(data, Mapping):
        event = data  # no stored event: the input is what the notification is about
    try:
        message_id, deliveries = publisher(
            target.topic,
            event or {},
            severity=target.severity or DEFAULT_SEVERITY,
            rule=rule,
            subject=target.subject,
            body=body_of(data, event),
            key=key,
        )
    except StepError:
        raise
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise StepError(PUBLISH_FAILED, f"topic {target.topic!r}: {message}") from None
    return TargetResult({"message_id": message_id, "deliveries": deliveries})


def bind_severity(target: Target, severity: Severity) -> Target:
    """``target`` with ``severity`` when it is a topic target that sets none (a rule's
    topic targets take the rule's severity)."""
    if isinstance(target, TopicTarget) and target.severity is None:
        return target.model_copy(update={"severity": severity})
    return target


def workflow_with_severity(workflow: Workflow, severity: Severity) -> Workflow:
    """``workflow`` whose topic steps that set no severity take ``severity``."""
    if not any(isinstance(s.target, TopicTarget) for s in workflow.steps):
        return workflow
    steps: list[Step] = [
        s.model_copy(update={"target": bind_severity(s.target, severity)}) for s in workflow.steps
    ]
    return workflow.model_copy(update={"steps": steps})


def topic_refs(definition: Rule | Workflow) -> list[tuple[str, str]]:
    """``(field, topic)`` of every topic target of a rule or workflow.

    >>> rule = Rule(name="r", pattern={}, targets=[TopicTarget(topic="oncall")])
    >>> topic_refs(rule)
    [('targets[0]', 'oncall')]
    """
    if isinstance(definition, Rule):
        return [
            (f"targets[{i}]", t.topic)
            for i, t in enumerate(definition.targets)
            if isinstance(t, TopicTarget)
        ]
    return [
        (f"step {s.name!r}", s.target.topic)
        for s in definition.steps
        if isinstance(s.target, TopicTarget)
    ]


def missing_topics(
    definitions: Iterable[Rule | Workflow], topics: Collection[str]
) -> list[str]:
    """``rule 'r': targets[0]: no topic named 'x'`` for each topic target naming none of
    ``topics``."""
    out: list[str] = []
    for d in definitions:
        kind = "rule" if isinstance(d, Rule) else "workflow"
        out.extend(
            f"{kind} {d.name!r}: {field}: no topic named {topic!r}"
            for field, topic in topic_refs(d)
            if topic not in topics
        )
    return out


def check_topics(definitions: Iterable[Rule | Workflow], topics: Collection[str]) -> None:
    """Raise :class:`TopicNotFoundError` when a topic target names an undefined topic.

    >>> check_topics([Rule(name="r", pattern={}, targets=[TopicTarget(topic="nope")])], [])
    Traceback (most recent call last):
    ...
    vigil.actions.errors.TopicNotFoundError: [topic_not_found] rule 'r': targets[0]: no \
topic named 'nope' (topics: none)
    """
    missing = missing_topics(definitions, topics)
    if missing:
        known = ", ".join(sorted(topics)) or "none"
        raise TopicNotFoundError(f"{'; '.join(missing)} (topics: {known})")
