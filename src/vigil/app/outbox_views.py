"""The delivery outbox as the dashboard reads it: counts per topic, subscription and status,
and the deliveries of a time range, newest first, with their attempts and last error.

An outbox row is ``pending`` (waiting, or *retrying* once an attempt failed), ``delivered``,
``dead`` (a dead letter: it will not be retried until redriven) or ``cancelled`` (its
subscription was deleted). Dead letters and their redrive are the outbox's own
(:meth:`~vigil.alerts.delivery.outbox.Outbox.list_dead_letters`, ``redrive``), as the API's
``/dead-letters`` routes use them.

>>> shown_status("pending", 0), shown_status("pending", 2), shown_status("dead", 4)
('pending', 'retrying', 'dead')
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from vigil.store.db import Database
from vigil.store.models import OutboxItem

log = logging.getLogger(__name__)

#: the statuses a row can have, as the page filters them (``retrying``: pending after a
#: failed attempt)
STATUSES = ("pending", "retrying", "delivered", "dead", "cancelled")
#: the most rows one listing returns
ITEM_LIMIT = 200


def shown_status(status: str, attempt: int) -> str:
    """The status the dashboard shows: ``retrying`` for a pending row with failed attempts."""
    return "retrying" if status == "pending" and attempt > 0 else status


@dataclass
class SubscriptionCounts:
    """The deliveries of one subscription of a topic, by status, in a time range."""

    topic: str
    subscription: str
    protocol: str
    counts: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Delivery:
    """One row of the outbox, without its payload (but the message's subject)."""

    id: int
    created_at: datetime
    topic: str
    subscription: str
    protocol: str
    subject: str | None
    status: str  # as :func:`shown_status` gives it
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None


def outbox_counts(db: Database, start: datetime, end: datetime) -> list[SubscriptionCounts]:
    """Per topic and subscription, the deliveries created in ``[start, end]`` by status, and
    the newest error among them; sorted by topic then subscription."""
    t = OutboxItem
    retrying = (t.status == "pending") & (t.attempt > 0)
    where = (t.created_at >= start, t.created_at <= end)
    with db.session() as s:
        groups = s.execute(
            select(t.topic, t.subscription, t.protocol, t.status, retrying.label("retrying"),
                   func.count(), func.max(t.id))
            .where(*where)
            .group_by(t.topic, t.subscription, t.protocol, t.status, retrying)
        ).all()
        errors = dict(
            s.execute(
                select(t.subscription, t.last_error)
                .where(*where, t.last_error.is_not(None),
                       t.id.in_(select(func.max(t.id)).where(*where, t.last_error.is_not(None))
                                .group_by(t.subscription)))
            ).tuples().all()
        )
    out: dict[tuple[str, str], SubscriptionCounts] = {}
    for topic, sub, protocol, status, is_retrying, count, _ in groups:
        entry = out.setdefault((topic, sub), SubscriptionCounts(topic, sub, protocol))
        key = "retrying" if is_retrying else status
        entry.counts[key] = entry.counts.get(key, 0) + int(count)
    for (_, sub), entry in out.items():
        entry.last_error = errors.get(sub)
    return [out[k] for k in sorted(out)]


def outbox_items(
    db: Database,
    start: datetime,
    end: datetime,
    *,
    status: str | None = None,
    topic: str | None = None,
    subscription: str | None = None,
    limit: int = ITEM_LIMIT,
) -> list[Delivery]:
    """The deliveries created in ``[start, end]``, newest first, at most ``limit``; with
    ``status`` (one of :data:`STATUSES`), ``topic`` or ``subscription``, only those."""
    t = OutboxItem
    where: list[Any] = [t.created_at >= start, t.created_at <= end]
    if status == "retrying":
        where += [t.status == "pending", t.attempt > 0]
    elif status == "pending":
        where += [t.status == "pending", t.attempt == 0]
    elif status:
        where.append(t.status == status)
    if topic:
        where.append(t.topic == topic)
    if subscription:
        where.append(t.subscription == subscription)
    columns = [t.id, t.created_at, t.topic, t.subscription, t.protocol, t.status, t.attempt,
               t.next_attempt_at, t.delivered_at, t.last_status, t.last_error]
    query = select(*columns).where(*where).order_by(t.id.desc()).limit(limit)
    subject = t.payload["message"]["subject"].as_string()
    rows: list[Any]
    with db.session() as s:
        try:
            rows = list(s.execute(query.add_columns(subject)).all())
        except Exception:  # a payload that does not decode: list the rows without subjects
            log.warning("outbox subjects cannot be read; listing deliveries without them")
            s.rollback()
            rows = [(*r, None) for r in s.execute(query).all()]
    return [
        Delivery(
            id=r[0], created_at=r[1], topic=r[2], subscription=r[3], protocol=r[4],
            subject=r[11], status=shown_status(r[5], r[6]), attempts=r[6],
            next_attempt_at=r[7], delivered_at=r[8], last_status=r[9], last_error=r[10],
        )
        for r in rows
    ]
