"""Recovery of the action runs a dead worker left ``Running``: resumed at their cursor, or
failed ``interrupted``.

It sits above both the engine (which resumes a run) and the run records (which it claims
and updates), so neither of those imports the other.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from vigil.actions import errors as E
from vigil.actions.engine import Clock, Runner, SystemClock
from vigil.actions.records import LIVE_STATUSES, get_run, update_run
from vigil.store.db import Database, affected_rows
from vigil.store.models import ActionRun, AttemptStatus, RunStatus, StepAttempt

log = logging.getLogger(__name__)


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
    clock = clock or (runner.clock if runner is not None else SystemClock())
    runner = runner or Runner(db, owner=owner, clock=clock)
    now = clock.now()
    cutoff = now - timedelta(seconds=heartbeat_timeout_seconds)
    stmt = select(ActionRun).where(
        ActionRun.status.in_(LIVE_STATUSES),
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
        return affected_rows(s.execute(stmt.values(**values))) == 1


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
