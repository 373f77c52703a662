"""EventBridge event patterns: which events a rule matches (aws/event-ruler's semantics).

A pattern is an object mirroring the event. Every key of the pattern must match (AND); a list
of values matches when any of them does (OR); a nested object matches a nested object (and,
when the event holds an array of objects there, any one element of it). Absent pattern keys
are ignored; named event fields must exist. A list's entries are literals or one-key
operator objects:

* literals: ``"ALARM"``, ``3``, ``true``, ``null``, ``""``. Strings match exactly; numbers
  match by their JSON text (``300`` is not ``300.0``) unless ``numeric`` is used;
* ``{"prefix": "drift-"}``, ``{"suffix": ".csv"}``, both also as
  ``{"prefix": {"equals-ignore-case": "DRIFT-"}}``; ``{"equals-ignore-case": "alarm"}``;
* ``{"wildcard": "dir/*.png"}``: ``*`` any run of characters, ``\\*`` a star, ``\\\\`` a
  backslash, never two ``*`` in a row;
* ``{"anything-but": "OK"}``, a list of all strings or all numbers, or
  ``{"anything-but": {"prefix" | "suffix" | "equals-ignore-case" | "wildcard": s or [s, ...]}}``
  (it matches every value, of any type, that the inner form does not exclude);
* ``{"numeric": [">", 0, "<=", 5]}`` or ``["=", 3.018e2]`` (JSON numbers only);
* ``{"exists": true}`` / ``{"exists": false}``: on leaves only, so ``false`` also matches a
  key that leads to an object (or to an empty array);
* ``{"cidr": "10.0.0.0/24"}`` (IPv4 or IPv6 addresses given as strings).

``"$or": [{...}, {...}]`` (two or more objects whose keys are not operator names) matches
when any of its objects does, and nests; any other ``$or`` is an ordinary field name. When
the event's value is an array, the pattern matches if any element does. A bare scalar in
the pattern is read as a one-element list (EventBridge insists on the list; YAML users
forget it).

A pattern is compiled once (:func:`compile_pattern`) into closures; :func:`match` takes a
compiled pattern or a plain one (compiled on each call). Parsed JSON cannot tell ``3.0e2``
from ``300.0``, so those two literals are the same here.

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
>>> match({"$or": [{"a": [1]}, {"b": [{"wildcard": "x*z"}]}]}, {"a": 2, "b": "xyz"})
True
>>> validate_pattern({"detail": {"score": [{"numeric": [">>", 1]}]}})
Traceback (most recent call last):
...
vigil.events.pattern_compile.PatternError: [event_pattern] pattern.detail.score[0]: unknown \
numeric operator '>>' (expected one of =, <, <=, >, >=)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vigil.events.pattern_compile import EventFn, PatternError, compile_object

__all__ = ["CompiledPattern", "PatternError", "compile_pattern", "match", "validate_pattern"]


@dataclass(frozen=True)
class CompiledPattern:
    """A validated pattern and its matcher; call it (or :meth:`matches`) with an event.

    >>> p = compile_pattern({"source": [{"prefix": "aws."}]})
    >>> p({"source": "aws.sagemaker"}), p.matches({"source": "vigil"})
    (True, False)
    """

    pattern: Mapping[str, Any]
    fn: EventFn = field(repr=False, compare=False)

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` matches."""
        return self.fn(event)

    def __call__(self, event: Mapping[str, Any]) -> bool:
        return self.fn(event)


def compile_pattern(pattern: Mapping[str, Any], path: str = "pattern") -> CompiledPattern:
    """Validate ``pattern`` and compile it; :class:`PatternError` names the path of a fault.

    >>> compile_pattern({"a": [{"anything-but": ["x", 1]}]})
    Traceback (most recent call last):
    ...
    vigil.events.pattern_compile.PatternError: [event_pattern] pattern.a[0]: anything-but \
expects a string, a number, or a list of all strings or all numbers, got ['x', 1]
    """
    return CompiledPattern(pattern, compile_object(pattern, path))


def match(pattern: Mapping[str, Any] | CompiledPattern, event: Mapping[str, Any]) -> bool:
    """Whether ``event`` matches ``pattern`` (see the module's docstring for the rules).

    >>> match({"kind": ["execution_completed"], "detail": {"status": ["Failed",
    ...        "CompletedWithViolations"]}},
    ...       {"kind": "execution_completed", "detail": {"status": "Failed"}})
    True
    >>> match({}, {"kind": "anything"})
    True
    """
    if isinstance(pattern, CompiledPattern):
        return pattern.fn(event)
    return compile_object(pattern, "pattern")(event)


def validate_pattern(pattern: Any, path: str = "pattern") -> None:
    """Raise :class:`PatternError`, naming the path, when ``pattern`` is not a valid pattern.

    >>> validate_pattern({"kind": ["a", {"prefix": "b"}], "detail": {"n": [{"exists": True}]}})
    >>> validate_pattern({"kind": [{"prefx": "a"}]})
    Traceback (most recent call last):
    ...
    vigil.events.pattern_compile.PatternError: [event_pattern] pattern.kind[0]: unknown \
operator 'prefx' (expected one of prefix, suffix, equals-ignore-case, wildcard, anything-but, \
numeric, exists, cidr)
    """
    compile_object(pattern, path)
