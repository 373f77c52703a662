"""Topics and their subscriptions as stored, and the outbox they publish to.

A topic is a named channel; each subscription is checked by building its
:class:`~vigil.alerts.delivery.Subscription` before it is stored, its secret settings sealed
(:mod:`vigil.store.secrets`), and a subscription id belongs to one topic only. The loaders
read what a whole evaluation needs in one query; ``Outbox.enqueue_many`` queues every message
of it in one write.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.alerts.delivery import (
    Outbox,
    RetryPolicy,
    SQLOutboxStore,
    Subscription,
    SubscriptionTakenError,
    secret_fields,
)
from vigil.alerts.delivery import default_channels as _channels
from vigil.errors import ConfigError
from vigil.store.db import Database
from vigil.store.errors import NotFoundError
from vigil.store.models import SubscriptionRecord, TopicRecord
from vigil.store.secrets import box_of, keep_stored, seal, unseal


def put_topic(db: Database, name: str, grouping: Mapping[str, Any] | None = None) -> TopicRecord:
    """Create or update a topic; ``grouping`` (group_by, group_wait, group_interval,
    repeat_interval, send_resolved) turns on Alertmanager-style grouping."""
    with db.session() as s:
        row = s.get(TopicRecord, name) or TopicRecord(name=name)
        row.grouping = dict(grouping) if grouping else None
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
    environ: Mapping[str, str] | None = None,
    min_severity: str | None = None,
) -> Subscription:
    """Add a subscriber to a topic, or update one of its own; the configuration is checked
    by building it and its secret settings are stored sealed.

    A redaction (``***``) where a secret is stored keeps that secret. ``environ`` (given by
    ``vigil apply``) resolves ``${env:NAME}`` references in secret settings; without it they
    are refused. An id that another topic uses is refused (:class:`SubscriptionTakenError`).
    ``min_severity`` (critical, high, warning or info) keeps the messages at least that urgent.
    """
    sub_id = id or f"{topic}-{protocol}-{uuid.uuid4().hex[:8]}"
    fields = secret_fields(protocol)
    box = box_of(db)
    with db.session() as s:
        if s.get(TopicRecord, topic) is None:
            raise NotFoundError(f"no topic named {topic!r}")
        row = s.get(SubscriptionRecord, sub_id)
        if row is not None and row.topic != topic:
            raise SubscriptionTakenError(
                f"subscription id {sub_id!r} belongs to topic {row.topic!r}; "
                "choose another id (ids are unique across topics)"
            )
        stored = dict(config)
        if row is not None and row.protocol == protocol:
            stored = keep_stored(fields, stored, row.config or {}, box)
        stored = seal(fields, stored, box, environ, what=f"subscription {sub_id!r} config")
        sub = _subscription(
            sub_id, topic, protocol, unseal(fields, stored, box), filter_policy, retry,
            min_severity,
        )
        row = row or SubscriptionRecord(id=sub_id)
        row.topic, row.protocol, row.config = topic, protocol, stored
        row.filter_policy = dict(filter_policy) if filter_policy else None
        row.retry = dict(retry) if retry else None
        row.min_severity = sub.min_severity
        s.add(row)
    return sub


def _subscription(
    sub_id: str,
    topic: str,
    protocol: str,
    config: dict[str, Any],
    filter_policy: Mapping[str, Any] | None,
    retry: Mapping[str, Any] | None,
    min_severity: str | None = None,
) -> Subscription:
    try:
        return Subscription(
            id=sub_id,
            protocol=protocol,
            config=config,
            topic=topic,
            filter_policy=filter_policy,
            retry=RetryPolicy.from_dict(retry) if retry else None,
            min_severity=min_severity,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"subscription {sub_id!r}: {exc}") from None


def _from_row(row: SubscriptionRecord, box: Any) -> Subscription:
    config = unseal(secret_fields(row.protocol), row.config or {}, box)
    return _subscription(
        row.id, row.topic, row.protocol, config, row.filter_policy, row.retry, row.min_severity
    )


def subscriptions_of(db: Database, topic: str) -> list[Subscription]:
    """The subscriptions of a topic."""
    with db.session() as s:
        return load_subscriptions(s, [topic], box_of(db)).get(topic, [])


def topics(db: Database) -> list[str]:
    """Every topic's name."""
    with db.session() as s:
        return [t.name for t in s.scalars(select(TopicRecord).order_by(TopicRecord.name))]


def load_topics(s: Session) -> dict[str, dict[str, Any] | None]:
    """Every topic's name and grouping (``None`` when it notifies each transition at once)."""
    return {t.name: t.grouping for t in s.scalars(select(TopicRecord))}


def load_subscriptions(
    s: Session, names: Iterable[str], box: Any = None
) -> dict[str, list[Subscription]]:
    """The subscriptions of each of these topics, in one query, secrets opened with ``box``
    (by default the box of the session's database)."""
    box = box if box is not None else box_of(s)
    wanted = sorted(set(names))
    out: dict[str, list[Subscription]] = {}
    if not wanted:
        return out
    query = select(SubscriptionRecord).where(SubscriptionRecord.topic.in_(wanted))
    for row in s.scalars(query):
        out.setdefault(row.topic, []).append(_from_row(row, box))
    return out


def make_outbox(db: Database, channels: Mapping[str, Any] | None = None) -> Outbox:
    """The server's outbox over the database."""
    return Outbox(SQLOutboxStore(db), channels or _channels(), workers=4, lease_seconds=60)
