"""The event bus: storing events (deduplicated), archiving them, counting runs, notifying
failures, and listing them back.

:func:`ingest_events` takes envelope events (from ``POST /api/v1/events``, the receivers,
``vigil events put``) and, in one transaction, stores each one not seen before: an ``id``
already stored, or a run's state change already stored under another id (SageMaker emits
several events for one change; :func:`vigil.events.runs.dedup_key`), is a duplicate and
answered with the stored event's id. What is stored is appended to the day's archive
(:mod:`vigil.store.event_archive`), counted in ``vigil/Platform`` (``RunsStarted``,
``RunsSucceeded``, ``RunsFailed``, ``RunsStopped``: one per run and status however many
events tell it; ``RunDuration`` in seconds on terminal states; dimensions ``Kind``,
``Name``) and, when a run failed, notified to the ``platform:`` topics
(:mod:`vigil.alerts.notify.platform`). The scheduler's ``dispatch_pending`` then hands the
events to the rules, as it does Vigil's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, tuple_

from vigil.alerts.notify.platform import (
    PlatformSpec,
    RunFailure,
    causes_of,
    get_platform_spec,
    notify_failures,
)
from vigil.alerts.notify.topics import make_outbox
from vigil.events.envelope import EnvelopeError, from_entry, parse_time
from vigil.events.runs import RunFacts, dedup_key, run_facts
from vigil.metrics.datum import MetricDatum
from vigil.store.db import Database
from vigil.store.event_archive import append_events
from vigil.store.event_rows import EXTERNAL_KIND, envelope_of, insert_events
from vigil.store.metrics import MetricStore
from vigil.store.models import Event
from vigil.store.settings import Settings

__all__ = [
    "MAX_ENTRIES",
    "PLATFORM_NAMESPACE",
    "EntryResult",
    "EventBus",
    "Ingested",
]

PLATFORM_NAMESPACE = "vigil/Platform"
#: entries one PutEvents call may carry here (AWS takes 10; a bigger batch is cheaper)
MAX_ENTRIES = 500
_COUNTERS = {
    "started": "RunsStarted",
    "succeeded": "RunsSucceeded",
    "failed": "RunsFailed",
    "stopped": "RunsStopped",
}
_KEEP = {"version", "id", "detail-type", "source", "account", "time", "region", "resources",
         "detail", "kind", "endpoint_name", "schedule_name"}


@dataclass(frozen=True)
class Ingested:
    """One event handed to :meth:`EventBus.ingest`: its id (the stored one's for a
    duplicate), and whether it was a duplicate."""

    id: str
    duplicate: bool


@dataclass(frozen=True)
class EntryResult:
    """One PutEvents entry's answer: ``EventId``, or ``ErrorCode`` and ``ErrorMessage``."""

    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    def to_dict(self) -> dict[str, str]:
        """As PutEvents answers it."""
        if self.event_id is not None:
            return {"EventId": self.event_id}
        return {"ErrorCode": self.error_code or "", "ErrorMessage": self.error_message or ""}


@dataclass
class _New:
    envelope: dict[str, Any]
    facts: RunFacts | None
    key: str | None
    time: datetime
    counted: bool = False
    failure: RunFailure | None = field(default=None)


class EventBus:
    """Events in and out of one installation (see the module's docstring)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        metrics: MetricStore | None = None,
        *,
        notify: bool = True,
    ) -> None:
        self.settings, self.db = settings, db
        self.metrics = metrics or MetricStore(db)
        self.notify = notify
        self._outbox: Any = None

    # -- in ---------------------------------------------------------------------------------

    def put_entries(
        self, entries: Sequence[Any], *, now: datetime | None = None
    ) -> dict[str, Any]:
        """PutEvents: every entry checked alone (a bad one fails with its reason, the others
        are stored); ``{"FailedEntryCount": n, "Entries": [...]}`` in the entries' order."""
        now = now or datetime.now(timezone.utc)
        results: list[EntryResult | None] = [None] * len(entries)
        good: list[tuple[int, dict[str, Any]]] = []
        for i, entry in enumerate(entries):
            try:
                good.append((i, from_entry(entry, now=now)))
            except EnvelopeError as exc:
                results[i] = EntryResult(error_code="InvalidArgument", error_message=exc.message)
        for (i, _), done in zip(good, self.ingest([e for _, e in good], now=now)):
            results[i] = EntryResult(event_id=done.id)
        out = [r.to_dict() for r in results if r is not None]
        return {"FailedEntryCount": sum(1 for r in out if "ErrorCode" in r), "Entries": out}

    def ingest(
        self, events: Sequence[Mapping[str, Any]], *, now: datetime | None = None
    ) -> list[Ingested]:
        """Store the envelope ``events`` not stored yet (see the module's docstring)."""
        now = now or datetime.now(timezone.utc)
        spec = get_platform_spec(self.db)
        prepared = [self._prepare(e, spec) for e in events]
        answers: list[Ingested] = []
        with self.db.session() as s:
            ids = {p.envelope["id"] for p in prepared}
            keys = {p.key for p in prepared if p.key}
            known_ids = set(s.scalars(select(Event.id).where(Event.id.in_(ids)))) if ids else set()
            known_keys: dict[str, str] = {}
            if keys:
                rows = s.execute(select(Event.dedup_key, Event.id).where(Event.dedup_key.in_(keys)))
                known_keys = {str(k): str(i) for k, i in rows}
            new: list[_New] = []
            for p in prepared:
                eid = p.envelope["id"]
                if eid in known_ids:
                    answers.append(Ingested(eid, True))
                elif p.key and p.key in known_keys:
                    answers.append(Ingested(known_keys[p.key], True))
                else:
                    known_ids.add(eid)
                    if p.key:
                        known_keys[p.key] = eid
                    new.append(p)
                    answers.append(Ingested(eid, False))
            self._mark_counted(s, new)
            if new:
                # Core's executemany: one statement for the batch
                insert_events(s.connection(), [self._row(p, now) for p in new])
            self._join_causes(s, new)
        if new:
            self._after_storing(new, now, spec)
        return answers

    def _prepare(self, envelope: Mapping[str, Any], spec: PlatformSpec) -> _New:
        env = dict(envelope)
        facts = run_facts(env, stopped_is_failure=spec.stopped_is_failure)
        t = parse_time(env["time"])
        p = _New(env, facts, dedup_key(facts) if facts else None, t)
        if facts is not None and facts.terminal and facts.status in ("failed", "stopped"):
            p.failure = RunFailure(facts, env["id"], env["source"], t)
        return p

    def publish_own(self, *, limit: int = 1000, now: datetime | None = None) -> int:
        """Publish Vigil's own events not published yet (training job state changes,
        monitoring executions, action runs, alarm transitions...: rows written where they
        happen, ``published_at`` unset) as :meth:`ingest` publishes what arrives: their run
        facts recorded on the row, counted in ``vigil/Platform`` once per run and status,
        appended to the day's archive, a failed or stopped run notified to the ``platform:``
        topics. Oldest first, at most ``limit``; returns how many were published. The
        server's loop calls it every tick, before the rules see the events."""
        now = now or datetime.now(timezone.utc)
        with self.db.session() as s:
            rows = list(
                s.scalars(
                    select(Event)
                    .where(Event.published_at.is_(None))
                    .order_by(Event.created_at)
                    .limit(limit)
                )
            )
            if not rows:
                return 0  # the usual tick: one indexed query
            spec = get_platform_spec(self.db)
            new = [self._prepare(envelope_of(r), spec) for r in rows]
            self._mark_counted(s, new)
            for row, p in zip(rows, new):
                f = p.facts
                if f is not None:
                    row.run_kind, row.run_name = f.kind, f.name[:255]
                    row.run_key, row.run_status = f.run_key[:255], f.status
                row.published_at = now
            self._join_causes(s, new)
        self._after_storing(new, now, spec)
        return len(new)

    def _after_storing(self, new: list[_New], now: datetime, spec: PlatformSpec) -> None:
        """What follows the storing of ``new``: the archive, the run figures, the failure
        notifications."""
        append_events(self.settings.events_archive_root, [p.envelope for p in new], now)
        self.metrics.put(self._figures(new))
        failures = [p.failure for p in new if p.failure is not None]
        if failures and self.notify:
            if self._outbox is None:
                self._outbox = make_outbox(self.db)
            notify_failures(self.db, self._outbox, failures, spec)

    @staticmethod
    def _row(p: _New, now: datetime) -> dict[str, Any]:
        e, f = p.envelope, p.facts
        extra = {k: v for k, v in e.items() if k not in _KEEP}
        return {
            "id": e["id"],
            "kind": e.get("kind") or EXTERNAL_KIND,
            "endpoint_name": e.get("endpoint_name"),
            "schedule_name": e.get("schedule_name"),
            "time": p.time,
            "detail": e["detail"],
            "created_at": now,
            "source": e["source"],
            "detail_type": e["detail-type"],
            "account": e["account"],
            "region": e["region"],
            "resources": e["resources"],
            "extra": extra or None,
            "dedup_key": p.key,
            "received_at": now,
            "run_kind": f.kind if f else None,
            "run_name": f.name[:255] if f else None,
            "run_key": f.run_key[:255] if f else None,
            "run_status": f.status if f else None,
            "published_at": now,
        }

    @staticmethod
    def _mark_counted(s: Any, new: list[_New]) -> None:
        """Which new events are the first of their (run, status): only those are counted."""
        pairs = {(p.facts.run_key[:255], p.facts.status) for p in new if p.facts and p.facts.status}
        seen: set[tuple[str, str]] = set()
        if pairs:
            rows = s.execute(
                select(Event.run_key, Event.run_status).where(
                    tuple_(Event.run_key, Event.run_status).in_(sorted(pairs))
                )
            )
            seen = {(str(k), str(v)) for k, v in rows}
        for p in new:
            if p.facts is None or p.facts.status is None:
                continue
            pair = (p.facts.run_key[:255], p.facts.status)
            if pair not in seen:
                seen.add(pair)
                p.counted = True
            elif p.failure is not None:
                p.failure = None  # told already: not notified twice

    @staticmethod
    def _join_causes(s: Any, new: list[_New]) -> None:
        """A CodePipeline pipeline failure carries no cause: its failed actions (stored, or in
        this batch) are found on its ``execution-id``."""
        for p in new:
            if p.failure is None or p.envelope["source"] != "aws.codepipeline":
                continue
            if p.failure.facts.kind != "pipeline":
                continue
            execution = str(p.envelope["detail"].get("execution-id") or "")
            if not execution:
                continue
            details = [
                q.envelope["detail"] for q in new
                if q.facts and q.facts.kind == "action" and q.facts.status == "failed"
                and q.envelope["detail"].get("execution-id") == execution
            ]
            stored = s.scalars(
                select(Event.detail).where(
                    Event.source == "aws.codepipeline",
                    Event.run_kind == "action",
                    Event.run_status == "failed",
                    Event.run_key.like(f"action/{p.failure.facts.name}/%/{execution}/%"),
                )
            )
            details.extend(d for d in stored if d.get("execution-id") == execution)
            if details:
                f = p.failure
                p.failure = RunFailure(f.facts, f.event_id, f.source, f.time, causes_of(details))

    @staticmethod
    def _figures(new: list[_New]) -> list[MetricDatum]:
        data = []
        for p in new:
            f = p.facts
            if f is None or not p.counted or f.status is None:
                continue
            dims = {"Kind": f.kind, "Name": f.name[:255]}
            data.append(
                MetricDatum(PLATFORM_NAMESPACE, _COUNTERS[f.status], dims, p.time, 1.0,
                            unit="Count")
            )
            if f.status == "stopped" and f.failure:
                data.append(
                    MetricDatum(PLATFORM_NAMESPACE, "RunsFailed", dims, p.time, 1.0, unit="Count")
                )
            if f.terminal and f.duration is not None and f.duration >= 0:
                data.append(
                    MetricDatum(PLATFORM_NAMESPACE, "RunDuration", dims, p.time, f.duration,
                                unit="Seconds")
                )
        return data

    # -- out --------------------------------------------------------------------------------

    def get(self, event_id: str) -> dict[str, Any] | None:
        """One stored event's envelope (with ``kind``...), or ``None``."""
        with self.db.session() as s:
            row = s.get(Event, event_id)
            return envelope_of(row) if row is not None else None


def envelopes(rows: Sequence[Event]) -> list[dict[str, Any]]:
    """The envelopes of stored rows."""
    return [envelope_of(r) for r in rows]
