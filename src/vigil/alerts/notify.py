"""Topics and subscriptions, and the bridge from alarm transitions to the delivery outbox.

An alarm's actions name topics (``alarm_actions: [team]``). Each transition becomes one
:class:`~vigil.alerts.delivery.Message` per topic: subject ``ALARM: "name" ...`` as SNS
writes it, the reason as body, attributes ``alarm``, ``state`` and ``previous_state`` (for
filter policies) and a payload with ``status`` firing or resolved, so PagerDuty resolves its
incident and Alertmanager ends its alert. The outbox then delivers at least once. An alarm
going to ``INSUFFICIENT_DATA`` only notifies the topics of its ``insufficient_data_actions``,
so a no-data alarm never pages anyone unless asked to.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from vigil.alerts.delivery import Message, Outbox, RetryPolicy, SQLOutboxStore, Subscription
from vigil.alerts.delivery import default_channels as _channels
from vigil.alerts.models import SubscriptionRecord, TopicRecord
from vigil.alerts.service import Transition
from vigil.errors import ConfigError
from vigil.store.db import Database
from vigil.store.errors import NotFoundError

SEVERITY = {"ALARM": "critical", "OK": "info", "INSUFFICIENT_DATA": "warning"}


def put_topic(db: Database, name: str) -> TopicRecord:
    """Create a topic (idempotent)."""
    with db.session() as s:
        row = s.get(TopicRecord, name) or TopicRecord(name=name)
        s.add(row)
        s.flush()
        return row


def subscribe(
    db: Database,
    topic: str,
    protocol: str,
    config: Mapping[str, Any],
    *,
    filter_policy: Mapping[str, Any] | None = None,
    retry: Mapping[str, Any] | None = None,
    id: str | None = None,
) -> Subscription:
    """Add a subscriber to a topic; the configuration is checked by building it."""
    sub_id = id or f"{topic}-{protocol}-{uuid.uuid4().hex[:8]}"
    sub = _subscription(sub_id, topic, protocol, dict(config), filter_policy, retry)
    with db.session() as s:
        if s.get(TopicRecord, topic) is None:
            raise NotFoundError(f"no topic named {topic!r}")
        row = s.get(SubscriptionRecord, sub_id) or SubscriptionRecord(id=sub_id)
        row.topic, row.protocol, row.config = topic, protocol, dict(config)
        row.filter_policy = dict(filter_policy) if filter_policy else None
        row.retry = dict(retry) if retry else None
        s.add(row)
    return sub


def _subscription(
    sub_id: str,
    topic: str,
    protocol: str,
    config: dict[str, Any],
    filter_policy: Mapping[str, Any] | None,
    retry: Mapping[str, Any] | None,
) -> Subscription:
    try:
        return Subscription(
            id=sub_id,
            protocol=protocol,
            config=config,
            topic=topic,
            filter_policy=filter_policy,
            retry=RetryPolicy.from_dict(retry) if retry else None,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"subscription {sub_id!r}: {exc}") from None


def subscriptions_of(db: Database, topic: str) -> list[Subscription]:
    """The subscriptions of a topic."""
    with db.session() as s:
        rows = list(s.scalars(select(SubscriptionRecord).where(SubscriptionRecord.topic == topic)))
    return [
        _subscription(r.id, r.topic, r.protocol, r.config, r.filter_policy, r.retry) for r in rows
    ]


def topics(db: Database) -> list[str]:
    """Every topic's name."""
    with db.session() as s:
        return [t.name for t in s.scalars(select(TopicRecord).order_by(TopicRecord.name))]


def make_outbox(db: Database, channels: Mapping[str, Any] | None = None) -> Outbox:
    """The server's outbox over the database."""
    return Outbox(SQLOutboxStore(db), channels or _channels(), workers=4)


def message_for(t: Transition, topic: str) -> Message:
    """The notification of one alarm transition to one topic."""
    status = "resolved" if t.new_state == "OK" else "firing"
    return Message(
        topic=topic,
        subject=f'{t.new_state}: "{t.alarm}" in vigil'[:100],
        body=f"Alarm {t.alarm} changed from {t.old_state} to {t.new_state}.\n\n{t.reason}",
        attributes={"alarm": t.alarm, "state": t.new_state, "previous_state": t.old_state},
        payload={
            "alarm": t.alarm,
            "state": t.new_state,
            "status": status,
            "severity": SEVERITY.get(t.new_state, "warning"),
            "source": "vigil",
            "reason": t.reason,
            "reason_data": t.reason_data,
            "starts_at": t.time.isoformat(),
        },
        created_at=t.time if t.time.tzinfo else t.time.replace(tzinfo=timezone.utc),
    )


def notify_transitions(
    db: Database, outbox: Outbox, transitions: Iterable[Transition], now: datetime | None = None
) -> int:
    """Queue one message per transition and topic named in its actions; returns how many
    deliveries were queued. Action names that are not topics are left to the action rules."""
    known = set(topics(db))
    queued = 0
    for t in transitions:
        for name in t.actions:
            if name in known:
                queued += outbox.enqueue(message_for(t, name), subscriptions_of(db, name), now)
    return queued
