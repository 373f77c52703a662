"""Exactly-once executions: each (schedule, window) runs once, also across servers.

The guarantee rests on the database, not on a lock held in one process:

* :func:`claim_execution` inserts the execution row for (schedule, window, attempt). The
  UNIQUE constraint on those columns lets exactly one insert win on SQLite and PostgreSQL
  alike; every other claimant gets an ``IntegrityError`` and is told ``None``.
* The winner holds a lease (``lease_owner``, ``lease_expires_at``) and renews it while it
  works (:func:`renew_lease`). It ends the run with :func:`finish_execution`, which only
  succeeds while it still owns a live ``InProgress`` row.
* A crash leaves a row ``InProgress`` whose lease runs out. :func:`recover_interrupted` marks
  it ``Failed`` ("interrupted: ...") with a conditional UPDATE, so one server recovers it,
  and returns it so that server reruns the window with :func:`claim_rerun` as attempt + 1,
  which the same UNIQUE constraint again lets only one claimant create.
* A worker that stops before it can finish hands its claim back with :func:`release_lease`:
  the lease expires at once, so the next :func:`recover_interrupted` of any worker reruns it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from vigil.errors import InputError
from vigil.store.columns import as_utc, utcnow
from vigil.store.db import Database, affected_rows
from vigil.store.errors import ExecutionNotFoundError, LeaseLostError
from vigil.store.models import Execution, ExecutionStatus

log = logging.getLogger(__name__)

_IN_PROGRESS = ExecutionStatus.IN_PROGRESS.value
INTERRUPTED = "interrupted"


def _lease_seconds(lease_seconds: int) -> timedelta:
    if not isinstance(lease_seconds, int) or isinstance(lease_seconds, bool) or lease_seconds <= 0:
        raise InputError(f"lease_seconds: expected a positive integer, got {lease_seconds!r}")
    return timedelta(seconds=lease_seconds)


def claim_execution(
    db: Database,
    schedule_name: str,
    endpoint_name: str,
    scheduled_time: datetime,
    window_start: datetime,
    window_end: datetime,
    owner: str,
    lease_seconds: int,
    *,
    attempt: int = 1,
    now: datetime | None = None,
) -> Execution | None:
    """Create the ``InProgress`` execution of this (schedule, window), or ``None`` if it exists.

    Race-free across threads, processes and servers sharing the database: of all claimants of
    one (schedule, window, attempt), exactly one gets the row.
    """
    if not owner:
        raise InputError("owner: expected a non-empty worker id")
    if attempt < 1:
        raise InputError(f"attempt: expected 1 or more, got {attempt}")
    now = as_utc(now, "now") if now is not None else utcnow()
    window_start = as_utc(window_start, "window_start")
    window_end = as_utc(window_end, "window_end")
    if window_end <= window_start:
        raise InputError(f"window: end {window_end} is not after start {window_start}")
    execution = Execution(
        schedule_name=schedule_name,
        endpoint_name=endpoint_name,
        scheduled_time=as_utc(scheduled_time, "scheduled_time"),
        window_start=window_start,
        window_end=window_end,
        status=_IN_PROGRESS,
        created_at=now,
        started_at=now,
        lease_owner=owner,
        lease_expires_at=now + _lease_seconds(lease_seconds),
        attempt=attempt,
    )
    try:
        with db.session() as session:
            session.add(execution)
    except IntegrityError:
        with db.session() as session:
            taken = session.scalar(
                select(Execution.id).where(
                    Execution.schedule_name == schedule_name,
                    Execution.window_start == window_start,
                    Execution.window_end == window_end,
                    Execution.attempt == attempt,
                )
            )
        if taken is None:  # some other constraint failed: not a lost race
            raise
        log.debug("%s lost the claim of %s %s..%s", owner, schedule_name, window_start, window_end)
        return None
    return execution


def claim_rerun(
    db: Database,
    interrupted: Execution,
    owner: str,
    lease_seconds: int,
    *,
    now: datetime | None = None,
) -> Execution | None:
    """Claim the rerun of an interrupted execution: the same window as ``attempt + 1``."""
    if interrupted.status != ExecutionStatus.FAILED.value:
        raise InputError(
            f"execution {interrupted.id}: only a Failed execution is rerun, "
            f"this one is {interrupted.status}"
        )
    return claim_execution(
        db,
        interrupted.schedule_name,
        interrupted.endpoint_name,
        interrupted.scheduled_time,
        interrupted.window_start,
        interrupted.window_end,
        owner,
        lease_seconds,
        attempt=interrupted.attempt + 1,
        now=now,
    )


def get_execution(db: Database, execution_id: str) -> Execution:
    """The execution with this id; :class:`ExecutionNotFoundError` if there is none."""
    with db.session() as session:
        execution = session.get(Execution, execution_id)
    if execution is None:
        raise ExecutionNotFoundError(f"no execution has id {execution_id!r}")
    return execution


def _lost(db: Database, execution_id: str, owner: str | None) -> LeaseLostError:
    execution = get_execution(db, execution_id)
    why = f"it is {execution.status}"
    if execution.failure_reason:
        why += f" ({execution.failure_reason})"
    if execution.status == _IN_PROGRESS:
        why = f"its lease is held by {execution.lease_owner!r}"
    return LeaseLostError(f"execution {execution_id}: {owner or 'worker'} no longer owns it: {why}")


def renew_lease(
    db: Database,
    execution_id: str,
    owner: str,
    lease_seconds: int,
    *,
    now: datetime | None = None,
) -> datetime:
    """Extend the lease of an ``InProgress`` execution ``owner`` holds; the new expiry.

    Raises :class:`LeaseLostError` if the execution was finished or recovered meanwhile.
    """
    now = as_utc(now, "now") if now is not None else utcnow()
    expires = now + _lease_seconds(lease_seconds)
    with db.session() as session:
        result = session.execute(
            update(Execution)
            .where(
                Execution.id == execution_id,
                Execution.status == _IN_PROGRESS,
                Execution.lease_owner == owner,
            )
            .values(lease_expires_at=expires)
            .execution_options(synchronize_session=False)
        )
    if affected_rows(result) != 1:
        raise _lost(db, execution_id, owner)
    return expires


def finish_execution(
    db: Database,
    execution_id: str,
    status: ExecutionStatus | str,
    failure_reason: str | None = None,
    *,
    records_read: int | None = None,
    records_skipped: int | None = None,
    violation_count: int | None = None,
    output_uri: str | None = None,
    owner: str | None = None,
    now: datetime | None = None,
) -> Execution:
    """End an ``InProgress`` execution with a terminal status, its counts and outputs.

    With ``owner`` the update applies only while that worker still holds the lease. An
    execution already ended (for instance recovered as interrupted by another server) is
    left as it is and :class:`LeaseLostError` is raised.
    """
    try:
        final = ExecutionStatus(status)
    except ValueError:
        allowed = ", ".join(s.value for s in ExecutionStatus if s.terminal)
        raise InputError(f"status: expected one of {allowed}, got {status!r}") from None
    if not final.terminal:
        raise InputError(f"status: {final.value} does not end an execution")
    if final is ExecutionStatus.FAILED and not failure_reason:
        raise InputError("failure_reason: a Failed execution needs the reason it failed")
    for field, count in (
        ("records_read", records_read),
        ("records_skipped", records_skipped),
        ("violation_count", violation_count),
    ):
        if count is not None and count < 0:
            raise InputError(f"{field}: expected a count of 0 or more, got {count}")
    now = as_utc(now, "now") if now is not None else utcnow()
    conditions = [Execution.id == execution_id, Execution.status == _IN_PROGRESS]
    if owner is not None:
        conditions.append(Execution.lease_owner == owner)
    values: dict[str, object] = {
        "status": final.value,
        "failure_reason": failure_reason,
        "ended_at": now,
        "lease_expires_at": None,
    }
    for column, given in (
        ("records_read", records_read),
        ("records_skipped", records_skipped),
        ("violation_count", violation_count),
        ("output_uri", output_uri),
    ):
        if given is not None:  # None keeps what the run stored so far
            values[column] = given
    with db.session() as session:
        result = session.execute(
            update(Execution)
            .where(*conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    if affected_rows(result) != 1:
        raise _lost(db, execution_id, owner)
    return get_execution(db, execution_id)


def stop_execution(
    db: Database, execution_id: str, reason: str, now: datetime | None = None
) -> Execution:
    """Stop a ``Pending`` or ``InProgress`` execution: it becomes ``Stopped`` at once and its
    worker's later finish is refused (LeaseLostError), so nothing overwrites the stop."""
    now = as_utc(now, "now") if now is not None else utcnow()
    with db.session() as session:
        result = session.execute(
            update(Execution)
            .where(
                Execution.id == execution_id,
                Execution.status.in_([_IN_PROGRESS, ExecutionStatus.PENDING.value]),
            )
            .values(
                status=ExecutionStatus.STOPPED.value,
                failure_reason=reason,
                ended_at=now,
                lease_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        )
    execution = get_execution(db, execution_id)
    if affected_rows(result) != 1:
        raise LeaseLostError(
            f"execution {execution_id} is {execution.status}: only a Pending "
            "or InProgress execution can be stopped"
        )
    return execution


def release_lease(
    db: Database, execution_id: str, owner: str, *, now: datetime | None = None
) -> bool:
    """Hand back the claim of an ``InProgress`` execution ``owner`` holds and cannot finish
    (its worker is stopping): its lease expires now, so that any worker's next
    :func:`recover_interrupted` marks it interrupted and reruns it. False when ``owner`` no
    longer holds it (finished, stopped or recovered meanwhile)."""
    now = as_utc(now, "now") if now is not None else utcnow()
    with db.session() as session:
        result = session.execute(
            update(Execution)
            .where(
                Execution.id == execution_id,
                Execution.status == _IN_PROGRESS,
                Execution.lease_owner == owner,
            )
            .values(lease_expires_at=now - timedelta(microseconds=1))
            .execution_options(synchronize_session=False)
        )
    return affected_rows(result) == 1


def recover_interrupted(
    db: Database, now: datetime | None = None, owner: str | None = None, limit: int | None = None
) -> list[Execution]:
    """Mark interrupted executions ``Failed`` and return them, for the caller to rerun.

    Interrupted means ``InProgress`` with an expired lease, or, when ``owner`` is given (a
    server starting up under its own id), any ``InProgress`` execution that owner held: it
    cannot still be running. Each is recovered by exactly one caller, even when several
    servers recover at once. With ``limit`` at most that many are recovered (a worker takes
    no more than it has room to rerun; the others stay for the next call or another worker).
    """
    now = as_utc(now, "now") if now is not None else utcnow()
    if limit is not None and limit < 1:
        return []
    stale = Execution.lease_expires_at < now
    if owner is not None:
        stale = or_(stale, Execution.lease_owner == owner)
    with db.session() as session:
        candidates = list(
            session.scalars(
                select(Execution)
                .where(Execution.status == _IN_PROGRESS, stale)
                .order_by(Execution.scheduled_time, Execution.id)
            )
        )
    recovered: list[Execution] = []
    for candidate in candidates:
        held_by = candidate.lease_owner
        if owner is not None and held_by == owner:
            why = f"owner {held_by!r} restarted before it finished"
        else:
            expiry = candidate.lease_expires_at.isoformat() if candidate.lease_expires_at else "?"
            why = f"the lease of owner {held_by!r} expired at {expiry}"
        reason = f"{INTERRUPTED}: {why}; recovered at {now.isoformat()}"
        if owner is not None:
            reason += f" by {owner!r}"
        with db.session() as session:
            result = session.execute(
                update(Execution)
                .where(
                    Execution.id == candidate.id,
                    Execution.status == _IN_PROGRESS,
                    Execution.lease_owner == held_by,
                    stale,  # still stale: not renewed since it was read
                )
                .values(
                    status=ExecutionStatus.FAILED.value,
                    failure_reason=reason,
                    ended_at=now,
                    lease_expires_at=None,
                )
                .execution_options(synchronize_session=False)
            )
        if affected_rows(result) == 1:
            log.warning("execution %s %s", candidate.id, reason)
            recovered.append(get_execution(db, candidate.id))
            if limit is not None and len(recovered) >= limit:
                break
    return recovered


def list_executions(
    db: Database,
    endpoint: str | None = None,
    schedule: str | None = None,
    status: ExecutionStatus | str | Iterable[ExecutionStatus | str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Execution]:
    """Executions, newest scheduled first; ``since``/``until`` bound ``scheduled_time``
    (``since`` inclusive, ``until`` exclusive)."""
    if limit < 1 or offset < 0:
        raise InputError(f"limit/offset: expected limit >= 1 and offset >= 0, got {limit}/{offset}")
    query = select(Execution)
    if endpoint is not None:
        query = query.where(Execution.endpoint_name == endpoint)
    if schedule is not None:
        query = query.where(Execution.schedule_name == schedule)
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        try:
            values = [ExecutionStatus(s).value for s in statuses]
        except ValueError:
            allowed = ", ".join(s.value for s in ExecutionStatus)
            raise InputError(f"status: expected some of {allowed}, got {status!r}") from None
        query = query.where(Execution.status.in_(values))
    window = []
    if since is not None:
        window.append(Execution.scheduled_time >= as_utc(since, "since"))
    if until is not None:
        window.append(Execution.scheduled_time < as_utc(until, "until"))
    if window:
        query = query.where(and_(*window))
    query = (
        query.order_by(Execution.scheduled_time.desc(), Execution.attempt.desc(), Execution.id)
        .limit(limit)
        .offset(offset)
    )
    with db.session() as session:
        return list(session.scalars(query))
