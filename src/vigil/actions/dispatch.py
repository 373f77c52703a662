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
from vigil.actions.topics import Publisher
from vigil.events.ruleset import RuleSet
from vigil.store.db import Database
from vigil.store.event_rows import envelope_of
from vigil.store.models import ActionRun, Event

#: the kind of the event recorded when an action run ends
ACTION_RUN_KIND = "action_run_state_change"

log = logging.getLogger(__name__)


def event_to_dict(event: Event | Mapping[str, Any]) -> dict[str, Any]:
    """The form of an event that patterns match and targets receive: plain JSON data, the
    envelope (``source``, ``detail-type``, ``time``...) and Vigil's older keys (``kind``,
    ``endpoint_name``, ``schedule_name``) together (:func:`vigil.store.event_rows.envelope_of`).

    >>> from datetime import datetime, timezone
    >>> e = Event(id="e1", kind="concept_drift", endpoint_name="churn", schedule_name=None,
    ...           time=datetime(2024, 5, 1, tzinfo=timezone.utc), detail={"drift": True})
    >>> d = event_to_dict(e)
    >>> d["time"], d["detail"], d["kind"], d["source"], d["detail-type"]
    ('2024-05-01T00:00:00Z', {'drift': True}, 'concept_drift', 'vigil', 'Vigil Concept Drift')
    """
    if isinstance(event, Event):
        event = envelope_of(event)
    result = to_jsonable(dict(event))
    assert isinstance(result, dict)
    return result


def rule_set(rules: Iterable[Rule]) -> RuleSet[Rule]:
    """The enabled ``rules``, indexed (:class:`~vigil.events.ruleset.RuleSet`: one literal
    leaf per pattern, the rarest) so that an event is matched in full only against the rules
    it can match; :func:`matching_rules` takes it in place of a list.

    >>> from vigil.actions.spec import PythonTarget
    >>> rules = rule_set([Rule(name="a", pattern={"detail": {"s": ["Failed"]}},
    ...                        targets=[PythonTarget(entry_point="json:dumps")])])
    >>> [r.name for r in matching_rules(rules, {"detail": {"s": "Failed"}})]
    ['a']
    >>> matching_rules(rules, {"detail": {"s": "Completed"}})
    []
    """
    return RuleSet([(r, r.compiled) for r in rules if r.enabled])


def envelope_dict(row: Any) -> dict[str, Any]:
    """:func:`event_to_dict` of a stored event read as a row (``select(Event.__table__)``):
    its columns are JSON already, so nothing is converted."""
    return envelope_of(row)


def matching_rules(
    rules: Iterable[Rule] | RuleSet[Rule], event: Mapping[str, Any]
) -> list[Rule]:
    """The enabled rules whose pattern matches ``event`` (a dict from :func:`event_to_dict`),
    in their order; ``rules`` a list, or a :func:`rule_set` (the same answer, faster).

    The end of an action run (kind ``action_run_state_change``) is not given to the rule that
    started the run, nor to a rule with an empty pattern (which matches every event): a rule
    would otherwise start itself again at each run's end. Each rule's pattern is compiled
    once, when the rule is built."""
    own = None
    if event.get("kind") == ACTION_RUN_KIND and isinstance(event.get("detail"), Mapping):
        own = event["detail"].get("rule") or ""
    if isinstance(rules, RuleSet):
        found = rules.matching(event)
    else:
        found = [r for r in rules if r.enabled and r.matches(event)]
    if own is None:
        return found
    return [r for r in found if r.name != own and r.pattern]


def dispatch(
    db: Database,
    event: Event | Mapping[str, Any],
    rules: Iterable[Rule],
    workflows: Mapping[str, Workflow] | None = None,
    *,
    runner: Runner | None = None,
    executor: Executor | None = None,
    publish: Publisher | None = None,
) -> list[ActionRun]:
    """Start every target of every enabled rule that matches ``event``; return the runs.

    A target receives the event, or what the target's (else the rule's) ``input``,
    ``input_path`` or ``input_transformer`` makes of it (:meth:`Rule.input_for`).

    Every run is recorded before this returns. Without ``executor`` the runs execute here, one
    after another, and are returned ended; with one (a ``ThreadPoolExecutor``) they execute
    there and are returned as started (``Running``): follow them with
    :func:`~vigil.actions.records.get_run`. Raises
    :class:`~vigil.actions.errors.WorkflowNotFoundError` before starting anything when a
    matching rule names an undefined workflow. ``publish`` (for a runner made here) queues
    the notifications of topic targets, which take the rule's ``severity`` unless they set one.
    """
    rules = list(rules)
    workflows = dict(workflows or (runner.workflows if runner else {}))
    data = event_to_dict(event)
    matched = matching_rules(rules, data)
    if not matched:
        return []
    check_references(matched, workflows)
    runner = runner or Runner(db, workflows, publish=publish)
    if workflows is not runner.workflows:
        runner.workflows.update(workflows)
    started = [
        runner.start(
            target.without_input(),  # the input is shaped here; the run executes the target
            rule.input_for(target, data),
            rule=rule.name,
            event_id=data.get("id"),
            severity=rule.severity,
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
