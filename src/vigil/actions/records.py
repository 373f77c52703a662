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
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from vigil.actions.errors import RunNotFoundError
from vigil.store.db import Database, affected_rows
from vigil.store.errors import LeaseLostError
from vigil.store.models import ActionRun, AttemptStatus, Event, RunStatus, StepAttempt

log = logging.getLogger(__name__)

LIVE_STATUSES = (RunStatus.RUNNING.value, RunStatus.INTERRUPTED.value)


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
        stmt = stmt.where(ActionRun.owner == owner, ActionRun.status.in_(LIVE_STATUSES))
    if affected_rows(s.execute(stmt.values(**changes))) != 1:
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


def record_end(db: Database, run: ActionRun, now: datetime) -> None:
    """The run's end as an event (kind ``action_run_state_change``) on the bus; the run
    stands even when its event cannot be written."""
    try:
        with db.session() as s:
            s.add(
                Event(
                    kind="action_run_state_change",
                    time=run.ended_at or now,
                    detail={
                        "run_id": run.id,
                        "rule": run.rule,
                        "workflow": run.workflow,
                        "target_type": run.target_type,
                        "status": run.status,
                        "error": run.error,
                        "cause": run.cause,
                        "started_at": _iso(run.started_at),
                        "ended_at": _iso(run.ended_at),
                        "parent_run_id": run.parent_run_id,
                        "event_id": run.event_id,
                    },
                )
            )
    except Exception:
        log.exception("action run %s: recording its end as an event failed", run.id)
