"""EventBridge-style event patterns: which events a rule matches.

A pattern is a dict mirroring the event. Every key of the pattern must match (AND); a list
of values matches when any of them does (OR); a nested dict matches a nested object. Values
in a list are literals (``"ALARM"``, ``3``, ``true``, ``null``) or one-key operator dicts:

* ``{"prefix": "drift-"}``, ``{"suffix": ".csv"}``, ``{"equals-ignore-case": "alarm"}``
* ``{"anything-but": "OK"}``, ``{"anything-but": ["OK", "INSUFFICIENT_DATA"]}``,
  ``{"anything-but": {"prefix": "test-"}}``
* ``{"numeric": [">", 0, "<=", 5]}`` (operators ``=  <  <=  >  >=``)
* ``{"exists": true}`` / ``{"exists": false}`` (false matches a missing key)

When the event's value is a list, the pattern matches if any element matches. A bare scalar
in the pattern is read as a one-element list (EventBridge insists on the list; YAML users
forget it).

>>> pattern = {"kind": ["alarm_state_change"],
...            "detail": {"state": ["ALARM"], "alarm": [{"prefix": "drift-"}]}}
>>> event = {"kind": "alarm_state_change", "detail": {"state": "ALARM", "alarm": "drift-a"}}
>>> match(pattern, event)
True
>>> match(pattern, {**event, "detail": {"state": "OK", "alarm": "drift-a"}})
False
>>> match({"detail": {"violations": [{"numeric": [">", 0]}]}}, {"detail": {"violations": 3}})
True
>>> match({"detail": {"reason": [{"exists": False}]}}, {"detail": {}})
True
>>> validate_pattern({"detail": {"score": [{"numeric": [">>", 1]}]}})
Traceback (most recent call last):
...
vigil.events.patterns.PatternError: [event_pattern] pattern.detail.score: unknown numeric \
operator '>>' (expected one of =, <, <=, >, >=)
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from vigil.errors import ConfigError


class PatternError(ConfigError):
    """An event pattern that is not valid; the message names the path in the pattern."""

    code = "event_pattern"

_MISSING = object()
_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists")


def match(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether ``event`` matches ``pattern`` (see the module's docstring for the rules).

    >>> match({"kind": ["execution_completed"], "detail": {"status": ["Failed",
    ...        "CompletedWithViolations"]}},
    ...       {"kind": "execution_completed", "detail": {"status": "Failed"}})
    True
    >>> match({}, {"kind": "anything"})
    True
    """
    for key, expected in pattern.items():
        actual = event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING
        if isinstance(expected, Mapping):
            if not isinstance(actual, Mapping) or not match(expected, actual):
                return False
        elif not _match_values(_as_list(expected), actual):
            return False
    return True


def validate_pattern(pattern: Any, path: str = "pattern") -> None:
    """Raise :class:`PatternError`, naming the path, when ``pattern`` is not a valid pattern.

    >>> validate_pattern({"kind": ["a", {"prefix": "b"}], "detail": {"n": [{"exists": True}]}})
    >>> validate_pattern({"kind": [{"prefx": "a"}]})
    Traceback (most recent call last):
    ...
    vigil.events.patterns.PatternError: [event_pattern] pattern.kind: unknown operator 'prefx' \
(expected one of prefix, suffix, equals-ignore-case, anything-but, numeric, exists)
    """
    if not isinstance(pattern, Mapping):
        raise PatternError(f"{path}: expected an object, got {type(pattern).__name__}")
    for key, value in pattern.items():
        where = f"{path}.{key}"
        if not isinstance(key, str):
            raise PatternError(f"{where}: keys must be strings")
        if isinstance(value, Mapping):
            validate_pattern(value, where)
            continue
        values = _as_list(value)
        if not values:
            raise PatternError(f"{where}: an empty list matches nothing")
        for item in values:
            _validate_matcher(item, where)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _match_values(matchers: list[Any], actual: Any) -> bool:
    if actual is _MISSING:
        return any(_is_exists(m, False) for m in matchers)
    candidates = actual if isinstance(actual, list) else [actual]
    if not candidates:  # an empty array matches only "exists"
        return any(_is_exists(m, True) for m in matchers)
    return any(_match_one(m, value) for m in matchers for value in candidates)


def _is_exists(matcher: Any, flag: bool) -> bool:
    return isinstance(matcher, Mapping) and matcher.get("exists", _MISSING) is flag


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _match_one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, Mapping):
        if _is_number(matcher) and _is_number(value):
            return float(matcher) == float(value)
        return type(matcher) is type(value) and matcher == value
    ((op, arg),) = matcher.items()
    if op == "exists":
        return arg is True
    if op == "prefix":
        return isinstance(value, str) and value.startswith(arg)
    if op == "suffix":
        return isinstance(value, str) and value.endswith(arg)
    if op == "equals-ignore-case":
        return isinstance(value, str) and value.casefold() == arg.casefold()
    if op == "anything-but":
        if isinstance(arg, Mapping):
            return not _match_one(arg, value)
        return not any(_match_one(a, value) for a in _as_list(arg))
    if op == "numeric":
        if not _is_number(value):
            return False
        return all(_NUMERIC_OPS[arg[i]](value, arg[i + 1]) for i in range(0, len(arg), 2))
    return False


def _validate_matcher(item: Any, where: str) -> None:
    if not isinstance(item, Mapping):
        if item is not None and not isinstance(item, str | int | float | bool):
            raise PatternError(f"{where}: expected a literal or an operator, got {item!r}")
        return
    if len(item) != 1:
        raise PatternError(f"{where}: an operator object has exactly one key, got {dict(item)}")
    ((op, arg),) = item.items()
    if op not in _OPERATORS:
        raise PatternError(
            f"{where}: unknown operator {op!r} (expected one of {', '.join(_OPERATORS)})"
        )
    if op in ("prefix", "suffix", "equals-ignore-case") and not isinstance(arg, str):
        raise PatternError(f"{where}: {op} expects a string, got {arg!r}")
    if op == "exists" and not isinstance(arg, bool):
        raise PatternError(f"{where}: exists expects true or false, got {arg!r}")
    if op == "anything-but":
        if isinstance(arg, Mapping):
            if set(arg) - {"prefix", "suffix", "equals-ignore-case"}:
                raise PatternError(f"{where}: anything-but takes prefix, suffix or a list")
            _validate_matcher(arg, where)
        else:
            for value in _as_list(arg):
                if isinstance(value, Mapping | list):
                    raise PatternError(f"{where}: anything-but expects literals, got {value!r}")
    if op == "numeric":
        _validate_numeric(arg, where)


def _validate_numeric(arg: Any, where: str) -> None:
    if not isinstance(arg, list | tuple) or not arg or len(arg) % 2:
        raise PatternError(f"{where}: numeric expects [op, number, ...], got {arg!r}")
    for i in range(0, len(arg), 2):
        op, bound = arg[i], arg[i + 1]
        if op not in _NUMERIC_OPS:
            raise PatternError(
                f"{where}: unknown numeric operator {op!r} "
                f"(expected one of {', '.join(_NUMERIC_OPS)})"
            )
        if not _is_number(bound):
            raise PatternError(f"{where}: numeric bound after {op!r} must be a number")
