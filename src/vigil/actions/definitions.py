"""Stored action rules and workflows, and the dispatch of platform events to them.

Rules and workflows are kept as their validated specs (``put_rule`` / ``put_workflow``, or
``vigil.yaml``'s ``rules:`` and ``workflows:``). :func:`dispatch_pending` hands every event not
dispatched yet (alarm transitions, finished executions, concept-drift detections) to the
matching rules, oldest first, and marks it dispatched: each event starts its runs once.
The targets' secret settings (a command's ``env``, an HTTP target's headers and URL) are
stored sealed (:mod:`vigil.actions.secrets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from vigil.actions.dispatch import dispatch
from vigil.actions.engine import Runner
from vigil.actions.secrets import keep_stored_targets, map_targets
from vigil.actions.spec import Rule, Workflow
from vigil.store.code_policy import CodePolicy
from vigil.store.db import Database
from vigil.store.models import ActionDefinition, ActionRun, DispatchedEvent, Event
from vigil.store.secrets import box_of, seal, unseal


def _put(
    db: Database,
    kind: str,
    name: str,
    spec: dict[str, Any],
    environ: Mapping[str, str] | None,
) -> None:
    box = box_of(db)
    what = f"{kind} {name!r}"
    with db.session() as s:
        row = s.get(ActionDefinition, (kind, name)) or ActionDefinition(kind=kind, name=name)
        old = row.spec or {}
        if old:  # a redaction where a secret is stored keeps that secret (same position)
            spec = keep_stored_targets(kind, spec, old, box)
        row.spec = map_targets(kind, spec, lambda f, t: seal(f, t, box, environ, what))
        s.add(row)


def put_rule(db: Database, rule: Rule, environ: Mapping[str, str] | None = None) -> None:
    """Create or update a rule; ``environ`` (``vigil apply``) resolves ``${env:NAME}``
    references in its targets' secret settings, which are refused without it."""
    _put(db, "rule", rule.name, rule.model_dump(mode="json"), environ)


def put_workflow(
    db: Database, workflow: Workflow, environ: Mapping[str, str] | None = None
) -> None:
    """Create or update a workflow (``environ`` as for :func:`put_rule`)."""
    _put(db, "workflow", workflow.name, workflow.model_dump(mode="json"), environ)


def stored_specs(db: Database) -> list[ActionDefinition]:
    """Every stored rule and workflow row, secret settings sealed as stored."""
    with db.session() as s:
        return list(s.scalars(select(ActionDefinition)))


def load(db: Database) -> tuple[list[Rule], dict[str, Workflow]]:
    """Every stored rule and workflow."""
    box = box_of(db)
    rows = stored_specs(db)

    def opened(row: ActionDefinition) -> dict[str, Any]:
        return map_targets(row.kind, row.spec, lambda f, t: unseal(f, t, box))

    rules = [Rule.model_validate(opened(r)) for r in rows if r.kind == "rule"]
    workflows = {
        r.name: Workflow.model_validate(opened(r)) for r in rows if r.kind == "workflow"
    }
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
