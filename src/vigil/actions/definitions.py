"""Stored action rules and workflows, and the dispatch of platform events to them.

Rules and workflows are kept as their validated specs (``put_rule`` / ``put_workflow``, or
``vigil.yaml``'s ``rules:`` and ``workflows:``). :func:`dispatch_pending` hands every event not
dispatched yet (alarm transitions, finished executions, concept-drift detections) to the
matching rules, oldest first, and marks it dispatched: each event starts its runs once.
The targets' secret settings (a command's ``env``, an HTTP target's headers and URL) are
stored sealed (:mod:`vigil.actions.secrets`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select

from vigil.actions.dispatch import dispatch, envelope_dict, matching_rules, rule_set
from vigil.actions.engine import Runner
from vigil.actions.pending import claim_pending
from vigil.actions.secrets import keep_stored_targets, map_targets
from vigil.actions.spec import Rule, Workflow, WorkflowTarget
from vigil.actions.topics import Publisher
from vigil.store.code_policy import CodePolicy
from vigil.store.db import Database
from vigil.store.models import ActionDefinition, ActionRun
from vigil.store.secrets import box_of, seal, unseal

log = logging.getLogger(__name__)


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


ErrorHook = Callable[[str, str, str], None]
"""Told ``(kind, name, message)`` of a rule or workflow that failed alone."""


def load(
    db: Database, on_error: ErrorHook | None = None
) -> tuple[list[Rule], dict[str, Workflow]]:
    """Every stored rule and workflow, secrets unsealed; one whose stored spec no longer
    validates (or cannot be unsealed) is left out (and ``on_error`` told), the others load."""
    rules, workflows, _ = load_checked(db, on_error)
    return rules, workflows


def load_checked(
    db: Database, on_error: ErrorHook | None = None
) -> tuple[list[Rule], dict[str, Workflow], dict[tuple[str, str], str]]:
    """:func:`load`, and why each faulty definition fails, by ``(kind, name)``: a stored spec
    that no longer validates or cannot be unsealed (left out), or a workflow it names that
    is gone (loaded; dispatching it fails alone). What ``GET /rules`` shows as ``error``."""
    box = box_of(db)
    rules: list[Rule] = []
    workflows: dict[str, Workflow] = {}
    problems: dict[tuple[str, str], str] = {}
    for r in stored_specs(db):
        try:
            spec = map_targets(r.kind, r.spec, lambda f, t: unseal(f, t, box))
            if r.kind == "rule":
                rules.append(Rule.model_validate(spec))
            elif r.kind == "workflow":
                workflows[r.name] = Workflow.model_validate(spec)
        except Exception as exc:  # a faulty definition fails alone
            log.error("%s %s cannot be loaded: %s", r.kind, r.name, exc)
            problems[(r.kind, r.name)] = f"stored {r.kind} cannot be loaded: {_reason(exc)}"
            if on_error is not None:
                on_error(r.kind, r.name, str(exc))
    known = ", ".join(sorted(workflows)) or "none"
    for rule in rules:
        for i, target in enumerate(rule.targets):
            if isinstance(target, WorkflowTarget) and target.workflow not in workflows:
                problems.setdefault(("rule", rule.name), (
                    f"targets[{i}]: no workflow named {target.workflow!r} (workflows: {known})"
                ))
    for wf in workflows.values():
        for step in wf.steps:
            if isinstance(step.target, WorkflowTarget) and step.target.workflow not in workflows:
                problems.setdefault(("workflow", wf.name), (
                    f"step {step.name!r}: no workflow named {step.target.workflow!r} "
                    f"(workflows: {known})"
                ))
    return rules, workflows, problems


def _reason(exc: Exception) -> str:
    """An error's message without its code prefix."""
    message = getattr(exc, "message", None)
    return str(message) if message else " ".join(str(exc).split())


def dispatch_pending(
    db: Database,
    owner: str,
    limit: int = 100,
    *,
    code_policy: CodePolicy | None = None,
    on_error: ErrorHook | None = None,
    publish: Publisher | None = None,
) -> list[ActionRun]:
    """Dispatch the events not dispatched yet to the stored rules; return the runs started
    (their command and Python targets limited by ``code_policy``; their topic targets
    published by ``publish``, see :mod:`vigil.actions.topics`).

    Each rule is dispatched on its own: a rule that fails (a workflow it names is missing, a
    target that cannot start) fails alone, logged and told to ``on_error``; the other rules
    and events go on."""
    rules, workflows = load(db, on_error)
    events = claim_pending(db, limit)
    runs: list[ActionRun] = []
    if rules:
        runner = Runner(
            db, workflows, owner=owner, code_policy=code_policy, publish=publish
        )
        index = rule_set(rules)
        for event in events:
            data = envelope_dict(event)  # once per event; only the matching rules dispatch
            for rule in matching_rules(index, data):
                try:
                    runs.extend(dispatch(db, data, [rule], workflows, runner=runner))
                except Exception as exc:  # one rule fails alone
                    log.error("rule %s failed on event %s: %s", rule.name, event.id, exc)
                    if on_error is not None:
                        on_error("rule", rule.name, f"{type(exc).__name__}: {exc}")
    return runs
