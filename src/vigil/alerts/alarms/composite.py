"""Composite alarms: the rule language, its evaluation and the actions suppressor.

Grammar (precedence ``NOT`` > ``AND`` > ``OR``; keywords upper case, as in CloudWatch)::

    rule  := or
    or    := and ("OR" and)*
    and   := not ("AND" not)*
    not   := "NOT" not | atom
    atom  := "TRUE" | "FALSE" | "(" or ")" | STATE "(" name ")"
    STATE := "ALARM" | "OK" | "INSUFFICIENT_DATA"
    name  := "double-quoted text" (\\" escapes a quote) | text without spaces, quotes, parens

>>> rule = parse_rule('ALARM(cpu) OR ALARM(mem) AND NOT OK("disk full")')
>>> rule
Or(Is('ALARM', 'cpu'), And(Is('ALARM', 'mem'), Not(Is('OK', 'disk full'))))
>>> rule.holds({"cpu": "OK", "mem": "ALARM", "disk full": "ALARM"})
True
>>> parse_rule("ALARM(cpu) AND")
Traceback (most recent call last):
...
vigil.alerts.alarms.composite.RuleSyntaxError: [config_error] alarm rule, position 15: \
expected TRUE, FALSE, NOT, ( or a state function, got the end of the rule

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

from vigil.alerts.alarms.spec import ALARM, INSUFFICIENT_DATA, OK, STATES, CompositeAlarm
from vigil.errors import ConfigError, InputError


class RuleSyntaxError(ConfigError):
    """An alarm rule that does not parse; the message names the position (1-based)."""


# -- the rule tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    value: bool

    def holds(self, states: Mapping[str, str]) -> bool:
        return self.value

    def names(self) -> set[str]:
        return set()

    def __repr__(self) -> str:
        return "TRUE" if self.value else "FALSE"


@dataclass(frozen=True)
class Is:
    state: str
    name: str

    def holds(self, states: Mapping[str, str]) -> bool:
        if self.name not in states:
            raise InputError(f"alarm rule: no state for alarm {self.name!r}")
        return states[self.name] == self.state

    def names(self) -> set[str]:
        return {self.name}

    def __repr__(self) -> str:
        return f"Is({self.state!r}, {self.name!r})"


@dataclass(frozen=True)
class Not:
    operand: Rule

    def holds(self, states: Mapping[str, str]) -> bool:
        return not self.operand.holds(states)

    def names(self) -> set[str]:
        return self.operand.names()

    def __repr__(self) -> str:
        return f"Not({self.operand!r})"


@dataclass(frozen=True)
class And:
    left: Rule
    right: Rule

    def holds(self, states: Mapping[str, str]) -> bool:
        return self.left.holds(states) and self.right.holds(states)

    def names(self) -> set[str]:
        return self.left.names() | self.right.names()

    def __repr__(self) -> str:
        return f"And({self.left!r}, {self.right!r})"


@dataclass(frozen=True)
class Or:
    left: Rule
    right: Rule

    def holds(self, states: Mapping[str, str]) -> bool:
        return self.left.holds(states) or self.right.holds(states)

    def names(self) -> set[str]:
        return self.left.names() | self.right.names()

    def __repr__(self) -> str:
        return f"Or({self.left!r}, {self.right!r})"


Rule = Const | Is | Not | And | Or

# -- the parser -----------------------------------------------------------------------------

_WORDS = {"TRUE", "FALSE", "AND", "OR", "NOT", ALARM, OK, INSUFFICIENT_DATA}


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, 1-based position) tokens; kinds: word, name, (, ), end."""
    out: list[tuple[str, str, int]] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append((c, c, i + 1))
            i += 1
        elif c == '"':
            j, chars = i + 1, []
            while j < len(text) and text[j] != '"':
                if text[j] == "\\" and j + 1 < len(text):
                    j += 1
                chars.append(text[j])
                j += 1
            if j >= len(text):
                raise RuleSyntaxError(f"alarm rule, position {i + 1}: unterminated quoted name")
            out.append(("name", "".join(chars), i + 1))
            i = j + 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in '()"':
                j += 1
            word = text[i:j]
            out.append(("word" if word in _WORDS else "name", word, i + 1))
            i = j
    out.append(("end", "", len(text) + 1))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, expected: str) -> RuleSyntaxError:
        kind, text, pos = self.peek()
        got = "the end of the rule" if kind == "end" else repr(text)
        return RuleSyntaxError(f"alarm rule, position {pos}: expected {expected}, got {got}")

    def expect(self, kind: str, expected: str) -> tuple[str, str, int]:
        if self.peek()[0] != kind:
            raise self.fail(expected)
        return self.take()

    def rule(self) -> Rule:
        node = self.or_()
        if self.peek()[0] != "end":
            raise self.fail("AND, OR or the end of the rule")
        return node

    def or_(self) -> Rule:
        node = self.and_()
        while self.peek()[:2] == ("word", "OR"):
            self.take()
            node = Or(node, self.and_())
        return node

    def and_(self) -> Rule:
        node = self.not_()
        while self.peek()[:2] == ("word", "AND"):
            self.take()
            node = And(node, self.not_())
        return node

    def not_(self) -> Rule:
        if self.peek()[:2] == ("word", "NOT"):
            self.take()
            return Not(self.not_())
        return self.atom()

    def atom(self) -> Rule:
        kind, text, _ = self.peek()
        if kind == "(":
            self.take()
            node = self.or_()
            self.expect(")", "')'")
            return node
        if kind == "word" and text in ("TRUE", "FALSE"):
            self.take()
            return Const(text == "TRUE")
        if kind == "word" and text in STATES:
            self.take()
            self.expect("(", f"'(' after {text}")
            name_kind, name, _ = self.peek()
            if name_kind != "name" and not (name_kind == "word" and name not in STATES):
                raise self.fail("an alarm name")
            self.take()
            self.expect(")", "')' after the alarm name")
            return Is(text, name)
        raise self.fail("TRUE, FALSE, NOT, ( or a state function")


def parse_rule(text: str) -> Rule:
    """Parse an alarm rule; :class:`RuleSyntaxError` names the position of the problem."""
    if not isinstance(text, str) or not text.strip():
        raise RuleSyntaxError("alarm rule, position 1: expected a rule, got an empty text")
    return _Parser(text).rule()


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
