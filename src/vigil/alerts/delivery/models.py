"""The outbox table on Vigil's shared declarative ``Base``.

One row per (message, subscription): the message and a snapshot of the subscription in
``payload``, the attempts made, when the next is due and the status: ``pending`` (waiting
or claimed by a worker until ``next_attempt_at``), ``delivered`` or ``dead`` (the dead-letter
store: ``last_error`` says why; :meth:`~vigil.alerts.delivery.outbox.Outbox.redrive` puts it
back to ``pending``). ``(message_id, subscription)`` is unique, so enqueueing the same message
twice does not deliver it twice.

>>> OutboxItem.__tablename__, sorted(OutboxItem.__table__.c.keys())[:4]
('delivery_outbox', ['attempt', 'claim_token', 'created_at', 'delivered_at'])
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models import NAME, Base

STATUSES = ("pending", "delivered", "dead")


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
