"""Reading training jobs: lists, one run with its final metrics, curves by step, stored logs.

>>> from vigil.store.db import Database
>>> from vigil.store.metrics import MetricStore
>>> from vigil.app.training import MetricPoint, log_metrics, start_job
>>> db = Database("sqlite://"); db.create_all(); store = MetricStore(db)
>>> run = start_job(db, "churn-train")["run_id"]
>>> _ = log_metrics(db, store, run, [MetricPoint("loss", v, step=s) for s, v in [(2, .4), (1, .5)]])
>>> [(p["step"], p["value"]) for p in curve(db, "churn-train", "loss")]
[(1, 0.5), (2, 0.4)]
>>> list_jobs(db, status="InProgress")["total"]
1
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from vigil.app.training import TrainingJobNotFoundError, find_run, job_document
from vigil.errors import InputError
from vigil.jobs import STATUSES
from vigil.store.db import Database
from vigil.store.models import TrainingJob, TrainingMetricPoint

__all__ = ["curve", "get_job", "list_jobs", "metric_names", "read_log"]

MAX_LIMIT = 1000


def list_jobs(
    db: Database,
    *,
    status: str | None = None,
    prefix: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Runs, newest first, filtered by ``status`` and name ``prefix``: ``{"jobs", "total"}``
    (each job without its final metrics; :func:`get_job` has them)."""
    if status is not None and status not in STATUSES:
        raise InputError(f"status: expected one of {list(STATUSES)}, got {status!r}")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise InputError(f"limit: expected 1 to {MAX_LIMIT} and offset 0 or more")
    where = []
    if status is not None:
        where.append(TrainingJob.status == status)
    if prefix:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(TrainingJob.name.like(escaped + "%", escape="\\"))
    with db.session() as session:
        total = session.scalar(select(func.count()).select_from(TrainingJob).where(*where)) or 0
        rows = session.scalars(
            select(TrainingJob)
            .where(*where)
            .order_by(TrainingJob.created_at.desc(), TrainingJob.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        jobs = [{**job_document(session, j), "final_metrics": None} for j in rows]
    for job in jobs:
        del job["final_metrics"]
    return {"jobs": jobs, "total": total}


def get_job(db: Database, job: str) -> dict[str, Any]:
    """One run (a run id, or the newest run of a job name) with ``final_metrics``
    (``FinalMetricDataList``-like) and the names of its metrics."""
    run_id = find_run(db, job)
    with db.session() as session:
        row = session.get(TrainingJob, run_id)
        if row is None:  # pragma: no cover - deleted between the two reads
            raise TrainingJobNotFoundError(f"no training job run with id {run_id!r}")
        return {**job_document(session, row), "metrics": metric_names(db, run_id)}


def metric_names(db: Database, run_id: str) -> list[str]:
    """The metrics a run logged, sorted."""
    with db.session() as session:
        return list(
            session.scalars(
                select(TrainingMetricPoint.metric)
                .where(TrainingMetricPoint.job_id == run_id)
                .distinct()
                .order_by(TrainingMetricPoint.metric)
            )
        )


def curve(db: Database, job: str, metric: str, *, by: str = "step") -> list[dict[str, Any]]:
    """Every logged value of ``metric`` in the run ``job`` names, ordered by ``step`` (then
    time) or by ``timestamp``: ``[{"step", "timestamp", "value"}]``."""
    if by not in ("step", "timestamp"):
        raise InputError(f"by: expected 'step' or 'timestamp', got {by!r}")
    run_id = find_run(db, job)
    p = TrainingMetricPoint
    order = (p.step, p.timestamp, p.id) if by == "step" else (p.timestamp, p.step, p.id)
    with db.session() as session:
        rows = session.execute(
            select(p.step, p.timestamp, p.value)
            .where(p.job_id == run_id, p.metric == metric)
            .order_by(*order)
        ).all()
    return [{"step": s, "timestamp": t, "value": v} for s, t, v in rows]


def read_log(
    db: Database, job: str, *, search: str | None = None, tail: int | None = None
) -> dict[str, Any]:
    """The run's stored log: ``{"run_id", "path", "lines"}``, only the lines containing
    ``search`` when given, the last ``tail`` lines when given."""
    run_id = find_run(db, job)
    with db.session() as session:
        row = session.get(TrainingJob, run_id)
        path = row.log_path if row is not None else None
    if not path:
        raise TrainingJobNotFoundError(f"training job {job!r} has no stored log")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as exc:
        raise TrainingJobNotFoundError(f"training job {job!r}: log {path}: {exc}") from None
    lines = text.splitlines()
    if search:
        lines = [line for line in lines if search in line]
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    return {"run_id": run_id, "path": path, "lines": lines}
