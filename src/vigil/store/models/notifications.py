"""Topics, subscriptions, silences, notification groups and the delivery outbox.

The outbox holds one row per (message, subscription): the message and a snapshot of the
subscription in ``payload``, the attempts made, when the next is due and the status:
``pending`` (waiting or claimed by a worker until ``next_attempt_at``), ``delivered`` or
``dead`` (the dead-letter store: ``last_error`` says why;
:meth:`~vigil.alerts.delivery.outbox.Outbox.redrive` puts it back to ``pending``).
``(message_id, subscription)`` is unique, so enqueueing the same message twice does not
deliver it twice.

>>> OutboxItem.__tablename__, sorted(OutboxItem.__table__.c.keys())[:4]
('delivery_outbox', ['attempt', 'claim_token', 'created_at', 'delivered_at'])
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


class TopicRecord(Base):
    """A named channel of notifications."""

    __tablename__ = "topics"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    grouping: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # Alertmanager-style timers
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationGroup(Base):
    """The durable state of one notification group of a topic (alarms with equal
    ``group_by`` labels): its members' states and when it was last notified."""

    __tablename__ = "notification_groups"

    topic: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    members: Mapped[dict[str, Any]] = mapped_column(default=dict)  # alarm -> {state, reason}
    sent_firing: Mapped[list[str]] = mapped_column(JSON, default=list)
    changed: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    last_sent_at: Mapped[datetime | None]


class SubscriptionRecord(Base):
    """One subscriber of a topic: a protocol, its configuration, filter and retry policy."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    topic: Mapped[str] = mapped_column(String(NAME), index=True)
    protocol: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    filter_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    retry: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    min_severity: Mapped[str | None] = mapped_column(String(16))  # critical|high|warning|info
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SilenceRecord(Base):
    """Mutes notifications of matching alarms between ``starts_at`` and ``ends_at``."""

    __tablename__ = "silences"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    matchers: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. ['alarm=~"drift.*"']
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(NAME), default="")


class NotifiedState(Base):
    """The last state of an alarm that was notified to a topic (a resolve is owed after it)."""

    __tablename__ = "notified_states"

    alarm: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    topic: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))


CANCELLED = "cancelled"  # its subscription or topic was deleted before it was delivered
STATUSES = ("pending", "delivered", "dead", CANCELLED)


class OutboxItem(Base):
    """One delivery of one message to one subscription, and its state."""

    __tablename__ = "delivery_outbox"
    __table_args__ = (
        UniqueConstraint("message_id", "subscription", name="uq_delivery_outbox_message_sub"),
        Index("ix_delivery_outbox_due", "status", "next_attempt_at"),
        Index("ix_delivery_outbox_subscription", "subscription", "status"),
        Index("ix_delivery_outbox_claim", "claim_token"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    message_id: Mapped[str] = mapped_column(String(64))
    subscription: Mapped[str] = mapped_column(String(NAME))
    topic: Mapped[str] = mapped_column(String(NAME), default="")
    protocol: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claim_token: Mapped[str | None] = mapped_column(String(36))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
