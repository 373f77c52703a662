"""Matching events against rules and starting their targets.

>>> from vigil.store.db import Database
>>> from vigil.actions.spec import PythonTarget, Rule
>>> db = Database("sqlite://"); db.create_all()
>>> rule = Rule(name="echo", pattern={"kind": ["concept_drift"]},
...             targets=[PythonTarget(entry_point="json:dumps")])
>>> runs = dispatch(db, {"kind": "concept_drift", "detail": {"p": 0.01}}, [rule])
>>> [(r.rule, r.status, r.output) for r in runs]
[('echo', 'Succeeded', '{"kind": "concept_drift", "detail": {"p": 0.01}}')]
>>> dispatch(db, {"kind": "alarm_state_change"}, [rule])
[]
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor
from typing import Any

from vigil.actions.engine import Runner
from vigil.actions.spec import Rule, Workflow, check_references
from vigil.actions.targets import to_jsonable
from vigil.store.db import Database
from vigil.store.models import ActionRun, Event

log = logging.getLogger(__name__)


def event_to_dict(event: Event | Mapping[str, Any]) -> dict[str, Any]:
    """The form of an event that patterns match and targets receive: plain JSON data.

    >>> from datetime import datetime, timezone
    >>> e = Event(id="e1", kind="concept_drift", endpoint_name="churn", schedule_name=None,
    ...           time=datetime(2024, 5, 1, tzinfo=timezone.utc), detail={"drift": True})
    >>> event_to_dict(e)["time"], event_to_dict(e)["detail"]
    ('2024-05-01T00:00:00+00:00', {'drift': True})
    """
    if isinstance(event, Event):
        event = {
            "id": event.id,
            "kind": event.kind,
            "endpoint_name": event.endpoint_name,
            "schedule_name": event.schedule_name,
            "time": event.time,
            "detail": event.detail or {},
        }
    result = to_jsonable(dict(event))
    assert isinstance(result, dict)
    return result


def matching_rules(rules: Iterable[Rule], event: Mapping[str, Any]) -> list[Rule]:
    """The enabled rules whose pattern matches ``event`` (a dict from :func:`event_to_dict`);
    each rule's pattern is compiled once, when the rule is built."""
    return [r for r in rules if r.enabled and r.matches(event)]


def dispatch(
    db: Database,
    event: Event | Mapping[str, Any],
    rules: Iterable[Rule],
    workflows: Mapping[str, Workflow] | None = None,
    *,
    runner: Runner | None = None,
    executor: Executor | None = None,
) -> list[ActionRun]:
    """Start every target of every enabled rule that matches ``event``; return the runs.

    A target receives the event, or what the target's (else the rule's) ``input``,
    ``input_path`` or ``input_transformer`` makes of it (:meth:`Rule.input_for`).

    Every run is recorded before this returns. Without ``executor`` the runs execute here, one
    after another, and are returned ended; with one (a ``ThreadPoolExecutor``) they execute
    there and are returned as started (``Running``): follow them with
    :func:`~vigil.actions.records.get_run`. Raises
    :class:`~vigil.actions.errors.WorkflowNotFoundError` before starting anything when a
    matching rule names an undefined workflow.
    """
    rules = list(rules)
    workflows = dict(workflows or (runner.workflows if runner else {}))
    data = event_to_dict(event)
    matched = matching_rules(rules, data)
    if not matched:
        return []
    check_references(matched, workflows)
    runner = runner or Runner(db, workflows)
    if workflows is not runner.workflows:
        runner.workflows.update(workflows)
    started = [
        runner.start(
            target.without_input(),  # the input is shaped here; the run executes the target
            rule.input_for(target, data),
            rule=rule.name,
            event_id=data.get("id"),
        )
        for rule in matched
        for target in rule.targets
    ]
    log.info(
        "event %s matched %d rule(s), started %d run(s)",
        data.get("kind"),
        len(matched),
        len(started),
    )
    if executor is not None:
        for run in started:
            executor.submit(_execute_logged, runner, run.id)
        return started
    return [runner.execute(run.id) for run in started]


def _execute_logged(runner: Runner, run_id: str) -> None:
    try:
        runner.execute(run_id)
    except Exception:
        log.exception("action run %s failed to execute", run_id)
