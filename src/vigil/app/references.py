"""References between configuration objects, checked before anything is written.

One place decides what a reference must name, so the API, ``vigil apply`` and
``vigil apply --dry-run`` refuse the same things:

- a baseline names an endpoint, a schedule an endpoint and a baseline: they must exist (in
  the file being applied or in Vigil);
- an alarm's ``alarm_actions``, ``ok_actions`` and ``insufficient_data_actions``, and a
  schedule's ``config.default_alarm_actions`` (the actions of its default alarms), name
  topics, workflows or rules: each must exist;
- a rule's or a workflow step's topic target (``targets: [{topic: oncall}]``) names a topic.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from vigil.actions.spec import Rule, Workflow
from vigil.actions.topics import check_topics, missing_topics
from vigil.app.config import VigilConfig
from vigil.errors import ConfigError
from vigil.store.db import Database
from vigil.store.models import ActionDefinition, TopicRecord

ACTION_FIELDS = ("alarm_actions", "ok_actions", "insufficient_data_actions")
"""The fields of an alarm that name topics (or workflows and rules)."""


def action_targets(db: Database) -> set[str]:
    """The names an alarm action may name today: topics, workflows and rules."""
    with db.session() as s:
        topics = set(s.scalars(select(TopicRecord.name)))
        actions = set(s.scalars(select(ActionDefinition.name)))
    return topics | actions


def topic_names(db: Database) -> set[str]:
    """The names of the stored topics."""
    with db.session() as s:
        return set(s.scalars(select(TopicRecord.name)))


def check_stored_topics(db: Database, definition: Rule | Workflow) -> None:
    """:class:`~vigil.actions.errors.TopicNotFoundError` (a ConfigError) when a topic target
    of ``definition`` names no stored topic (the API's check)."""
    check_topics([definition], topic_names(db))


def _field(alarm: Any, name: str) -> list[str]:
    value = alarm.get(name) if isinstance(alarm, dict) else getattr(alarm, name, None)
    return [str(v) for v in value or []]


def missing_alarm_actions(alarm: Any, known: Iterable[str]) -> list[str]:
    """``field[i] 'name'`` of each action of ``alarm`` (a spec or its dict) that names
    nothing in ``known``."""
    names = set(known)
    return [
        f"{field}[{i}] {target!r}"
        for field in ACTION_FIELDS
        for i, target in enumerate(_field(alarm, field))
        if target not in names
    ]


def check_alarm_actions(alarm: Any, known: Iterable[str], what: str | None = None) -> None:
    """ConfigError naming each action of ``alarm`` that names no topic, workflow or rule."""
    missing = missing_alarm_actions(alarm, known)
    if missing:
        name = what or f"alarm {_name(alarm)!r}"
        raise ConfigError(
            f"{name}: {', '.join(missing)}: no topic, workflow or rule of that name; "
            "create the topic first (or name an existing one)"
        )


def check_alarm(db: Database, alarm: Any) -> None:
    """:func:`check_alarm_actions` against what is stored (the API's check)."""
    check_alarm_actions(alarm, action_targets(db))


def _name(alarm: Any) -> str:
    return str(alarm.get("name") if isinstance(alarm, dict) else getattr(alarm, "name", "?"))


def check_references(current: VigilConfig, desired: VigilConfig) -> None:
    """ConfigError listing every reference of ``desired`` that neither it nor ``current``
    (what is stored) defines. ``vigil apply`` calls it before applying and before showing a
    ``--dry-run`` plan, so both refuse the same files."""
    problems: list[str] = []
    defined = current.defined() | desired.defined()
    missing = sorted(ref for ref in desired.references() if ref not in defined)
    if missing:
        names = ", ".join(f"{r.kind} {r.name!r}" for r in missing)
        problems.append(f"the file refers to {names}, defined neither in it nor in Vigil")
    known = {
        str(_name(x))
        for doc in (current, desired)
        for x in (*doc.topics, *doc.workflows, *doc.rules)
    }
    for i, alarm in enumerate(desired.alarms):
        bad = missing_alarm_actions(alarm, known)
        if bad:
            problems.append(
                f"alarms[{i}] ({_name(alarm)}): {', '.join(bad)}: no topic, workflow or rule "
                "of that name"
            )
    for i, schedule in enumerate(desired.schedules):
        actions = schedule.config.get("default_alarm_actions") or []
        if not isinstance(actions, list):
            problems.append(f"schedules[{i}].config.default_alarm_actions: expected a list")
            continue
        bad = [f"[{j}] {str(a)!r}" for j, a in enumerate(actions) if str(a) not in known]
        if bad:
            problems.append(
                f"schedules[{i}] ({schedule.name}).config.default_alarm_actions"
                f"{', '.join(bad)}: no topic, workflow or rule of that name"
            )
    topics = {str(_name(t)) for doc in (current, desired) for t in doc.topics}
    problems.extend(missing_topics([*desired.rules, *desired.workflows], topics))
    if problems:
        raise ConfigError("; ".join(problems))
