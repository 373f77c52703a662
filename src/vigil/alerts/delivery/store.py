"""The outbox's storage interface, its records, and the in-memory implementation.

A store holds one record per (message, subscription). Workers :meth:`~OutboxStore.claim`
due records (a claim pushes ``next_attempt_at`` out by a lease, so a crashed worker's claims
come due again: at-least-once) and :meth:`~OutboxStore.complete` them with their outcomes.

>>> from datetime import datetime, timezone
>>> t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
>>> store = MemoryOutboxStore()
>>> store.add([NewItem("m-1", "ops", "drift", "webhook", {"k": 1}, t0)])
1
>>> [r.message_id for r in store.claim(t0, limit=10, lease_until=t0, token="t")]
['m-1']
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class NewItem:
    """A delivery to enqueue."""

    message_id: str
    subscription: str
    topic: str
    protocol: str
    payload: dict[str, Any]
    next_attempt_at: datetime


@dataclass(frozen=True)
class OutboxRecord:
    """A stored delivery. ``attempt`` counts the attempts made so far; ``unreadable`` says
    why its stored payload could not be read back (a corrupt row, a secret that cannot be
    opened), and the item then fails alone."""

    id: int
    message_id: str
    subscription: str
    topic: str
    protocol: str
    payload: dict[str, Any]
    attempt: int
    next_attempt_at: datetime
    status: str
    last_error: str | None
    last_status: int | None
    created_at: datetime
    delivered_at: datetime | None
    claim_token: str | None = None
    unreadable: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of a claimed record after one attempt."""

    id: int
    status: str  # pending (retry later), delivered or dead
    attempt: int
    next_attempt_at: datetime
    last_error: str | None
    last_status: int | None
    delivered_at: datetime | None


class OutboxStore(Protocol):
    """Durable storage of outbox records; every method is one transaction."""

    def add(self, items: Sequence[NewItem]) -> int:
        """Insert new items, skipping (message_id, subscription) pairs already stored."""
        ...

    def claim(
        self, now: datetime, limit: int, lease_until: datetime, token: str
    ) -> list[OutboxRecord]:
        """Take up to ``limit`` pending items due at ``now``; they are due again at
        ``lease_until`` unless completed first."""
        ...

    def complete(self, outcomes: Sequence[Outcome], token: str) -> None:
        """Record outcomes of items claimed with ``token`` (stale claims are ignored)."""
        ...

    def list(
        self,
        status: str | None = None,
        subscription: str | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[OutboxRecord]:
        """Stored items, oldest first."""
        ...

    def redrive(
        self, now: datetime, ids: Iterable[int] | None = None, subscription: str | None = None
    ) -> int:
        """Put dead items (by id and/or subscription) back to pending, due at ``now``."""
        ...


class MemoryOutboxStore:
    """An :class:`OutboxStore` in a dict, for tests and single-process use (not durable)."""

    def __init__(self) -> None:
        self._rows: dict[int, OutboxRecord] = {}
        self._keys: set[tuple[str, str]] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, items: Sequence[NewItem]) -> int:
        added = 0
        with self._lock:
            for item in items:
                key = (item.message_id, item.subscription)
                if key in self._keys:
                    continue
                self._keys.add(key)
                rid = next(self._ids)
                self._rows[rid] = OutboxRecord(
                    id=rid, message_id=item.message_id, subscription=item.subscription,
                    topic=item.topic, protocol=item.protocol, payload=item.payload, attempt=0,
                    next_attempt_at=item.next_attempt_at, status="pending", last_error=None,
                    last_status=None, created_at=item.next_attempt_at, delivered_at=None,
                )
                added += 1
        return added

    def claim(
        self, now: datetime, limit: int, lease_until: datetime, token: str
    ) -> list[OutboxRecord]:
        with self._lock:
            due = sorted(
                (r for r in self._rows.values()
                 if r.status == "pending" and r.next_attempt_at <= now),
                key=lambda r: (r.next_attempt_at, r.id),
            )[:limit]
            out = []
            for r in due:
                claimed = replace(r, next_attempt_at=lease_until, claim_token=token)
                self._rows[r.id] = claimed
                out.append(claimed)
            return out

    def complete(self, outcomes: Sequence[Outcome], token: str) -> None:
        with self._lock:
            for o in outcomes:
                r = self._rows.get(o.id)
                if r is None or r.claim_token != token:
                    continue
                self._rows[o.id] = replace(
                    r, status=o.status, attempt=o.attempt, next_attempt_at=o.next_attempt_at,
                    last_error=o.last_error, last_status=o.last_status,
                    delivered_at=o.delivered_at, claim_token=None,
                )

    def list(
        self,
        status: str | None = None,
        subscription: str | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[OutboxRecord]:
        wanted = None if ids is None else set(ids)
        with self._lock:
            return [
                r for r in sorted(self._rows.values(), key=lambda r: r.id)
                if (status is None or r.status == status)
                and (subscription is None or r.subscription == subscription)
                and (wanted is None or r.id in wanted)
            ]

    def redrive(
        self, now: datetime, ids: Iterable[int] | None = None, subscription: str | None = None
    ) -> int:
        count = 0
        for r in self.list("dead", subscription, ids):
            with self._lock:
                self._rows[r.id] = replace(r, status="pending", attempt=0, next_attempt_at=now,
                                           claim_token=None)
            count += 1
        return count
