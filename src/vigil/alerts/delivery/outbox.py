"""The durable delivery loop: enqueue, deliver due items, retry, dead-letter, redrive.

:meth:`Outbox.enqueue` stores one item per subscription whose filter policy accepts the
message (with a snapshot of the subscription). :meth:`Outbox.deliver_due` claims due items,
sends them through the subscription's channel (concurrently, on a thread pool) and records
each outcome: delivered after a 2xx only; on a retryable failure the next attempt is
scheduled from the subscription's :class:`~vigil.alerts.delivery.retry.RetryPolicy`; a
non-retryable failure or an exhausted policy moves the item to the dead letters with the
reason. Every item fails alone: a stored item that cannot be read back, a snapshot that no
longer parses, a channel that raises or an outcome that cannot be worked out is recorded as a
failed attempt of that item with the reason (retried or dead-lettered as usual) and told to
``on_error`` as ``("subscription", id, reason)``; the other items are delivered. Delivery is
at-least-once: a worker that dies between sending and recording leaves
its claim to expire after ``lease_seconds``, and the item is sent again with the same message
id, which receivers use to drop duplicates.

>>> from datetime import datetime, timezone
>>> from vigil.alerts.delivery.base import DeliveryResult
>>> class Flaky:
...     def __init__(self): self.calls = 0
...     def send(self, message, config):
...         self.calls += 1
...         return DeliveryResult(ok=self.calls > 1, retryable=True)
>>> t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
>>> outbox = Outbox(MemoryOutboxStore(), {"webhook": Flaky()})
>>> sub = Subscription(id="ops", protocol="webhook", config={"url": "http://x"})
>>> outbox.enqueue(Message(topic="t", subject="s", body="b"), [sub], now=t0)
1
>>> outbox.deliver_due(t0)
DeliveryCounts(claimed=1, delivered=0, retrying=1, dead=0)
>>> outbox.deliver_due(t0 + timedelta(seconds=20))
DeliveryCounts(claimed=1, delivered=1, retrying=0, dead=0)
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from vigil.alerts.delivery.base import Channel, DeliveryResult
from vigil.alerts.delivery.message import Message
from vigil.alerts.delivery.retry import HTTP_DEFAULT
from vigil.alerts.delivery.store import (
    MemoryOutboxStore,
    NewItem,
    OutboxRecord,
    OutboxStore,
    Outcome,
)
from vigil.alerts.delivery.subscription import Subscription
from vigil.errors import ConfigError
from vigil.store.columns import as_utc, utcnow
from vigil.store.secrets import scrub

log = logging.getLogger(__name__)

__all__ = ["DeliveryCounts", "ErrorHook", "MemoryOutboxStore", "Outbox"]

ErrorHook = Callable[[str, str, str], None]
"""Told ``(kind, name, message)`` of each item that failed alone (kind ``subscription``)."""


@functools.lru_cache(maxsize=1024)
def _parse_cached(snapshot: bytes) -> Subscription:
    return Subscription.from_dict(orjson.loads(snapshot))


def _parse_subscription(snapshot: Mapping[str, object]) -> Subscription:
    """The subscription of a stored snapshot (parsed once per distinct snapshot)."""
    return _parse_cached(orjson.dumps(snapshot, option=orjson.OPT_SORT_KEYS))


@dataclass(frozen=True)
class DeliveryCounts:
    """What one :meth:`Outbox.deliver_due` call did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0

    def __add__(self, other: DeliveryCounts) -> DeliveryCounts:
        return DeliveryCounts(self.claimed + other.claimed, self.delivered + other.delivered,
                              self.retrying + other.retrying, self.dead + other.dead)


class Outbox:
    """Deliveries over an :class:`~vigil.alerts.delivery.store.OutboxStore`.

    ``channels`` maps a protocol (``webhook``, ``email``...) to its channel. ``resolve``,
    when given, looks a subscription up by id at delivery time (so edits apply to queued
    items; ``None`` means it was deleted and the item goes to the dead letters); without it
    the snapshot taken at enqueue time is used. ``workers`` sends run at once.
    """

    def __init__(
        self,
        store: OutboxStore,
        channels: Mapping[str, Channel] | None = None,
        *,
        batch_size: int = 256,
        workers: int = 8,
        lease_seconds: float = 300.0,
        resolve: Callable[[str], Subscription | None] | None = None,
        rng: random.Random | None = None,
        on_error: ErrorHook | None = None,
    ) -> None:
        if batch_size < 1 or workers < 1 or lease_seconds <= 0:
            raise ConfigError("outbox: batch_size and workers must be >= 1, lease_seconds > 0")
        self.store = store
        self.channels: dict[str, Channel] = dict(channels or {})
        self.batch_size = batch_size
        self.workers = workers
        self.lease = timedelta(seconds=lease_seconds)
        self.resolve = resolve
        self.rng = rng or random.Random()
        self.on_error = on_error
        self._pool: ThreadPoolExecutor | None = None

    # -- publishing -------------------------------------------------------------------------

    def enqueue(
        self,
        message: Message,
        subscriptions: Iterable[Subscription],
        now: datetime | None = None,
    ) -> int:
        """Queue ``message`` for each subscription whose filter accepts it; returns how many
        items were stored (a message already queued for a subscription is not queued again).
        """
        return self.enqueue_many([(message, subscriptions)], now)

    def enqueue_many(
        self,
        batch: Iterable[tuple[Message, Iterable[Subscription]]],
        now: datetime | None = None,
    ) -> int:
        """:meth:`enqueue` for several messages, in one write to the store."""
        due = as_utc(now, "now") if now is not None else utcnow()
        items = [
            NewItem(
                message_id=message.id, subscription=sub.id, topic=message.topic,
                protocol=sub.protocol,
                payload={"message": message.to_dict(), "subscription": sub.to_dict()},
                next_attempt_at=due,
            )
            for message, subscriptions in batch
            for sub in subscriptions
            if sub.accepts(message.attributes)
        ]
        return self.store.add(items)

    # -- delivering -------------------------------------------------------------------------

    def deliver_due(
        self,
        now: datetime | None = None,
        channels: Mapping[str, Channel] | None = None,
        *,
        max_rounds: int = 1000,
        on_error: ErrorHook | None = None,
    ) -> DeliveryCounts:
        """Deliver every item due at ``now`` (including immediate retries) and return counts;
        an item that fails alone is told to ``on_error`` (by default the outbox's own)."""
        now = as_utc(now, "now") if now is not None else utcnow()
        chans = dict(channels) if channels is not None else self.channels
        told = on_error or self.on_error
        total = DeliveryCounts()
        for _ in range(max_rounds):
            token = str(uuid.uuid4())
            batch = self.store.claim(now, self.batch_size, now + self.lease, token)
            if not batch:
                break
            faults: dict[int, str] = {}
            results = self._send_all(batch, chans, faults)
            outcomes = [self._safe_outcome(r, res, now, faults) for r, res in zip(batch, results)]
            self._complete(outcomes, token, faults)
            for record in batch:
                if record.id in faults:
                    self._tell(told, record, faults[record.id])
            total = total + DeliveryCounts(
                claimed=len(batch),
                delivered=sum(o.status == "delivered" for o in outcomes),
                retrying=sum(o.status == "pending" for o in outcomes),
                dead=sum(o.status == "dead" for o in outcomes),
            )
        return total

    def _send_all(
        self, batch: Sequence[OutboxRecord], chans: Mapping[str, Channel], faults: dict[int, str]
    ) -> list[DeliveryResult]:
        if len(batch) == 1 or self.workers == 1:
            return [self._send_safe(r, chans, faults) for r in batch]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="vigil-delivery")
        return list(self._pool.map(lambda r: self._send_safe(r, chans, faults), batch))

    def _send_safe(
        self, record: OutboxRecord, chans: Mapping[str, Channel], faults: dict[int, str]
    ) -> DeliveryResult:
        """:meth:`_send_one`; what makes the item fail alone (not a receiver's answer) is
        noted in ``faults``."""
        if record.unreadable is not None:  # retried: the operator may restore the key
            faults[record.id] = f"stored item cannot be read: {record.unreadable}"
            return DeliveryResult(False, True, None, faults[record.id])
        try:
            result, fault = self._send_one(record, chans)
        except Exception as exc:  # scrubbing failed outside the channel: retry it
            result = DeliveryResult(False, True, None, f"{type(exc).__name__}: {exc}")
            fault = True
        if fault:
            faults[record.id] = result.error or "delivery failed"
        return result

    def _send_one(
        self, record: OutboxRecord, chans: Mapping[str, Channel]
    ) -> tuple[DeliveryResult, bool]:
        """The result of one attempt, and whether it failed by the item's own fault."""
        fault = False
        try:
            sub = self._subscription(record)
        except Exception as exc:  # a snapshot that no longer parses: no retry can fix it
            reason = f"subscription cannot be read: {type(exc).__name__}: {exc}"
            return DeliveryResult(False, False, None, reason), True
        try:
            if sub is None:
                return DeliveryResult(False, False, None, "subscription no longer exists"), False
            channel = chans.get(sub.protocol)
            if channel is None:
                reason = f"no channel configured for protocol {sub.protocol!r}"
                return DeliveryResult(False, False, None, reason), True
            message = Message.from_dict(record.payload["message"])
            result = channel.send(message, sub.config)
        except Exception as exc:  # a channel bug must not lose the message: retry it
            log.error("delivery of outbox item %s raised %s", record.id, type(exc).__name__)
            result = DeliveryResult(False, True, None, f"{type(exc).__name__}: {exc}")
            fault = True
        if result.error and sub is not None:  # never record or log a secret of it
            secrets = sub.secret_fields.secret_values(sub.config)
            result = DeliveryResult(result.ok, result.retryable, result.status,
                                    scrub(result.error, secrets))
        return result, fault

    def _subscription(self, record: OutboxRecord) -> Subscription | None:
        if self.resolve is not None:
            return self.resolve(record.subscription)
        return _parse_subscription(record.payload["subscription"])

    def _safe_outcome(
        self, record: OutboxRecord, result: DeliveryResult, now: datetime, faults: dict[int, str]
    ) -> Outcome:
        """:meth:`_outcome`, or, when it cannot be worked out, a failed attempt retried after
        the HTTP default delay (the item is noted in ``faults``)."""
        try:
            return self._outcome(record, result, now)
        except Exception as exc:
            reason = f"outcome cannot be recorded: {type(exc).__name__}: {exc}"
            faults.setdefault(record.id, reason)
            attempt = record.attempt + 1
            delay = HTTP_DEFAULT.next_delay(attempt - 1, self.rng)
            if delay is None:
                return Outcome(record.id, "dead", attempt, now, reason, None, None)
            return Outcome(record.id, "pending", attempt, now + timedelta(seconds=delay),
                           reason, None, None)

    def _complete(self, outcomes: list[Outcome], token: str, faults: dict[int, str]) -> None:
        """Record the outcomes in one write; when that fails, one by one, so one item that
        cannot be written fails alone (its claim expires and it is tried again)."""
        try:
            self.store.complete(outcomes, token)
            return
        except Exception:
            log.exception("recording %d outbox outcomes at once failed; one by one", len(outcomes))
        for outcome in outcomes:
            try:
                self.store.complete([outcome], token)
            except Exception as exc:
                faults.setdefault(outcome.id, f"outcome cannot be stored: {type(exc).__name__}: "
                                              f"{exc}")

    @staticmethod
    def _tell(told: ErrorHook | None, record: OutboxRecord, reason: str) -> None:
        log.error("outbox item %s of subscription %s failed alone: %s", record.id,
                  record.subscription, reason)
        if told is None:
            return
        try:
            told("subscription", record.subscription, reason)
        except Exception:  # counting must not stop delivery
            log.exception("reporting the failure of outbox item %s failed", record.id)

    def _outcome(self, record: OutboxRecord, result: DeliveryResult, now: datetime) -> Outcome:
        attempt = record.attempt + 1
        if result.ok:
            log.info("outbox item %s (%s) delivered", record.id, record.subscription,
                     extra={"attempt": attempt, "status": result.status})
            return Outcome(record.id, "delivered", attempt, now, result.error, result.status, now)
        error = result.error or "delivery failed"
        if result.retryable:
            try:
                policy = _parse_subscription(record.payload["subscription"]).retry_policy
            except Exception:  # an unreadable snapshot: fall back to the HTTP default
                policy = HTTP_DEFAULT
            delay = policy.next_delay(attempt - 1, self.rng)
            if delay is not None:
                log.info("outbox item %s (%s) attempt %d failed, retrying in %.1fs: %s",
                         record.id, record.subscription, attempt, delay, error)
                return Outcome(record.id, "pending", attempt, now + timedelta(seconds=delay),
                               error, result.status, None)
            error = f"retries exhausted after {attempt} attempts: {error}"
        log.warning("outbox item %s (%s) dead-lettered: %s", record.id, record.subscription,
                    error)
        return Outcome(record.id, "dead", attempt, now, error, result.status, None)

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Deliver due items every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.deliver_due()
            except Exception:  # keep the loop alive across a database hiccup
                log.exception("outbox delivery pass failed")
            stop.wait(interval)

    # -- dead letters -------------------------------------------------------------------------

    def list_dead_letters(self, subscription: str | None = None) -> list[OutboxRecord]:
        """Items that will not be retried (non-retryable failure or exhausted policy)."""
        return self.store.list("dead", subscription)

    def redrive(
        self,
        ids: Iterable[int] | None = None,
        *,
        subscription: str | None = None,
        now: datetime | None = None,
    ) -> int:
        """Send dead items again from a fresh retry policy; select by ids and/or subscription.
        Returns how many were put back."""
        if ids is None and subscription is None:
            raise ConfigError("redrive: give ids or a subscription")
        due = as_utc(now, "now") if now is not None else utcnow()
        return self.store.redrive(due, None if ids is None else list(ids), subscription)

    def close(self) -> None:
        """Stop the sending threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
