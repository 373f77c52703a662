"""The rule language of composite alarms: parsed into a tree that says whether it holds.

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
vigil.alerts.alarms.rule.RuleSyntaxError: [config_error] alarm rule, position 15: \
expected TRUE, FALSE, NOT, ( or a state function, got the end of the rule
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vigil.alerts.alarms.states import ALARM, INSUFFICIENT_DATA, OK, STATES
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
