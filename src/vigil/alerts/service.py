"""Alarms as a service over the database: define, evaluate, record transitions.

``put_alarm`` creates or updates an alarm (an update keeps its state; a new alarm starts in
``INSUFFICIENT_DATA``). ``evaluate_alarms`` evaluates every metric alarm at once
(:func:`~vigil.alerts.alarms.evaluate_many`), then the composite alarms over the fresh states,
writes each transition to the alarm's history (human reason, reason data, the actions it
triggers) and an ``alarm_state_change`` event, and returns the transitions for delivery.
``compute_alarms`` is the same evaluation recording nothing (a preview at any time).

Beyond CloudWatch: an alarm without data says nothing (no OK out of ``INSUFFICIENT_DATA``
resting on no datapoint), and a faulty alarm (fields stored before the bounds, an error while
evaluating it) fails alone, keeping its state with the error as its state reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from vigil.alerts.alarms import (
    INSUFFICIENT_DATA,
    OK,
    CompositeAlarm,
    MetricAlarm,
    SuppressorMemory,
    evaluate_composite,
    evaluate_many,
)
from vigil.alerts.alarms.batch import BatchResult
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


ErrorHook = Callable[[str, str, str], None]
"""Told ``(kind, name, message)`` of each object that failed alone (``kind`` ``"alarm"``)."""

#: the start of the state reason of an alarm that cannot be evaluated (its state is kept)
EVALUATION_ERROR = "Evaluation error: "


@dataclass
class AlarmEvaluation:
    """One evaluation of every alarm: the states after it, its transitions (and the actions a
    suppressor released), the alarms that could not be evaluated and why."""

    now: datetime
    states: dict[str, str] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    released: list[Transition] = field(default_factory=list)
    faulty: dict[str, str] = field(default_factory=dict)
    memories: dict[str, dict[str, Any]] = field(default_factory=dict)


def _spec(row: AlarmRecord) -> MetricAlarm | CompositeAlarm:
    model = MetricAlarm if row.kind == "metric" else CompositeAlarm
    return model.model_validate(row.spec)


def _problem(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", "; ")
    return (text or type(exc).__name__)[:900]


def _metric_states(
    store: MetricStore,
    alarms: list[MetricAlarm],
    now: datetime,
    states: dict[str, str],
    faulty: dict[str, str],
) -> BatchResult:
    """Evaluate the metric alarms in one batch; when the batch raises, alarm by alarm, so a
    faulty alarm fails alone (its name and error land in ``faulty``)."""
    try:
        return evaluate_many(store, alarms, now, states)
    except Exception:  # find the alarm at fault below
        result = BatchResult()
    for alarm in alarms:
        try:
            one = evaluate_many(store, [alarm], now, states)
        except Exception as exc:  # one alarm fails alone
            faulty[alarm.name] = _problem(exc)
            continue
        result.states.update(one.states)
        result.transitions.extend(one.transitions)
    return result


def _silent(e: Any) -> bool:
    """An alarm without data says nothing: no OK out of INSUFFICIENT_DATA resting on no
    datapoint (``notBreaching`` over an empty range)."""
    data = e.reason_data or {}
    return (
        e.previous_state == INSUFFICIENT_DATA
        and e.state == OK
        and not data.get("recentDatapoints")
    )


def compute_alarms(db: Database, store: MetricStore, now: datetime) -> AlarmEvaluation:
    """Evaluate every alarm at ``now`` without recording anything: the states it gives, the
    transitions, and the alarms that cannot be evaluated (bad stored fields, an error while
    evaluating), each failing alone."""
    with db.session() as s:
        rows = {r.name: r for r in s.scalars(select(AlarmRecord))}
    out = AlarmEvaluation(now=now, states={name: r.state for name, r in rows.items()})
    metric: list[MetricAlarm] = []
    composite: list[CompositeAlarm] = []
    for name, r in rows.items():
        try:
            spec = _spec(r)
        except Exception as exc:  # stored before the bounds: fails alone
            out.faulty[name] = _problem(exc)
            continue
        if isinstance(spec, MetricAlarm):
            metric.append(spec)
        else:
            composite.append(spec)
    result = _metric_states(store, metric, now, out.states, out.faulty)
    for e in result.transitions:
        if _silent(e):
            result.states[e.alarm_name] = e.previous_state
            continue
        out.transitions.append(
            Transition(
                e.alarm_name, e.previous_state, e.state, e.reason, e.reason_data,
                list(e.actions), now,
            )
        )
    out.states.update(result.states)
    for alarm in composite:
        name = alarm.name
        try:
            c = evaluate_composite(
                alarm, out.states, now, out.states[name], _memory(rows[name].memory)
            )
        except Exception as exc:  # one alarm fails alone
            out.faulty[name] = _problem(exc)
            continue
        out.memories[name] = _memory_json(c.memory)
        if c.transition:
            out.transitions.append(
                Transition(
                    name, out.states[name], c.state, c.reason, c.reason_data, list(c.actions), now
                )
            )
            out.states[name] = c.state
        elif c.actions:  # actions held by the suppressor, released now
            out.released.append(
                Transition(
                    name,
                    c.state,
                    c.state,
                    "actions released: the suppressor no longer holds them",
                    c.reason_data,
                    list(c.actions),
                    now,
                )
            )
    return out


def evaluate_alarms(
    db: Database, store: MetricStore, now: datetime, *, on_error: ErrorHook | None = None
) -> list[Transition]:
    """Evaluate every alarm at ``now``; record and return the transitions.

    An alarm that cannot be evaluated fails alone: it keeps its state, its state reason says
    why (``Evaluation error: ...``) and ``on_error("alarm", name, message)`` is told."""
    out = compute_alarms(db, store, now)
    with db.session() as s:
        for t in out.transitions:
            row = s.get(AlarmRecord, t.alarm)
            if row is not None:  # deleted meanwhile: nothing to record
                _record(s, row, t)
        for name, memory in out.memories.items():
            row = s.get(AlarmRecord, name)
            if row is not None:
                row.memory = memory
        for name, message in out.faulty.items():
            row = s.get(AlarmRecord, name)
            reason = EVALUATION_ERROR + message
            if row is not None and row.state_reason != reason:
                row.state_reason, row.state_reason_data = reason, {"error": message}
                row.state_updated_at = now
    if on_error is not None:
        for name, message in out.faulty.items():
            on_error("alarm", name, message)
    return out.transitions + out.released


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
