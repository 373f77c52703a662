"""Writing and reading action runs and step attempts, and recovering interrupted runs.

Every run is written (``Running``) before its first step starts, every attempt before and
after it executes, and a step's last attempt ends in the same transaction that moves the run's
cursor (``current_step``, ``current_input``) to the next step. So after any crash the database
says exactly which step to run next and with which input.

Recovery (:func:`recover_runs`) is at-least-once: a run left ``Running`` by a dead worker
resumes at its cursor, which is the step that was in flight, re-run from its recorded input
(the completed steps before it are not re-run). Its in-flight attempt is marked
``Interrupted``. A run that cannot resume (``resume=False``, its definition no longer valid,
or resumed ``max_resumes`` times already) is marked ``Failed`` with the error
``Vigil.Interrupted`` and a cause starting with "interrupted". A run never vanishes.

>>> from vigil.store.db import Database
>>> db = Database("sqlite://"); db.create_all()
>>> list_runs(db)
[]
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update

from vigil.actions import errors as E
from vigil.actions.errors import RunNotFoundError
from vigil.store.db import Database
from vigil.store.errors import LeaseLostError
from vigil.store.models import ActionRun, AttemptStatus, RunStatus, StepAttempt

if TYPE_CHECKING:
    from vigil.actions.engine import Clock, Runner

log = logging.getLogger(__name__)

_LIVE = (RunStatus.RUNNING.value, RunStatus.INTERRUPTED.value)


def create_run(
    db: Database,
    *,
    target_type: str,
    input: Any,
    definition: dict[str, Any],
    first_step: str,
    owner: str,
    now: datetime,
    rule: str | None = None,
    workflow: str | None = None,
    event_id: str | None = None,
    parent_run_id: str | None = None,
) -> ActionRun:
    """Record a new ``Running`` run whose cursor is at ``first_step`` with ``input``."""
    run = ActionRun(
        rule=rule,
        workflow=workflow,
        target_type=target_type,
        event_id=event_id,
        parent_run_id=parent_run_id,
        status=RunStatus.RUNNING.value,
        input=input,
        definition=definition,
        current_step=first_step,
        current_input=input,
        steps_taken=0,
        resumes=0,
        owner=owner,
        started_at=now,
        heartbeat_at=now,
    )
    with db.session() as s:
        s.add(run)
    return run


def begin_attempt(
    db: Database,
    run_id: str,
    *,
    step: str,
    attempt: int,
    input: Any,
    now: datetime,
    wait_seconds: float = 0.0,
    owner: str | None = None,
) -> StepAttempt:
    """Record a ``Running`` attempt (the next ``seq`` of the run) and touch the heartbeat."""
    with db.session() as s:
        seq = s.scalar(select(func.max(StepAttempt.seq)).where(StepAttempt.run_id == run_id))
        row = StepAttempt(
            run_id=run_id,
            seq=(seq or 0) + 1,
            step=step,
            attempt=attempt,
            status=AttemptStatus.RUNNING.value,
            input=input,
            wait_seconds=wait_seconds,
            started_at=now,
        )
        s.add(row)
        _update_run(s, run_id, owner, {"heartbeat_at": now})
    return row


def end_attempt(
    db: Database,
    attempt_id: str,
    *,
    status: AttemptStatus,
    now: datetime,
    output: Any = None,
    error: str | None = None,
    cause: str | None = None,
    stdout: str | None = None,
    stderr: str | None = None,
    child_run_id: str | None = None,
    run_id: str | None = None,
    owner: str | None = None,
    run_changes: Mapping[str, Any] | None = None,
) -> None:
    """End an attempt and, in the same transaction, apply ``run_changes`` to its run.

    With ``owner``, the run must still belong to that worker, else :class:`LeaseLostError`.
    """
    with db.session() as s:
        values: dict[str, Any] = {
            "status": status.value,
            "ended_at": now,
            "output": output,
            "error": error,
            "cause": cause,
            "stdout": stdout,
            "stderr": stderr,
        }
        if child_run_id is not None:
            values["child_run_id"] = child_run_id
        s.execute(update(StepAttempt).where(StepAttempt.id == attempt_id).values(**values))
        if run_id is not None:
            _update_run(s, run_id, owner, {"heartbeat_at": now, **(run_changes or {})})


def update_run(
    db: Database, run_id: str, changes: Mapping[str, Any], *, owner: str | None = None
) -> None:
    """Apply ``changes`` to a run (only while ``owner`` holds it, when given)."""
    with db.session() as s:
        _update_run(s, run_id, owner, changes)


def _update_run(s: Any, run_id: str, owner: str | None, changes: Mapping[str, Any]) -> None:
    stmt = update(ActionRun).where(ActionRun.id == run_id)
    if owner is not None:
        stmt = stmt.where(ActionRun.owner == owner, ActionRun.status.in_(_LIVE))
    if s.execute(stmt.values(**changes)).rowcount != 1:
        if owner is not None:
            raise LeaseLostError(f"action run {run_id} is no longer held by {owner!r}")
        raise RunNotFoundError(f"no action run with id {run_id!r}")


def get_run(db: Database, run_id: str) -> ActionRun:
    """The run with id ``run_id``; :class:`RunNotFoundError` when there is none."""
    with db.session() as s:
        run = s.get(ActionRun, run_id)
    if run is None:
        raise RunNotFoundError(f"no action run with id {run_id!r}")
    return run


def list_runs(
    db: Database,
    *,
    rule: str | None = None,
    workflow: str | None = None,
    status: str | None = None,
    parent_run_id: str | None = None,
    limit: int = 100,
) -> list[ActionRun]:
    """Runs, newest first, filtered by rule, workflow, status or parent run."""
    stmt = select(ActionRun).order_by(ActionRun.started_at.desc(), ActionRun.id).limit(limit)
    if rule is not None:
        stmt = stmt.where(ActionRun.rule == rule)
    if workflow is not None:
        stmt = stmt.where(ActionRun.workflow == workflow)
    if status is not None:
        stmt = stmt.where(ActionRun.status == status)
    if parent_run_id is not None:
        stmt = stmt.where(ActionRun.parent_run_id == parent_run_id)
    with db.session() as s:
        return list(s.scalars(stmt))


def list_attempts(db: Database, run_id: str) -> list[StepAttempt]:
    """The attempts of a run, in the order they started."""
    stmt = select(StepAttempt).where(StepAttempt.run_id == run_id).order_by(StepAttempt.seq)
    with db.session() as s:
        return list(s.scalars(stmt))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def attempt_to_dict(a: StepAttempt) -> dict[str, Any]:
    """An attempt as JSON data, for the API and the CLI."""
    duration = (a.ended_at - a.started_at).total_seconds() if a.ended_at else None
    return {
        "id": a.id, "seq": a.seq, "step": a.step, "attempt": a.attempt, "status": a.status,
        "input": a.input, "output": a.output, "error": a.error, "cause": a.cause,
        "stdout": a.stdout, "stderr": a.stderr, "wait_seconds": a.wait_seconds,
        "child_run_id": a.child_run_id, "started_at": _iso(a.started_at),
        "ended_at": _iso(a.ended_at), "duration_seconds": duration,
    }  # fmt: skip


def run_to_dict(run: ActionRun, attempts: list[StepAttempt] | None = None) -> dict[str, Any]:
    """A run (and, when given, its attempts) as JSON data, for the API and the CLI."""
    duration = (run.ended_at - run.started_at).total_seconds() if run.ended_at else None
    out: dict[str, Any] = {
        "id": run.id, "rule": run.rule, "workflow": run.workflow,
        "target_type": run.target_type, "event_id": run.event_id,
        "parent_run_id": run.parent_run_id, "status": run.status, "input": run.input,
        "output": run.output, "error": run.error, "cause": run.cause,
        "current_step": run.current_step, "steps_taken": run.steps_taken,
        "resumes": run.resumes, "owner": run.owner, "started_at": _iso(run.started_at),
        "ended_at": _iso(run.ended_at), "heartbeat_at": _iso(run.heartbeat_at),
        "duration_seconds": duration,
    }  # fmt: skip
    if attempts is not None:
        out["attempts"] = [attempt_to_dict(a) for a in attempts]
    return out


def recover_runs(
    db: Database,
    owner: str,
    *,
    heartbeat_timeout_seconds: float = 60.0,
    resume: bool = True,
    max_resumes: int = 3,
    runner: Runner | None = None,
    clock: Clock | None = None,
) -> list[ActionRun]:
    """Resume or fail every run a dead worker left ``Running``; return them, as they end.

    A run is orphaned when its heartbeat is older than ``heartbeat_timeout_seconds`` or when
    its owner is ``owner`` (call this at start-up, before this worker starts runs: a run that
    names us then was started by our previous life). Each is claimed with a conditional
    UPDATE, so of several workers recovering at once one takes it. Child runs of a workflow
    step are failed (their parent re-runs the step, which starts a new child); root runs resume
    at their cursor through ``runner`` (by default a :class:`~vigil.actions.engine.Runner`
    owned by ``owner``), synchronously.
    """
    from vigil.actions.engine import Runner, SystemClock

    clock = clock or (runner.clock if runner is not None else SystemClock())
    runner = runner or Runner(db, owner=owner, clock=clock)
    now = clock.now()
    cutoff = now - timedelta(seconds=heartbeat_timeout_seconds)
    stmt = select(ActionRun).where(
        ActionRun.status.in_(_LIVE),
        or_(
            ActionRun.owner == owner,
            ActionRun.owner.is_(None),
            ActionRun.heartbeat_at.is_(None),
            ActionRun.heartbeat_at < cutoff,
        ),
    )
    with db.session() as s:
        candidates = list(s.scalars(stmt))
    # children first: their parents re-run the step that started them
    candidates.sort(key=lambda r: (r.parent_run_id is None, r.started_at))
    recovered: list[ActionRun] = []
    for run in candidates:
        if not _claim(db, run, owner, now):
            continue
        step = run.current_step
        dead = run.owner or "unknown"
        _interrupt_attempts(db, run.id, now, f"interrupted: worker {dead} stopped during it")
        reason = None
        if not resume:
            reason = "resume=False"
        elif run.parent_run_id is not None:
            reason = "its parent run re-runs the step that started it"
        elif run.resumes >= max_resumes:
            reason = f"already resumed {run.resumes} times (max_resumes={max_resumes})"
        elif step is None or not runner.can_resume(run):
            reason = "its definition cannot be resumed"
        if reason is not None:
            cause = (
                f"interrupted: worker {dead} stopped during step {step!r}; not resumed: {reason}"
            )
            log.warning("action run %s: %s", run.id, cause)
            update_run(
                db,
                run.id,
                {
                    "status": RunStatus.FAILED.value,
                    "error": E.INTERRUPTED,
                    "cause": cause,
                    "ended_at": now,
                },
            )
            recovered.append(get_run(db, run.id))
            continue
        log.warning("action run %s: resuming at step %r (worker %s stopped)", run.id, step, dead)
        update_run(db, run.id, {"resumes": run.resumes + 1})
        recovered.append(runner.execute(run.id))
    return recovered


def _claim(db: Database, run: ActionRun, owner: str, now: datetime) -> bool:
    stmt = update(ActionRun).where(ActionRun.id == run.id, ActionRun.status == run.status)
    stmt = stmt.where(
        ActionRun.owner.is_(None) if run.owner is None else ActionRun.owner == run.owner
    )
    stmt = stmt.where(
        ActionRun.heartbeat_at.is_(None)
        if run.heartbeat_at is None
        else ActionRun.heartbeat_at == run.heartbeat_at
    )
    values = {"status": RunStatus.INTERRUPTED.value, "owner": owner, "heartbeat_at": now}
    with db.session() as s:
        return bool(s.execute(stmt.values(**values)).rowcount == 1)


def _interrupt_attempts(db: Database, run_id: str, now: datetime, cause: str) -> None:
    stmt = (
        update(StepAttempt)
        .where(StepAttempt.run_id == run_id, StepAttempt.status == AttemptStatus.RUNNING.value)
        .values(
            status=AttemptStatus.INTERRUPTED.value,
            error=E.INTERRUPTED,
            cause=cause,
            ended_at=now,
        )
    )
    with db.session() as s:
        s.execute(stmt)
