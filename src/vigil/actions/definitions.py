"""Stored action rules and workflows, and the dispatch of platform events to them.

Rules and workflows are kept as their validated specs (``put_rule`` / ``put_workflow``, or
``vigil.yaml``'s ``rules:`` and ``workflows:``). :func:`dispatch_pending` hands every event not
dispatched yet (alarm transitions, finished executions, concept-drift detections) to the
matching rules, oldest first, and marks it dispatched: each event starts its runs once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from vigil.actions.dispatch import dispatch
from vigil.actions.engine import Runner
from vigil.actions.spec import Rule, Workflow
from vigil.store.code_policy import CodePolicy
from vigil.store.db import Database
from vigil.store.models import ActionDefinition, ActionRun, DispatchedEvent, Event


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


def load(db: Database) -> tuple[list[Rule], dict[str, Workflow]]:
    """Every stored rule and workflow."""
    with db.session() as s:
        rows = list(s.scalars(select(ActionDefinition)))
    rules = [Rule.model_validate(r.spec) for r in rows if r.kind == "rule"]
    workflows = {r.name: Workflow.model_validate(r.spec) for r in rows if r.kind == "workflow"}
    return rules, workflows


def dispatch_pending(
    db: Database, owner: str, limit: int = 100, *, code_policy: CodePolicy | None = None
) -> list[ActionRun]:
    """Dispatch the events not dispatched yet to the stored rules; return the runs started
    (their command and Python targets limited by ``code_policy``)."""
    rules, workflows = load(db)
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
        runner = Runner(db, workflows, owner=owner, code_policy=code_policy)
        for event in events:
            runs.extend(dispatch(db, event, rules, workflows, runner=runner))
    return runs
