"""The notification message and SNS subscription filter policies.

A :class:`Message` is what a topic publishes: a stable ``id`` (receivers drop duplicates by
it, since delivery is at-least-once), a subject and text body for people, typed
``attributes`` for filter policies and a structured ``payload`` for machines.

:func:`filter_matches` applies an SNS filter policy to message attributes: every key of the
policy must match (AND), and a key matches when any of its values does (OR).

>>> policy = {"severity": ["critical", "error"], "endpoint": [{"prefix": "churn-"}]}
>>> filter_matches(policy, {"severity": "error", "endpoint": "churn-prod"})
True
>>> filter_matches(policy, {"severity": "warning", "endpoint": "churn-prod"})
False
>>> filter_matches({"drift": [{"numeric": [">=", 0.2, "<", 1]}]}, {"drift": 0.35})
True
>>> filter_matches({"team": [{"anything-but": ["ml-infra"]}]}, {"team": "fraud"})
True
>>> filter_matches({"runbook": [{"exists": False}]}, {})
True
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from vigil.errors import ConfigError

AttributeValue = str | int | float | list[str | int | float]

_NUMERIC_OPS = {
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Message:
    """One notification published to a topic.

    ``payload`` conventions read by the channels: ``status`` (``"firing"`` or
    ``"resolved"``; an alarm ``state`` of ``"OK"`` also means resolved), ``alarm`` (a stable
    name, used as PagerDuty ``dedup_key`` and Alertmanager ``alertname``), ``severity``,
    ``source``, ``starts_at`` and ``generator_url``.

    >>> m = Message(topic="drift", subject="Drift on churn", body="age drifted",
    ...             attributes={"severity": "error"}, payload={"alarm": "churn-drift"})
    >>> len(m.id), m.resolved
    (36, False)
    >>> Message.from_dict(m.to_dict()) == m
    True
    """

    topic: str
    subject: str
    body: str
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    payload: Mapping[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = field(default_factory=_utcnow)

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ConfigError(f"message {self.id}: created_at must be timezone-aware")

    @property
    def resolved(self) -> bool:
        """True when the message announces that an alert or alarm has cleared."""
        status = str(self.payload.get("status", "")).lower()
        state = str(self.payload.get("state", "")).upper()
        return status == "resolved" or state == "OK"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        return {
            "id": self.id,
            "topic": self.topic,
            "subject": self.subject,
            "body": self.body,
            "attributes": dict(self.attributes),
            "payload": dict(self.payload),
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        """The message written by :meth:`to_dict`."""
        return cls(
            id=str(data["id"]),
            topic=str(data["topic"]),
            subject=str(data.get("subject", "")),
            body=str(data.get("body", "")),
            attributes=dict(data.get("attributes") or {}),
            payload=dict(data.get("payload") or {}),
            created_at=datetime.fromisoformat(str(data["created_at"])),
        )


def filter_matches(policy: Mapping[str, Any] | None, attributes: Mapping[str, Any]) -> bool:
    """Whether ``attributes`` pass the SNS filter ``policy`` (``None`` or ``{}`` passes all).

    A policy value is a list of alternatives (a single value is taken as a one-item list).
    An alternative is an exact string or number, or an operator object: ``anything-but``
    (a value or list), ``prefix``, ``numeric`` (``[op, value, ...]`` with ``=``, ``<``,
    ``<=``, ``>``, ``>=``) or ``exists``. A list-valued attribute matches when any item does.

    >>> filter_matches({"n": [{"numeric": [">", 5]}]}, {"n": "7"})
    False
    >>> filter_matches({"tags": ["a"]}, {"tags": ["b", "a"]})
    True
    >>> filter_matches({"x": [{"bogus": 1}]}, {"x": 1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vigil.errors.ConfigError: [config_error] filter policy key 'x': unknown operator 'bogus'...
    """
    if not policy:
        return True
    for key, rule in policy.items():
        alternatives = rule if isinstance(rule, list) else [rule]
        if not _key_matches(key, alternatives, attributes):
            return False
    return True


def _key_matches(key: str, alternatives: Sequence[Any], attributes: Mapping[str, Any]) -> bool:
    present = key in attributes
    value = attributes.get(key)
    values = value if isinstance(value, list) else [value]
    for alt in alternatives:
        if isinstance(alt, Mapping):
            if len(alt) != 1:
                raise ConfigError(f"filter policy key {key!r}: an operator object has one key")
            (op, arg), = alt.items()
            if op == "exists":
                if bool(arg) == present:
                    return True
                continue
            if not present:
                continue
            if any(_operator(key, op, arg, v) for v in values):
                return True
        elif present and any(_exact(alt, v) for v in values):
            return True
    return False


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _exact(expected: Any, actual: Any) -> bool:
    if _is_number(expected):
        return _is_number(actual) and float(actual) == float(expected)
    return isinstance(actual, str) and actual == expected


def _operator(key: str, op: str, arg: Any, actual: Any) -> bool:
    if op == "anything-but":
        excluded = arg if isinstance(arg, list) else [arg]
        if excluded and isinstance(excluded[0], Mapping):  # {"anything-but": {"prefix": "x"}}
            return not any(_operator(key, o, a, actual) for e in excluded for o, a in e.items())
        return actual is not None and not any(_exact(e, actual) for e in excluded)
    if op == "prefix":
        return isinstance(actual, str) and actual.startswith(str(arg))
    if op == "numeric":
        if not _is_number(actual):
            return False
        if not isinstance(arg, list) or len(arg) % 2 or not arg:
            raise ConfigError(f"filter policy key {key!r}: numeric needs [op, value, ...]")
        for i in range(0, len(arg), 2):
            fn = _NUMERIC_OPS.get(arg[i])
            if fn is None or not _is_number(arg[i + 1]):
                raise ConfigError(f"filter policy key {key!r}: bad numeric clause {arg[i:i + 2]}")
            if not fn(float(actual), float(arg[i + 1])):
                return False
        return True
    raise ConfigError(
        f"filter policy key {key!r}: unknown operator {op!r} "
        "(expected anything-but, prefix, numeric or exists)"
    )
