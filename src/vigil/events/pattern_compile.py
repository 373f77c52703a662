"""Compiling an EventBridge pattern into closures: validation and matching in one pass.

:func:`compile_object` walks a pattern once, raises :class:`PatternError` naming the path of
the first malformed entry, and returns a function ``event -> bool``. The semantics are
aws/event-ruler's (see :mod:`vigil.events.patterns` for the language).

>>> fn = compile_object({"detail": {"n": [{"numeric": [">", 1]}]}}, "pattern")
>>> fn({"detail": {"n": 2}}), fn({"detail": {"n": 1}}), fn({"detail": [{"n": 5}]})
(True, False, True)
>>> compile_object({"a": [{"wildcard": "a**"}]}, "pattern")
Traceback (most recent call last):
...
vigil.events.pattern_compile.PatternError: [event_pattern] pattern.a[0]: wildcard 'a**' has \
two '*' in a row
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from vigil.errors import ConfigError


class PatternError(ConfigError):
    """An event pattern that is not valid; the message names the path in the pattern."""

    code = "event_pattern"


Predicate = Callable[[Any], bool]
EventFn = Callable[[Any], bool]

MISSING: Any = object()
_NULL = ("null",)

#: The operators a matcher object may hold.
OPERATORS = (
    "prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists",
    "cidr",
)  # fmt: skip
#: Keys that make a ``$or`` list an ordinary field (event-ruler's reserved names).
RESERVED_IN_OR = frozenset(
    (*OPERATORS, "exactly", "=", "<", "<=", ">", ">=", "regex", "not-wildcard",
     "not-equals-ignore-case", "date-after", "date-on-or-after", "date-before",
     "date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range")
)  # fmt: skip
NUMERIC_OPS = ("=", "<", "<=", ">", ">=")


def is_number(value: Any) -> bool:
    """A JSON number: an int or a finite float, never a bool."""
    t = type(value)
    return (t is int or t is float) and not (t is float and not math.isfinite(value))


def literal_key(value: Any) -> Any:
    """The key an exact match compares: strings as is, numbers by their JSON text.

    >>> literal_key(300) == literal_key(300.0), literal_key("a"), literal_key(True)
    (False, 'a', ('bool', True))
    """
    t = type(value)
    if t is str:
        return value
    if value is None:
        return _NULL
    if t is bool:
        return ("bool", value)
    if t is int:
        return ("num", str(value))
    if t is float:
        return ("num", repr(value))
    return None


def is_or_list(value: Any) -> bool:
    """Whether ``value`` (the value of a ``$or`` key) is event-ruler's OR primitive."""
    return (
        isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(v, Mapping) and v for v in value)
        and not any(k in RESERVED_IN_OR for v in value for k in v)
    )


def compile_object(pattern: Any, path: str) -> EventFn:
    """Validate ``pattern`` (an object) and return its matcher over an event object."""
    if not isinstance(pattern, Mapping):
        raise PatternError(f"{path}: expected an object, got {type(pattern).__name__}")
    checks: list[EventFn] = []
    for key, value in pattern.items():
        if not isinstance(key, str):
            raise PatternError(f"{path}.{key}: keys must be strings")
        where = f"{path}.{key}"
        if key == "$or" and is_or_list(value):
            alternatives = [compile_object(v, f"{where}[{i}]") for i, v in enumerate(value)]
            checks.append(_any_of(alternatives))
        elif isinstance(value, Mapping):
            checks.append(_nested(key, compile_object(value, where)))
        else:
            checks.append(_field(key, value, where))
    return _all_of(checks)


def _all_of(checks: list[EventFn]) -> EventFn:
    if not checks:
        return lambda event: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda event: first(event) and second(event)

    def all_of(event: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a plain loop is faster than all() on a generator
            if not check(event):
                return False
        return True

    return all_of


def _any_of(alternatives: list[EventFn]) -> EventFn:
    return lambda event: any(alt(event) for alt in alternatives)


def _get(event: Any, key: str) -> Any:
    if type(event) is dict:
        return event.get(key, MISSING)
    return event.get(key, MISSING) if isinstance(event, Mapping) else MISSING


def _objects(value: list[Any]) -> list[Any]:
    """The objects in an event array, nested arrays crushed out."""
    out: list[Any] = []
    for item in value:
        if isinstance(item, Mapping):
            out.append(item)
        elif isinstance(item, list):
            out.extend(_objects(item))
    return out


def leaves(value: list[Any]) -> list[Any]:
    """The scalar values of an event array, nested arrays crushed out."""
    out: list[Any] = []
    for item in value:
        if isinstance(item, list):
            out.extend(leaves(item))
        elif not isinstance(item, Mapping):
            out.append(item)
    return out


def _nested(key: str, sub: EventFn) -> EventFn:
    on_nothing = sub({})  # a sub-pattern of exists:false alone matches an absent object

    def nested(event: Any) -> bool:
        value = _get(event, key)
        if type(value) is dict:
            return sub(value)
        if isinstance(value, list):
            objects = _objects(value)
            return any(sub(o) for o in objects) if objects else on_nothing
        return sub(value) if isinstance(value, Mapping) else on_nothing

    return nested


def _field(key: str, value: Any, where: str) -> EventFn:
    matchers = list(value) if isinstance(value, list | tuple) else [value]  # bare scalar: [it]
    if not matchers:
        raise PatternError(f"{where}: an empty list matches nothing")
    strings: set[str] = set()
    others: set[Any] = set()
    preds: list[Predicate] = []
    exists_true = exists_false = False
    for i, item in enumerate(matchers):
        at = f"{where}[{i}]"
        if isinstance(item, Mapping):
            op, arg = _operator(item, at)
            if op == "exists":
                if type(arg) is not bool:
                    raise PatternError(f"{at}: exists expects true or false, got {arg!r}")
                exists_true, exists_false = exists_true or arg, exists_false or not arg
            else:
                preds.append(compile_operator(op, arg, at))
        elif isinstance(item, str):
            strings.add(item)
        elif item is None or type(item) is bool or is_number(item):
            others.add(literal_key(item))
        else:
            raise PatternError(f"{at}: expected a literal or an operator object, got {item!r}")
    return _leaf_check(key, frozenset(strings), frozenset(others), tuple(preds),
                       exists_true, exists_false)  # fmt: skip


def _leaf_check(
    key: str,
    strings: frozenset[str],
    others: frozenset[Any],
    preds: tuple[Predicate, ...],
    exists_true: bool,
    exists_false: bool,
) -> EventFn:
    def scalar(v: Any) -> bool:
        if type(v) is str:
            if v in strings:
                return True
        elif others and literal_key(v) in others:
            return True
        for p in preds:
            if p(v):
                return True
        return exists_true

    if not preds and not others and not exists_true and not exists_false:

        def strings_only(event: Any) -> bool:
            v = _get(event, key)
            if type(v) is str:
                return v in strings
            return isinstance(v, list) and any(type(x) is str and x in strings
                                               for x in leaves(v))  # fmt: skip

        return strings_only

    def check(event: Any) -> bool:
        v = _get(event, key)
        if v is MISSING or isinstance(v, Mapping):  # absent, or not a leaf
            return exists_false
        if isinstance(v, list):
            found = leaves(v)
            if not found:
                return exists_false
            return any(scalar(x) for x in found)
        return scalar(v)

    return check


def _operator(item: Mapping[str, Any], at: str) -> tuple[str, Any]:
    if len(item) != 1:
        raise PatternError(f"{at}: an operator object has exactly one key, got {dict(item)}")
    ((op, arg),) = item.items()
    if op not in OPERATORS:
        known = ", ".join(OPERATORS)
        raise PatternError(f"{at}: unknown operator {op!r} (expected one of {known})")
    return op, arg


def compile_operator(op: str, arg: Any, at: str) -> Predicate:
    """The predicate over one leaf value of ``{op: arg}`` (``exists`` excepted)."""
    if op in ("prefix", "suffix"):
        return _affix(op, arg, at)
    if op == "equals-ignore-case":
        folded = _string(op, arg, at).lower()
        return lambda v: type(v) is str and v.lower() == folded
    if op == "wildcard":
        regex = wildcard_regex(_string(op, arg, at), at)
        return lambda v: type(v) is str and regex.fullmatch(v) is not None
    if op == "numeric":
        return _numeric(arg, at)
    if op == "cidr":
        return _cidr(arg, at)
    return _anything_but(arg, at)


def _string(op: str, arg: Any, at: str) -> str:
    if not isinstance(arg, str):
        raise PatternError(f"{at}: {op} expects a string, got {arg!r}")
    return arg


def _affix(op: str, arg: Any, at: str) -> Predicate:
    if isinstance(arg, Mapping) and set(arg) == {"equals-ignore-case"}:
        text = _string(f"{op}.equals-ignore-case", arg["equals-ignore-case"], at).lower()
        if op == "prefix":
            return lambda v: type(v) is str and v.lower().startswith(text)
        return lambda v: type(v) is str and v.lower().endswith(text)
    if isinstance(arg, Mapping):
        raise PatternError(f"{at}: {op} takes a string or {{\"equals-ignore-case\": string}}")
    text = _string(op, arg, at)
    if op == "prefix":
        return lambda v: type(v) is str and v.startswith(text)
    return lambda v: type(v) is str and v.endswith(text)


def wildcard_regex(text: str, at: str) -> re.Pattern[str]:
    r"""The regex of a wildcard: ``*`` any run, ``\*`` a star, ``\\`` a backslash.

    >>> wildcard_regex(r"a*b\*c", "p").pattern
    'a.*b\\*c'
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if nxt not in ("*", "\\"):
                raise PatternError(
                    f"{at}: wildcard {text!r}: a backslash escapes only '*' or '\\'"
                )
            out.append(re.escape(nxt))
            i += 2
            continue
        if c == "*":
            if i + 1 < len(text) and text[i + 1] == "*":
                raise PatternError(f"{at}: wildcard {text!r} has two '*' in a row")
            out.append(".*")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _numeric(arg: Any, at: str) -> Predicate:
    if not isinstance(arg, list | tuple) or len(arg) not in (2, 4):
        raise PatternError(
            f"{at}: numeric expects [op, number] or [lower-op, number, upper-op, number], "
            f"got {arg!r}"
        )
    bounds: list[tuple[str, float]] = []
    for j in range(0, len(arg), 2):
        op, bound = arg[j], arg[j + 1]
        if op not in NUMERIC_OPS:
            raise PatternError(
                f"{at}: unknown numeric operator {op!r} (expected one of {', '.join(NUMERIC_OPS)})"
            )
        if not is_number(bound):
            raise PatternError(f"{at}: numeric bound after {op!r} must be a number, got {bound!r}")
        bounds.append((op, float(bound)))
    if len(bounds) == 2:
        kinds = sorted("lower" if op in (">", ">=") else "upper" if op in ("<", "<=") else "eq"
                       for op, _ in bounds)  # fmt: skip
        if kinds != ["lower", "upper"]:
            raise PatternError(
                f"{at}: a numeric range is one lower bound (> or >=) and one upper bound "
                f"(< or <=), got {arg!r}"
            )
    lo, lo_incl, hi, hi_incl, eq = -math.inf, True, math.inf, True, None
    for op, bound in bounds:
        if op == "=":
            eq = bound
        elif op in (">", ">="):
            lo, lo_incl = bound, op == ">="
        else:
            hi, hi_incl = bound, op == "<="
    if eq is not None:
        target = eq
        return lambda v: is_number(v) and float(v) == target

    def in_range(v: Any) -> bool:
        if not is_number(v):
            return False
        x = float(v)
        return (x >= lo if lo_incl else x > lo) and (x <= hi if hi_incl else x < hi)

    return in_range


def _cidr(arg: Any, at: str) -> Predicate:
    text = _string("cidr", arg, at)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise PatternError(f"{at}: cidr {text!r} is not an IPv4 or IPv6 network") from None

    def in_network(v: Any) -> bool:
        if type(v) is not str:
            return False
        try:
            address = ipaddress.ip_address(v)
        except ValueError:
            return False
        return address.version == network.version and address in network

    return in_network


def _string_list(op: str, arg: Any, at: str) -> list[str]:
    values = arg if isinstance(arg, list) else [arg]
    if not values or not all(isinstance(v, str) for v in values):
        raise PatternError(f"{at}: anything-but {op} expects a string or a list of strings")
    return values


def _anything_but(arg: Any, at: str) -> Predicate:
    if isinstance(arg, Mapping):
        if len(arg) != 1 or next(iter(arg)) not in (
            "prefix", "suffix", "equals-ignore-case", "wildcard"
        ):
            raise PatternError(
                f"{at}: anything-but takes a string, a number, a list of either, or one of "
                f"prefix, suffix, equals-ignore-case, wildcard; got {dict(arg)}"
            )
        ((op, inner),) = arg.items()
        excluded = [compile_operator(op, v, at) for v in _string_list(op, inner, at)]
        return lambda v: type(v) is not str or not any(p(v) for p in excluded)
    values = arg if isinstance(arg, list) else [arg]
    if not values:
        raise PatternError(f"{at}: anything-but expects a non-empty list")
    if all(isinstance(v, str) for v in values):
        words = frozenset(values)
        return lambda v: type(v) is not str or v not in words
    if all(is_number(v) for v in values):
        numbers = frozenset(float(v) for v in values)
        return lambda v: not is_number(v) or float(v) not in numbers
    raise PatternError(
        f"{at}: anything-but expects a string, a number, or a list of all strings or all "
        f"numbers, got {arg!r}"
    )
