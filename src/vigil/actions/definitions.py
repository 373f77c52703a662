"""Stored action rules and workflows, and the dispatch of platform events to them.

Rules and workflows are kept as their validated specs (``put_rule`` / ``put_workflow``, or
``vigil.yaml``'s ``rules:`` and ``workflows:``). :func:`dispatch_pending` hands every event not
dispatched yet (alarm transitions, finished executions, concept-drift detections) to the
matching rules, oldest first, and marks it dispatched: each event starts its runs once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from vigil.actions.dispatch import dispatch
from vigil.actions.engine import Runner
from vigil.actions.spec import Rule, Workflow
from vigil.store.db import Database
from vigil.store.models import ActionDefinition, ActionRun, DispatchedEvent, Event

log = logging.getLogger(__name__)


def _put(db: Database, kind: str, name: str, spec: dict[str, Any]) -> None:
    with db.session() as s:
        row = s.get(ActionDefinition, (kind, name)) or ActionDefinition(kind=kind, name=name)
        row.spec = spec
        s.add(row)


def put_rule(db: Database, rule: Rule) -> None:
    """Create or update a rule."""
    _put(db, "rule", rule.name, rule.model_dump(mode="json"))


def put_workflow(db: Database, workflow: Workflow) -> None:
    """Create or update a workflow."""
    _put(db, "workflow", workflow.name, workflow.model_dump(mode="json"))


ErrorHook = Callable[[str, str, str], None]
"""Told ``(kind, name, message)`` of a rule or workflow that failed alone."""


def load(
    db: Database, on_error: ErrorHook | None = None
) -> tuple[list[Rule], dict[str, Workflow]]:
    """Every stored rule and workflow; one whose stored spec no longer validates is left out
    (and ``on_error`` told), the others load."""
    with db.session() as s:
        rows = list(s.scalars(select(ActionDefinition)))
    rules: list[Rule] = []
    workflows: dict[str, Workflow] = {}
    for r in rows:
        try:
            if r.kind == "rule":
                rules.append(Rule.model_validate(r.spec))
            elif r.kind == "workflow":
                workflows[r.name] = Workflow.model_validate(r.spec)
        except Exception as exc:  # a faulty definition fails alone
            log.error("%s %s cannot be loaded: %s", r.kind, r.name, exc)
            if on_error is not None:
                on_error(r.kind, r.name, str(exc))
    return rules, workflows


def dispatch_pending(
    db: Database, owner: str, limit: int = 100, *, on_error: ErrorHook | None = None
) -> list[ActionRun]:
    """Dispatch the events not dispatched yet to the stored rules; return the runs started.

    Each rule is dispatched on its own: a rule that fails (a workflow it names is missing, a
    target that cannot start) fails alone, logged and told to ``on_error``; the other rules
    and events go on."""
    rules, workflows = load(db, on_error)
    with db.session() as s:
        done = select(DispatchedEvent.event_id)
        events = list(
            s.scalars(
                select(Event).where(Event.id.not_in(done)).order_by(Event.created_at).limit(limit)
            )
        )
        for e in events:
            s.add(DispatchedEvent(event_id=e.id))
    runs: list[ActionRun] = []
    if rules:
        runner = Runner(db, workflows, owner=owner)
        for event in events:
            for rule in rules:
                try:
                    runs.extend(dispatch(db, event, [rule], workflows, runner=runner))
                except Exception as exc:  # one rule fails alone
                    log.error("rule %s failed on event %s: %s", rule.name, event.id, exc)
                    if on_error is not None:
                        on_error("rule", rule.name, f"{type(exc).__name__}: {exc}")
    return runs
