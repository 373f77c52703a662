"""Severity: how urgent an alarm or an event rule is, and how notifications are routed by it.

Four levels, most urgent first: ``critical`` (wake someone: an SMS, a page), ``high`` (act
today), ``warning`` (look at it; the default) and ``info`` (for the record). Every alarm and
every event rule carries one; every notification carries it as its ``severity`` attribute,
so an SNS filter policy ``{"severity": ["critical"]}`` routes by it, and a subscription's
``min_severity`` keeps the messages at least that urgent.

The receivers' vocabularies: PagerDuty's Events API knows ``critical``, ``error``,
``warning`` and ``info`` (``high`` is its ``error``); Alertmanager gets the level itself as
the ``severity`` label; chat cards take a colour.

>>> parse_severity("High"), rank("critical") > rank("warning")
('high', True)
>>> at_least("high", "warning"), at_least("info", "warning"), at_least(None, "warning")
(True, False, True)
>>> pagerduty_severity("high"), colour("critical")
('error', '#D13438')
>>> most_severe(["info", "high", "warning"])
'high'
>>> parse_severity("sev1", "alarm 'x' severity")
Traceback (most recent call last):
...
vigil.errors.ConfigError: [config_error] alarm 'x' severity: expected critical, high, \
warning or info, got 'sev1'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from vigil.errors import ConfigError

Severity = Literal["critical", "high", "warning", "info"]
#: the levels, most urgent first
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "warning", "info")
DEFAULT_SEVERITY: Severity = "warning"

_RANK: dict[str, int] = {name: len(SEVERITIES) - i for i, name in enumerate(SEVERITIES)}
_PAGERDUTY = {"critical": "critical", "high": "error", "warning": "warning", "info": "info"}
#: colours of the levels (Microsoft's Fluent palette: red, orange, yellow, blue)
_COLOURS = {"critical": "#D13438", "high": "#CA5010", "warning": "#EAA300", "info": "#0078D4"}
#: the Adaptive Card ``color`` and container ``style`` of each level
CARD_COLOURS = {"critical": "Attention", "high": "Attention", "warning": "Warning",
                "info": "Accent"}
CARD_STYLES = {"critical": "attention", "high": "attention", "warning": "warning",
               "info": "accent"}


def parse_severity(value: object, what: str = "severity") -> Severity:
    """``value`` as a level (case-insensitive); a :class:`ConfigError` naming ``what``."""
    text = str(value).strip().lower() if isinstance(value, str) else None
    for level in SEVERITIES:
        if text == level:
            return level
    raise ConfigError(f"{what}: expected critical, high, warning or info, got {value!r}")


def rank(severity: str | None) -> int:
    """4 for ``critical`` down to 1 for ``info``; an unknown or missing level ranks as the
    default (``warning``), so nothing without a level is silently dropped by a minimum of
    ``warning`` or below."""
    return _RANK.get(str(severity).lower() if severity else DEFAULT_SEVERITY, _RANK["warning"])


def at_least(severity: str | None, minimum: str) -> bool:
    """Whether a notification of ``severity`` passes a ``minimum`` level."""
    return rank(severity) >= rank(minimum)


def most_severe(levels: Iterable[str | None]) -> Severity:
    """The most urgent of ``levels`` (the default when there is none)."""
    best: Severity | None = None
    for level in levels:
        known = level if level in _RANK else DEFAULT_SEVERITY
        if best is None or _RANK[known] > _RANK[best]:
            best = parse_severity(known)
    return best or DEFAULT_SEVERITY


def pagerduty_severity(severity: str | None) -> str:
    """PagerDuty's ``payload.severity`` for a level (its own four values pass through)."""
    text = str(severity or "").lower()
    if text in ("error", "critical", "warning", "info"):
        return text
    return _PAGERDUTY.get(text, "error")


def colour(severity: str | None) -> str:
    """A hex colour for a level (chat cards, Slack attachments)."""
    return _COLOURS.get(str(severity or "").lower(), _COLOURS[DEFAULT_SEVERITY])


def subject_prefix(severity: str | None) -> str:
    """``"[CRITICAL] "``: what a notification's subject starts with ("" without a level)."""
    return f"[{str(severity).upper()}] " if severity else ""
