"""Inhibition: a firing source alarm mutes the ALARM of a target alarm whose ``equal``
labels have the same values (Alertmanager's inhibit rules, set in a topic's grouping).

>>> rules = inhibit_rules({"team": {"inhibit_rules": [
...     {"source": ['alarm=~".*-failed"'], "target": ['alarm=~".*-drift"'],
...      "equal": ["Endpoint"]}]}})
>>> firing = [{"alarm": "churn-failed", "state": "ALARM", "Endpoint": "churn"}]
>>> inhibited({"alarm": "churn-drift", "Endpoint": "churn"}, rules, firing)
True
>>> inhibited({"alarm": "fraud-drift", "Endpoint": "fraud"}, rules, firing)
False
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from vigil.alerts.routing import Matcher


class InhibitRule(NamedTuple):
    """Alarms matching ``source`` inhibit alarms matching ``target`` with equal labels."""

    source: list[Matcher]
    target: list[Matcher]
    equal: list[str]


def inhibit_rules(groupings: Mapping[str, Any]) -> list[InhibitRule]:
    """The inhibit rules of every topic's grouping."""
    rules = []
    for grouping in groupings.values():
        for rule in (grouping or {}).get("inhibit_rules") or []:
            rules.append(
                InhibitRule(
                    [Matcher.parse(m) for m in rule.get("source", [])],
                    [Matcher.parse(m) for m in rule.get("target", [])],
                    list(rule.get("equal", [])),
                )
            )
    return rules


def inhibited(
    labels: Mapping[str, str],
    rules: Sequence[InhibitRule],
    firing: Sequence[Mapping[str, str]],
) -> bool:
    """Whether a firing source alarm (``firing`` holds the labels of every alarm in ALARM)
    inhibits an alarm with these labels."""
    for source, target, equal in rules:
        if not all(m.matches(labels) for m in target):
            continue
        for src in firing:
            if (
                src["alarm"] != labels.get("alarm")
                and all(m.matches(src) for m in source)
                and all(src.get(k) == labels.get(k) for k in equal)
            ):
                return True
    return False
