"""Schedules as the API and the dashboard read them, and running one now.

>>> run_window_error(None, None) is None
True
>>> run_window_error(datetime(2026, 1, 1, tzinfo=timezone.utc), None)
'give both window_start and window_end, or none'
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy import select

from vigil.app.pool import ExecutionPool
from vigil.monitor.runner import claim_scheduled, run_scheduled
from vigil.monitor.runtime import Runtime
from vigil.store.db import Database
from vigil.store.errors import NotFoundError
from vigil.store.executions import get_execution, release_lease
from vigil.store.models import Execution, Schedule

log = logging.getLogger(__name__)


def list_schedules(db: Database, endpoint: str | None = None) -> list[Schedule]:
    """Every schedule (of ``endpoint``), by name."""
    query = select(Schedule).order_by(Schedule.name)
    if endpoint is not None:
        query = query.where(Schedule.endpoint_name == endpoint)
    with db.session() as s:
        return list(s.scalars(query))


def get_schedule(db: Database, name: str) -> Schedule | None:
    """One schedule, or None."""
    with db.session() as s:
        return s.get(Schedule, name)


def run_window_error(start: datetime | None, end: datetime | None) -> str | None:
    """What is wrong with a run's window (both bounds or none, start before end), or None."""
    if (start is None) != (end is None):
        return "give both window_start and window_end, or none"
    if start is not None and end is not None and start >= end:
        return "window_start must be before window_end"
    return None


def run_now(
    rt: Runtime,
    name: str,
    window: tuple[datetime, datetime] | None = None,
    pool: ExecutionPool | None = None,
) -> Execution | None:
    """Run one execution of schedule ``name`` now, over ``window`` or the schedule's default
    one (a failed window runs again), and wait for it to end: in a worker process of
    ``pool`` when given (the caller's thread only waits), else in the caller's thread. None
    when that window's execution exists already. Raises
    :class:`~vigil.store.errors.NotFoundError` for an unknown schedule."""
    if get_schedule(rt.db, name) is None:
        raise NotFoundError(f"no schedule named {name!r}")
    now = datetime.now(timezone.utc)
    at = window[1] if window else now
    if pool is None:
        return run_scheduled(rt, name, at, window=window, retry_failed=True)
    claimed = claim_scheduled(rt, name, at, window=window, retry_failed=True)
    if claimed is None:
        return None
    execution_id = claimed[1].id
    try:
        pool.run(execution_id)
    except Exception:  # stopping, or its process died: another worker reruns it
        log.exception("execution %s did not run in a worker process", execution_id)
        release_lease(rt.db, execution_id, rt.owner)
    return get_execution(rt.db, execution_id)
