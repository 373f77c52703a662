"""The engine: runs a target or a workflow step by step, with Step Functions' retry and catch.

Data flows from step to step: a run's first input is the event (or whatever started it), each
step's input is the previous step's output, and the run's output is the last step's output.
For each attempt of a step:

1. the attempt is recorded ``Running`` with its input;
2. the target runs: success ends the attempt ``Succeeded`` and moves the run's cursor to the
   next step (or ends the run ``Succeeded``) in one transaction;
3. on an error, the first retrier whose ``error_equals`` matches applies: while it has retries
   left, the attempt ends ``Failed``, the engine sleeps
   ``min(interval * backoff_rate ** (n - 1), max_delay)`` (FULL jitter: uniform in
   ``[0, that]``) and tries again. Each retrier counts its own retries;
4. with no retrier matching or retries exhausted, the first matching catcher sends the run to
   its ``next`` step with ``{"Error": name, "Cause": cause}`` as input; with none the run ends
   ``Failed`` with that error and cause.

Time comes from an injectable :class:`Clock` so tests never really sleep.

>>> import sys
>>> from vigil.store.db import Database
>>> from vigil.actions.spec import Step, Workflow, PythonTarget
>>> db = Database("sqlite://"); db.create_all()
>>> wf = Workflow(name="w", steps=[
...     Step(name="dump", target=PythonTarget(entry_point="json:dumps")),
...     Step(name="load", target=PythonTarget(entry_point="json:loads"))])
>>> run = Runner(db, {"w": wf}, owner="doc").run_workflow("w", {"a": 1})
>>> run.status, run.output, run.steps_taken
('Succeeded', {'a': 1}, 2)
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from vigil.actions import errors as E
from vigil.actions import records
from vigil.actions.clock import Clock, SystemClock, default_owner
from vigil.actions.errors import StepError, WorkflowNotFoundError
from vigil.actions.secrets import opened_definition, sealed_definition
from vigil.actions.spec import (
    CommandTarget,
    HttpTarget,
    PythonTarget,
    Retrier,
    Step,
    Target,
    TopicTarget,
    Workflow,
    WorkflowTarget,
    workflow_closure,
)
from vigil.actions.targets import (
    OUTPUT_LIMIT,
    TargetResult,
    run_command,
    run_http,
    run_python,
    to_jsonable,
)
from vigil.actions.topics import Publisher, bind_severity, run_topic, stored_event
from vigil.actions.topics import workflow_with_severity as with_severity
from vigil.events.patterns import match
from vigil.events.severity import Severity
from vigil.store.code_policy import CodePolicy
from vigil.store.db import Database
from vigil.store.errors import LeaseLostError
from vigil.store.models import ActionRun, AttemptStatus, RunStatus
from vigil.store.secrets import box_of

log = logging.getLogger(__name__)


def retry_delay(retrier: Retrier, retry: int, rng: random.Random | None = None) -> float:
    """The wait before retry number ``retry`` (1-based), jitter applied.

    >>> r = Retrier(error_equals=["States.ALL"], interval_seconds=1, backoff_rate=2,
    ...             max_delay_seconds=3, jitter="FULL")
    >>> retry_delay(r, 3, random.Random(0)) <= 3.0, r.delay(3)
    (True, 3.0)
    """
    wait = retrier.delay(retry)
    if retrier.jitter == "FULL":
        return (rng or random.Random()).uniform(0.0, wait)
    return wait


def error_output(error: str, cause: str, input: Any, result_path: str | None) -> Any:
    """A catcher's output: ``{"Error", "Cause"}``, or the input with it at ``result_path``.

    >>> error_output("E", "c", {"a": 1}, "$.error")
    {'a': 1, 'error': {'Error': 'E', 'Cause': 'c'}}
    """
    info = {"Error": error, "Cause": cause}
    if result_path in (None, "$"):
        return info
    assert result_path is not None
    out: dict[str, Any] = dict(input) if isinstance(input, Mapping) else {}
    node = out
    keys = result_path[2:].split(".")
    for key in keys[:-1]:
        child = node.get(key)
        node[key] = dict(child) if isinstance(child, Mapping) else {}
        node = node[key]
    node[keys[-1]] = info
    return out


def single_step_workflow(target: Target) -> Workflow:
    """The one-step workflow a rule's non-workflow target runs as (step named by its type)."""
    bare = target.without_input()  # a rule shapes the input before the run (actions.inputs)
    return Workflow(name=target.type, steps=[Step(name=target.type, target=bare)])


class Runner:
    """Starts and executes runs, recording every run and attempt in ``db``.

    ``workflows`` are the defined workflows (for workflow targets). A run snapshots the
    workflows it uses, so later edits do not change a run in flight or one being resumed.
    While a run executes, a thread renews its heartbeat every ``heartbeat_seconds``.
    ``publish`` queues the notifications of topic targets (:mod:`vigil.actions.topics`).
    """

    def __init__(
        self,
        db: Database,
        workflows: Mapping[str, Workflow] | None = None,
        *,
        owner: str | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        heartbeat_seconds: float = 10.0,
        output_limit: int = OUTPUT_LIMIT,
        http_client: httpx.Client | None = None,
        code_policy: CodePolicy | None = None,  # what command/Python targets may run (None: all)
        publish: Publisher | None = None,  # for topic targets (None: they fail, NoPublisher)
    ) -> None:
        self.db, self.code_policy, self.publish = db, code_policy, publish
        self.workflows: dict[str, Workflow] = dict(workflows or {})
        self.owner = owner or default_owner()
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.heartbeat_seconds = heartbeat_seconds
        self.output_limit = output_limit
        self.http_client = http_client

    # -- starting -------------------------------------------------------------------------

    def start(
        self,
        target: Target,
        input: Any,
        *,
        rule: str | None = None,
        event_id: str | None = None,
        parent_run_id: str | None = None,
        workflows: Mapping[str, Workflow] | None = None,
        severity: Severity | None = None,
    ) -> ActionRun:
        """Record a new ``Running`` run of ``target`` with ``input``; :meth:`execute` runs it.
        ``severity`` (a rule's) is given to the topic targets that set none."""
        known = self.workflows if workflows is None else workflows
        if severity is not None:
            target = bind_severity(target, severity)
            if isinstance(target, WorkflowTarget):
                known = {name: with_severity(wf, severity) for name, wf in known.items()}
        if isinstance(target, WorkflowTarget):
            if target.workflow not in known:
                raise WorkflowNotFoundError(
                    f"no workflow named {target.workflow!r} "
                    f"(workflows: {', '.join(sorted(known)) or 'none'})"
                )
            closure = workflow_closure(target.workflow, known)
            workflow = closure.pop(target.workflow)
            name: str | None = workflow.name
        else:
            workflow, closure, name = single_step_workflow(target), {}, None
        definition = sealed_definition(workflow, closure, box_of(self.db))
        return records.create_run(
            self.db,
            target_type=target.type,
            input=to_jsonable(input),
            definition=definition,
            first_step=workflow.steps[0].name,
            owner=self.owner,
            now=self.clock.now(),
            rule=rule,
            workflow=name,
            event_id=event_id,
            parent_run_id=parent_run_id,
        )

    def run(self, target: Target, input: Any, **kwargs: Any) -> ActionRun:
        """:meth:`start` then :meth:`execute`: run ``target`` to its end."""
        return self.execute(self.start(target, input, **kwargs).id)

    def run_workflow(self, workflow: str | Workflow, input: Any, **kwargs: Any) -> ActionRun:
        """Run a workflow (by name, or a definition, which is added to :attr:`workflows`)."""
        if isinstance(workflow, Workflow):
            self.workflows[workflow.name] = workflow
            workflow = workflow.name
        return self.run(WorkflowTarget(workflow=workflow), input, **kwargs)

    # -- executing ------------------------------------------------------------------------

    def can_resume(self, run: ActionRun) -> bool:
        """Whether ``run``'s stored definition is valid and holds its current step."""
        try:
            workflow, _ = self._definition(run)
            workflow.step(run.current_step or "")
        except (ValidationError, LookupError, TypeError):
            return False
        return True

    def _definition(self, run: ActionRun) -> tuple[Workflow, dict[str, Workflow]]:
        return opened_definition(run.definition, box_of(self.db))

    def execute(self, run_id: str) -> ActionRun:
        """Run a started (or recovered) run from its cursor to its end; return it.

        A run this worker no longer holds (another worker recovered it) is left to its holder.
        """
        run = records.get_run(self.db, run_id)
        try:
            records.update_run(
                self.db,
                run_id,
                {"status": RunStatus.RUNNING.value, "heartbeat_at": self.clock.now()},
                owner=self.owner,
            )
        except LeaseLostError:
            log.warning("action run %s is held by %s, not executing it", run_id, run.owner)
            return run
        stop = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat,
            args=(run_id, stop),
            name=f"vigil-heartbeat-{run_id[:8]}",
            daemon=True,
        )
        beat.start()
        try:
            self._loop(run)
        except LeaseLostError as exc:
            log.warning("action run %s: %s", run_id, exc)
        finally:
            stop.set()
            beat.join()
        done = records.get_run(self.db, run_id)
        log.info("action run %s ended %s", run_id, done.status, extra={"error": done.error})
        if done.ended_at is not None:
            records.record_end(self.db, done, self.clock.now())
        return done

    def _heartbeat(self, run_id: str, stop: threading.Event) -> None:
        while not stop.wait(self.heartbeat_seconds):
            try:
                records.update_run(
                    self.db, run_id, {"heartbeat_at": self.clock.now()}, owner=self.owner
                )
            except LeaseLostError:
                return
            except Exception:  # a database hiccup: try again next beat
                log.exception("action run %s: heartbeat failed", run_id)

    def _loop(self, run: ActionRun) -> None:
        try:
            workflow, workflows = self._definition(run)
        except (ValidationError, KeyError, TypeError) as exc:
            self._fail(run.id, E.TASK_FAILED, f"the run's stored definition is not valid: {exc}")
            return
        step_name, data, taken = run.current_step, run.current_input, run.steps_taken
        while step_name is not None:
            if taken >= workflow.max_steps:
                self._fail(
                    run.id,
                    E.MAX_STEPS_EXCEEDED,
                    f"workflow {workflow.name!r} took {taken} steps (max_steps="
                    f"{workflow.max_steps}); next was {step_name!r}",
                )
                return
            step = workflow.step(step_name)
            step_name, data = self._step(run, workflow, workflows, step, data, taken)
            taken += 1

    def _fail(self, run_id: str, error: str, cause: str) -> None:
        records.update_run(
            self.db,
            run_id,
            {
                "status": RunStatus.FAILED.value,
                "error": error,
                "cause": cause,
                "current_step": None,
                "ended_at": self.clock.now(),
            },
            owner=self.owner,
        )

    def _moved(self, next_step: str | None, data: Any, taken: int) -> dict[str, Any]:
        changes: dict[str, Any] = {
            "current_step": next_step,
            "current_input": data,
            "steps_taken": taken + 1,
        }
        if next_step is None:
            changes.update(status=RunStatus.SUCCEEDED.value, output=data, ended_at=self.clock.now())
        return changes

    def _step(
        self,
        run: ActionRun,
        workflow: Workflow,
        workflows: Mapping[str, Workflow],
        step: Step,
        data: Any,
        taken: int,
    ) -> tuple[str | None, Any]:
        """Run one step with its retries; record; return (next step, its input)."""
        if step.condition is not None and not match(
            step.condition, data if isinstance(data, Mapping) else {}
        ):
            attempt = records.begin_attempt(
                self.db,
                run.id,
                step=step.name,
                attempt=1,
                input=data,
                now=self.clock.now(),
                owner=self.owner,
            )
            next_step = workflow.next_of(step)
            records.end_attempt(
                self.db,
                attempt.id,
                status=AttemptStatus.SKIPPED,
                now=self.clock.now(),
                output=data,
                cause="condition did not match the input",
                run_id=run.id,
                owner=self.owner,
                run_changes=self._moved(next_step, data, taken),
            )
            return next_step, data
        retries = [0] * len(step.retry)
        number, wait = 1, 0.0
        while True:
            attempt = records.begin_attempt(
                self.db,
                run.id,
                step=step.name,
                attempt=number,
                input=data,
                now=self.clock.now(),
                wait_seconds=wait,
                owner=self.owner,
            )
            child_id: list[str] = []
            try:
                result = self._target(run, step, data, number, workflows, child_id)
            except StepError as exc:
                failure = exc
            else:
                next_step = workflow.next_of(step)
                records.end_attempt(
                    self.db,
                    attempt.id,
                    status=AttemptStatus.SUCCEEDED,
                    now=self.clock.now(),
                    output=result.output,
                    stdout=result.stdout,
                    stderr=result.stderr,
                    child_run_id=child_id[0] if child_id else None,
                    run_id=run.id,
                    owner=self.owner,
                    run_changes=self._moved(next_step, result.output, taken),
                )
                return next_step, result.output
            ended: dict[str, Any] = {
                "status": AttemptStatus.FAILED, "error": failure.error, "cause": failure.cause,
                "stdout": failure.stdout, "stderr": failure.stderr,
                "child_run_id": child_id[0] if child_id else None,
            }  # fmt: skip
            index = next(
                (i for i, r in enumerate(step.retry)
                 if any(E.matches(p, failure.error) for p in r.error_equals)),
                None,
            )  # fmt: skip
            if index is not None and retries[index] < step.retry[index].max_attempts:
                retries[index] += 1
                wait = retry_delay(step.retry[index], retries[index], self.rng)
                records.end_attempt(
                    self.db,
                    attempt.id,
                    now=self.clock.now(),
                    run_id=run.id,
                    owner=self.owner,
                    **ended,
                )
                log.info(
                    "action run %s: step %r failed with %s, retry %d in %.3g s",
                    run.id,
                    step.name,
                    failure.error,
                    retries[index],
                    wait,
                )
                self.clock.sleep(wait)
                number += 1
                continue
            catcher = next(
                (c for c in step.catch
                 if any(E.matches(p, failure.error) for p in c.error_equals)),
                None,
            )  # fmt: skip
            if catcher is not None:
                caught = error_output(failure.error, failure.cause, data, catcher.result_path)
                records.end_attempt(
                    self.db,
                    attempt.id,
                    now=self.clock.now(),
                    run_id=run.id,
                    owner=self.owner,
                    run_changes=self._moved(catcher.next, caught, taken),
                    **ended,
                )
                return catcher.next, caught
            records.end_attempt(
                self.db, attempt.id, now=self.clock.now(), run_id=run.id, owner=self.owner,
                run_changes={
                    "status": RunStatus.FAILED.value, "error": failure.error,
                    "cause": failure.cause, "current_step": None, "steps_taken": taken + 1,
                    "ended_at": self.clock.now(),
                },
                **ended,
            )  # fmt: skip
            return None, None

    def _target(
        self,
        run: ActionRun,
        step: Step,
        data: Any,
        number: int,
        workflows: Mapping[str, Workflow],
        child_id: list[str],
    ) -> TargetResult:
        target = step.target
        context = {"run_id": run.id, "step": step.name, "attempt": str(number)}
        if isinstance(target, CommandTarget):
            env = {f"VIGIL_{k.upper()}": v for k, v in context.items()}
            return run_command(
                target, data, context=env, output_limit=self.output_limit, policy=self.code_policy
            )
        if isinstance(target, PythonTarget):
            return run_python(target, data, policy=self.code_policy)
        if isinstance(target, HttpTarget):
            return run_http(target, data, context=context, client=self.http_client)
        if isinstance(target, TopicTarget):
            event = stored_event(self.db, run.event_id)
            key = f"{run.event_id or run.id}/{run.rule or ''}/{run.workflow or ''}/{step.name}"
            return run_topic(target, data, event=event, publisher=self.publish, rule=run.rule,
                             key=key)
        child = self.start(
            target,
            data,
            rule=run.rule,
            event_id=run.event_id,
            parent_run_id=run.id,
            workflows=workflows,
        )
        child_id.append(child.id)
        done = self.execute(child.id)
        if done.status != RunStatus.SUCCEEDED.value:
            raise StepError(
                done.error or E.TASK_FAILED,
                done.cause or f"workflow {target.workflow!r} run {done.id} {done.status}",
            )
        return TargetResult(done.output)
