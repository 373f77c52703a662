"""Actions and workflows: rules match platform events and start targets.

A :class:`Rule` holds an EventBridge-style pattern and targets: a command, a Python entry
point, an HTTP call, a notification to a topic (:class:`TopicTarget`, routed by the rule's
``severity``) or a :class:`Workflow` of steps with AWS Step Functions' retry and catch
semantics. Every run and every step attempt is recorded (:class:`ActionRun`,
:class:`StepAttempt`); :func:`recover_runs` resumes or fails the runs a dead worker left.

>>> from vigil.actions import match
>>> match({"kind": ["alarm_state_change"]}, {"kind": "alarm_state_change"})
True
"""

from __future__ import annotations

from vigil.actions.dispatch import dispatch, event_to_dict, matching_rules
from vigil.actions.engine import Clock, Runner, SystemClock, retry_delay
from vigil.actions.errors import (
    ActionError,
    ActionSpecError,
    RunNotFoundError,
    StepError,
    TopicNotFoundError,
    WorkflowNotFoundError,
)
from vigil.actions.records import (
    get_run,
    list_attempts,
    list_runs,
    run_to_dict,
)
from vigil.actions.recovery import recover_runs
from vigil.actions.spec import (
    Catcher,
    CommandTarget,
    HttpTarget,
    PythonTarget,
    Retrier,
    Rule,
    Step,
    Target,
    TopicTarget,
    Workflow,
    WorkflowTarget,
    check_references,
)
from vigil.actions.topics import Publisher
from vigil.events.patterns import PatternError, match, validate_pattern
from vigil.store.models import ActionRun, AttemptStatus, RunStatus, StepAttempt

__all__ = [
    "ActionError",
    "ActionRun",
    "ActionSpecError",
    "AttemptStatus",
    "Catcher",
    "Clock",
    "CommandTarget",
    "HttpTarget",
    "PatternError",
    "Publisher",
    "PythonTarget",
    "Retrier",
    "Rule",
    "RunNotFoundError",
    "RunStatus",
    "Runner",
    "Step",
    "StepAttempt",
    "StepError",
    "SystemClock",
    "Target",
    "TopicNotFoundError",
    "TopicTarget",
    "Workflow",
    "WorkflowNotFoundError",
    "WorkflowTarget",
    "check_references",
    "dispatch",
    "event_to_dict",
    "get_run",
    "list_attempts",
    "list_runs",
    "match",
    "matching_rules",
    "recover_runs",
    "retry_delay",
    "run_to_dict",
    "validate_pattern",
]
