"""Composite alarms: evaluation of the rule (:mod:`vigil.alerts.alarms.rule`) and the
actions suppressor.

**Actions suppressor** (state machine, explicit timestamps; :func:`evaluate_composite`).
Actions of a transition become *pending*, and pending actions run at the first evaluation
where none of these holds:

- the suppressor alarm is in ALARM (suppressed);
- the suppressor left ALARM less than ``extension_period`` seconds ago (extension);
- the composite went into ALARM less than ``wait_period`` seconds ago and the suppressor has
  not been in ALARM since (wait: give the suppressor time to fire first).

A new transition replaces pending actions (they belonged to a state the alarm left), so
actions only ever run for the state the composite is in. The suppressor's state is sampled
at each evaluation: the timestamps are those of evaluations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from vigil.alerts.alarms.rule import RuleSyntaxError, parse_rule
from vigil.alerts.alarms.spec import CompositeAlarm
from vigil.alerts.alarms.states import ALARM, INSUFFICIENT_DATA, OK

__all__ = [
    "CompositeEvaluation",
    "RuleSyntaxError",
    "SuppressorMemory",
    "evaluate_composite",
    "parse_rule",
]


# -- evaluation with the actions suppressor -----------------------------------------------


@dataclass(frozen=True)
class SuppressorMemory:
    """What the suppressor state machine keeps between evaluations (persist it)."""

    suppressor_state: str = INSUFFICIENT_DATA
    left_alarm_at: datetime | None = None
    pending: tuple[str, ...] = ()
    pending_state: str | None = None
    pending_since: datetime | None = None


@dataclass(frozen=True)
class CompositeEvaluation:
    """The outcome of one evaluation of a composite alarm."""

    alarm_name: str
    state: str
    previous_state: str
    reason: str
    reason_data: dict[str, Any]
    actions: list[str] = field(default_factory=list)
    held: str | None = None  # why pending actions did not run now (None: nothing held)
    memory: SuppressorMemory = field(default_factory=SuppressorMemory)

    @property
    def transition(self) -> bool:
        """True when the state changed."""
        return self.state != self.previous_state


def evaluate_composite(
    alarm: CompositeAlarm,
    states: Mapping[str, str],
    now: datetime,
    current_state: str = INSUFFICIENT_DATA,
    memory: SuppressorMemory | None = None,
) -> CompositeEvaluation:
    """Evaluate ``alarm`` against the other alarms' ``states`` at ``now``.

    ALARM when the rule holds, else OK. Actions follow the suppressor rules of the module
    docstring; pass the returned ``memory`` to the next call.

    >>> from datetime import datetime, timezone
    >>> c = CompositeAlarm(name="svc", alarm_rule="ALARM(cpu) AND ALARM(errors)",
    ...                    alarm_actions=["page"])
    >>> e = evaluate_composite(c, {"cpu": "ALARM", "errors": "ALARM"},
    ...                        datetime(2024, 5, 1, tzinfo=timezone.utc), "OK")
    >>> e.state, e.actions, e.reason
    ('ALARM', ['page'], 'Alarm rule evaluated to TRUE: ALARM(cpu) AND ALARM(errors)')
    """
    rule = parse_rule(alarm.alarm_rule)
    memory = memory or SuppressorMemory()
    holds = rule.holds(states)
    state = ALARM if holds else OK
    reason = f"Alarm rule evaluated to {'TRUE' if holds else 'FALSE'}: {alarm.alarm_rule}"
    data = {
        "version": "1.0",
        "queryDate": now.isoformat(),
        "triggeringAlarms": [
            {"name": name, "state": states[name]} for name in sorted(rule.names())
        ],
    }
    if state != current_state:
        actions = tuple(alarm.actions_for(state)) if alarm.actions_enabled else ()
        memory = replace(memory, pending=actions, pending_state=state, pending_since=now)
    if alarm.actions_suppressor is None:
        run, held, memory = list(memory.pending), None, replace(memory, pending=())
    else:
        run, held, memory = _suppress(alarm, states, now, memory)
    return CompositeEvaluation(alarm.name, state, current_state, reason, data, run, held, memory)


def _suppress(
    alarm: CompositeAlarm, states: Mapping[str, str], now: datetime, memory: SuppressorMemory
) -> tuple[list[str], str | None, SuppressorMemory]:
    name = alarm.actions_suppressor
    assert name is not None
    suppressor = states.get(name, INSUFFICIENT_DATA)
    left_at = memory.left_alarm_at
    if suppressor == ALARM:
        left_at = None
    elif memory.suppressor_state == ALARM:
        left_at = now
    memory = replace(memory, suppressor_state=suppressor, left_alarm_at=left_at)
    if not memory.pending:
        return [], None, memory
    extension = timedelta(seconds=alarm.actions_suppressor_extension_period or 0)
    wait = timedelta(seconds=alarm.actions_suppressor_wait_period or 0)
    since = memory.pending_since
    assert since is not None
    held = None
    if suppressor == ALARM:
        held = f"suppressed: actions suppressor {name!r} is in ALARM"
    elif left_at is not None and now < left_at + extension:
        held = f"extension period: suppressor {name!r} left ALARM at {left_at.isoformat()}"
    elif (
        memory.pending_state == ALARM
        and now < since + wait
        and not (left_at is not None and left_at >= since)
    ):
        held = f"wait period: waiting until {(since + wait).isoformat()} for {name!r}"
    if held is not None:
        return [], held, memory
    return list(memory.pending), None, replace(memory, pending=(), pending_since=None)
