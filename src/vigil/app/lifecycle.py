"""Deleting configuration objects, and what refers to what.

Every object that can be created can be deleted: endpoints, baselines, schedules, alarms,
topics, subscriptions, silences, rules and workflows. A delete is refused with
:class:`InUseError` (HTTP 409, CLI exit 2) while another object still refers to the one
named, and the message names each referrer, so the caller knows what to delete first:

* an endpoint is used by its baselines and schedules;
* a baseline by the schedules that compare against it;
* a topic by the alarms whose actions name it and by its subscriptions;
* an alarm by the composite alarms whose rule or suppressor names it, and by the rules whose
  event pattern names it literally (``detail.alarm``);
* a workflow by the rules and workflows that call it.

The state an object leaves behind goes with it (an alarm's history and notified states, a
topic's notification groups); the records of what ran (executions, action runs) stay.
Deleting a subscription (or a topic) cancels its deliveries not made yet in the same
transaction: they are kept in the outbox with status ``cancelled``, and nothing sends them;
the delivered ones stay as they were.

>>> KINDS[:3]
('endpoint', 'baseline', 'schedule')
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vigil.actions.spec import Rule, Workflow, WorkflowTarget
from vigil.alerts.alarms.rule import parse_rule
from vigil.errors import NotFoundError, VigilError
from vigil.store.db import Database
from vigil.store.models import (
    ActionDefinition,
    AlarmHistory,
    AlarmRecord,
    BaselineRecord,
    Endpoint,
    NotificationGroup,
    NotifiedState,
    OutboxItem,
    Schedule,
    SilenceRecord,
    SubscriptionRecord,
    TopicRecord,
)
from vigil.store.models.notifications import CANCELLED

__all__ = ["KINDS", "InUseError", "delete_object", "referrers"]

KINDS = (
    "endpoint",
    "baseline",
    "schedule",
    "alarm",
    "topic",
    "subscription",
    "silence",
    "rule",
    "workflow",
)


class InUseError(VigilError, RuntimeError):
    """An object that cannot be deleted while others refer to it (``referrers``)."""

    code = "in_use"

    def __init__(self, message: str, referrers: list[str]) -> None:
        super().__init__(message)
        self.referrers = referrers


def _alarm_names(spec: dict[str, Any]) -> set[str]:
    """The alarms a composite alarm's rule and suppressor name."""
    names: set[str] = set()
    if spec.get("alarm_rule"):
        with contextlib.suppress(ValueError):  # a stored rule parsed; a bad one names nothing
            names |= parse_rule(str(spec["alarm_rule"])).names()
    if spec.get("actions_suppressor"):
        names.add(str(spec["actions_suppressor"]))
    return names


def _literals(value: Any) -> set[str]:
    """The literal strings a pattern value matches (operators such as prefix are skipped)."""
    items = value if isinstance(value, list) else [value]
    return {v for v in items if isinstance(v, str)}


def _definitions(s: Session, kind: str) -> list[ActionDefinition]:
    query = select(ActionDefinition).where(ActionDefinition.kind == kind)
    return list(s.scalars(query.order_by(ActionDefinition.name)))


def _endpoint_refs(s: Session, name: str) -> list[str]:
    baselines = s.scalars(select(BaselineRecord.name).where(BaselineRecord.endpoint_name == name))
    schedules = s.scalars(select(Schedule.name).where(Schedule.endpoint_name == name))
    return [f"baseline {b!r}" for b in sorted(baselines)] + [
        f"schedule {x!r}" for x in sorted(schedules)
    ]


def _baseline_refs(s: Session, name: str) -> list[str]:
    schedules = s.scalars(select(Schedule.name).where(Schedule.baseline_name == name))
    return [f"schedule {x!r}" for x in sorted(schedules)]


def _topic_refs(s: Session, name: str) -> list[str]:
    out = []
    for alarm in s.scalars(select(AlarmRecord).order_by(AlarmRecord.name)):
        spec = alarm.spec or {}
        named = (
            spec.get(key) or []
            for key in ("alarm_actions", "ok_actions", "insufficient_data_actions")
        )
        if any(name in actions for actions in named):
            out.append(f"alarm {alarm.name!r}")
    subs = s.scalars(select(SubscriptionRecord.id).where(SubscriptionRecord.topic == name))
    out.extend(f"subscription {x!r}" for x in sorted(subs))
    return out


def _alarm_refs(s: Session, name: str) -> list[str]:
    out = [
        f"composite alarm {a.name!r}"
        for a in s.scalars(select(AlarmRecord).order_by(AlarmRecord.name))
        if a.kind == "composite" and a.name != name and name in _alarm_names(a.spec or {})
    ]
    for row in _definitions(s, "rule"):
        detail = (row.spec or {}).get("pattern", {}).get("detail")
        if isinstance(detail, dict) and name in _literals(detail.get("alarm")):
            out.append(f"rule {row.name!r}")
    return out


def _workflow_refs(s: Session, name: str) -> list[str]:
    out = []
    for row in _definitions(s, "rule"):
        rule = Rule.model_validate(row.spec)
        if any(isinstance(t, WorkflowTarget) and t.workflow == name for t in rule.targets):
            out.append(f"rule {row.name!r}")
    for row in _definitions(s, "workflow"):
        if row.name != name and name in Workflow.model_validate(row.spec).workflow_refs():
            out.append(f"workflow {row.name!r}")
    return out


def _none(s: Session, name: str) -> list[str]:
    return []


_REFERRERS: dict[str, Callable[[Session, str], list[str]]] = {
    "endpoint": _endpoint_refs,
    "baseline": _baseline_refs,
    "schedule": _none,
    "alarm": _alarm_refs,
    "topic": _topic_refs,
    "subscription": _none,
    "silence": _none,
    "rule": _none,
    "workflow": _workflow_refs,
}


def _row(s: Session, kind: str, name: str) -> Any:
    if kind in ("rule", "workflow"):
        return s.get(ActionDefinition, (kind, name))
    model = {
        "endpoint": Endpoint,
        "baseline": BaselineRecord,
        "schedule": Schedule,
        "alarm": AlarmRecord,
        "topic": TopicRecord,
        "subscription": SubscriptionRecord,
        "silence": SilenceRecord,
    }[kind]
    return s.get(model, name)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFoundError(f"no kind of object named {kind!r}; expected one of {', '.join(KINDS)}")


def referrers(db: Database, kind: str, name: str) -> list[str]:
    """What still refers to the ``kind`` object ``name`` (``["schedule 'hourly'"]``)."""
    _check_kind(kind)
    with db.session() as s:
        return _REFERRERS[kind](s, name)


def _cancel_deliveries(where: Any, what: str) -> Any:
    """The statement that cancels the outbox items not delivered yet (``pending``, and
    ``dead``, which a redrive would send again) matching ``where``; delivered ones stay."""
    return (
        update(OutboxItem)
        .where(where, OutboxItem.status.in_(("pending", "dead")))
        .values(status=CANCELLED, claim_token=None, last_error=f"cancelled: {what} was deleted")
    )


def _leftovers(s: Session, kind: str, name: str) -> Iterable[Any]:
    """The statements that remove the state an object leaves behind."""
    if kind == "alarm":
        yield delete(AlarmHistory).where(AlarmHistory.alarm_name == name)
        yield delete(NotifiedState).where(NotifiedState.alarm == name)
    elif kind == "topic":
        yield delete(NotificationGroup).where(NotificationGroup.topic == name)
        yield delete(NotifiedState).where(NotifiedState.topic == name)
        yield _cancel_deliveries(OutboxItem.topic == name, f"topic {name!r}")
    elif kind == "subscription":
        yield _cancel_deliveries(OutboxItem.subscription == name, f"subscription {name!r}")


def delete_object(db: Database, kind: str, name: str) -> None:
    """Delete the ``kind`` object ``name``: :class:`~vigil.errors.NotFoundError` when there is
    none, :class:`InUseError` naming the referrers while something refers to it."""
    _check_kind(kind)
    with db.session() as s:
        row = _row(s, kind, name)
        if row is None:
            raise NotFoundError(f"no {kind} named {name!r}")
        found = _REFERRERS[kind](s, name)
        if found:
            raise InUseError(
                f"{kind} {name!r} is in use by {', '.join(found)}; delete or change "
                f"{'them' if len(found) > 1 else 'it'} first",
                found,
            )
        for statement in _leftovers(s, kind, name):
            s.execute(statement)
        s.delete(row)
