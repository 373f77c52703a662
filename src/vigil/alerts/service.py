"""Alarms as a service over the database: define, evaluate, record transitions.

``put_alarm`` creates or updates an alarm (an update keeps its state; a new alarm starts in
``INSUFFICIENT_DATA``). ``evaluate_alarms`` evaluates every metric alarm at once
(:func:`~vigil.alerts.alarms.evaluate_many`), then the composite alarms over the fresh states,
writes each transition to the alarm's history (human reason, reason data, the actions it
triggers) and an ``alarm_state_change`` event, and returns the transitions for delivery.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from vigil.alerts.alarms import (
    INSUFFICIENT_DATA,
    CompositeAlarm,
    MetricAlarm,
    SuppressorMemory,
    evaluate_composite,
    evaluate_many,
)
from vigil.errors import NotFoundError
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.models import AlarmHistory, AlarmRecord, Event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transition:
    """An alarm that changed state, and what it asks to run."""

    alarm: str
    old_state: str
    new_state: str
    reason: str
    reason_data: dict[str, Any]
    actions: list[str]
    time: datetime


def put_alarm(db: Database, alarm: MetricAlarm | CompositeAlarm) -> AlarmRecord:
    """Create or update an alarm, keeping the state of an existing one."""
    kind = "metric" if isinstance(alarm, MetricAlarm) else "composite"
    with db.session() as s:
        row = s.get(AlarmRecord, alarm.name)
        if row is None:
            row = AlarmRecord(name=alarm.name, kind=kind, state=INSUFFICIENT_DATA)
            s.add(row)
        row.kind, row.spec = kind, alarm.model_dump(mode="json")
        s.flush()
        return row


def get_alarm(db: Database, name: str) -> AlarmRecord:
    """One stored alarm; NotFoundError when there is none."""
    with db.session() as s:
        row = s.get(AlarmRecord, name)
        if row is None:
            raise NotFoundError(f"no alarm named {name!r}")
        return row


def history(db: Database, name: str, limit: int = 100) -> list[AlarmHistory]:
    """An alarm's transitions, newest first."""
    with db.session() as s:
        return list(
            s.scalars(
                select(AlarmHistory)
                .where(AlarmHistory.alarm_name == name)
                .order_by(AlarmHistory.time.desc(), AlarmHistory.id.desc())
                .limit(limit)
            )
        )


def _record(s: Any, row: AlarmRecord, t: Transition) -> None:
    log.info("alarm %s: %s -> %s", t.alarm, t.old_state, t.new_state, extra={"reason": t.reason})
    row.state, row.state_reason, row.state_reason_data = t.new_state, t.reason, t.reason_data
    row.state_updated_at = t.time
    s.add(
        AlarmHistory(
            alarm_name=t.alarm,
            time=t.time,
            old_state=t.old_state,
            new_state=t.new_state,
            reason=t.reason,
            reason_data=t.reason_data,
            actions=t.actions,
        )
    )
    s.add(
        Event(
            kind="alarm_state_change",
            time=t.time,
            detail={
                "alarm": t.alarm,
                "state": t.new_state,
                "previous": t.old_state,
                "reason": t.reason,
                "actions": t.actions,
            },
        )
    )


def evaluate_alarms(db: Database, store: MetricStore, now: datetime) -> list[Transition]:
    """Evaluate every alarm at ``now``; record and return the transitions."""
    with db.session() as s:
        rows = {r.name: r for r in s.scalars(select(AlarmRecord))}
    metric = [MetricAlarm.model_validate(r.spec) for r in rows.values() if r.kind == "metric"]
    states = {name: r.state for name, r in rows.items()}
    result = evaluate_many(store, metric, now, states)
    transitions = [
        Transition(
            e.alarm_name, e.previous_state, e.state, e.reason, e.reason_data, list(e.actions), now
        )
        for e in result.transitions
    ]
    states.update(result.states)
    memories: dict[str, dict[str, Any]] = {}
    released: list[Transition] = []
    for name, r in rows.items():
        if r.kind != "composite":
            continue
        alarm = CompositeAlarm.model_validate(r.spec)
        e = evaluate_composite(alarm, states, now, states[name], _memory(r.memory))
        memories[name] = _memory_json(e.memory)
        if e.transition:
            transitions.append(
                Transition(
                    name, states[name], e.state, e.reason, e.reason_data, list(e.actions), now
                )
            )
            states[name] = e.state
        elif e.actions:  # actions held by the suppressor, released now
            released.append(
                Transition(
                    name,
                    e.state,
                    e.state,
                    "actions released: the suppressor no longer holds them",
                    e.reason_data,
                    list(e.actions),
                    now,
                )
            )
    with db.session() as s:
        for t in transitions:
            row = s.get(AlarmRecord, t.alarm)
            if row is not None:  # deleted meanwhile: nothing to record
                _record(s, row, t)
        for name, memory in memories.items():
            row = s.get(AlarmRecord, name)
            if row is not None:
                row.memory = memory
    return transitions + released


def _memory(data: dict[str, Any]) -> SuppressorMemory:
    if not data:
        return SuppressorMemory()
    parsed = dict(data)
    for key in ("left_alarm_at", "pending_since"):
        if parsed.get(key):
            parsed[key] = datetime.fromisoformat(parsed[key])
    parsed["pending"] = tuple(parsed.get("pending", ()))
    return SuppressorMemory(**parsed)


def _memory_json(memory: SuppressorMemory) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, datetime) else list(v) if isinstance(v, tuple) else v)
        for k, v in asdict(memory).items()
    }
