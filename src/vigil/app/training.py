"""Training jobs: start a run, log its metrics, move it through its lifecycle.

The SDK (``vigil.training_job``), ``vigil run``, the jobs API, the MLflow REST subset and the
Keras endpoint all call these functions, so a job behaves the same whoever reports it:

- every status change (the start included) writes an ``Event`` of kind
  ``training_job_state_change`` whose ``detail`` is a "SageMaker Training Job State Change"
  (:func:`vigil.jobs.state_change_detail`), which event rules match;
- every metric value goes to the metric store (namespace ``/aws/sagemaker/TrainingJobs``,
  metric = definition name, dimension ``TrainingJobName``) and, with its step, to the run's
  curve (:class:`~vigil.store.models.TrainingMetricPoint`);
- the event bus (:meth:`vigil.app.events.EventBus.publish_own`, on the server's next tick)
  archives those events, counts them as ``vigil/Platform`` run figures (``RunsStarted``,
  ``RunsSucceeded``/``RunsFailed``/``RunsStopped`` and ``RunDuration`` in seconds;
  ``Kind=training_job``, ``Name=<job>``) and notifies a failed or stopped run to the
  ``platform:`` topics, as it does for every other job and pipeline.

>>> from vigil.store.db import Database
>>> from vigil.store.metrics import MetricStore
>>> db = Database("sqlite://"); db.create_all(); store = MetricStore(db)
>>> job = start_job(db, "churn-train", hyperparameters={"lr": 0.1})
>>> log_metrics(db, store, job["run_id"], [MetricPoint("validation:loss", 0.5, step=1),
...                                        MetricPoint("validation:loss", 0.31, step=2)])
2
>>> done = update_job(db, job["run_id"], status="Completed")
>>> done["status"], [(m["MetricName"], m["Value"]) for m in done["final_metrics"]]
('Completed', [('validation:loss', 0.31)])
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from vigil.errors import InputError, NotFoundError
from vigil.jobs import TERMINAL, check_transition, epoch_ms, secondary_status, state_change_detail
from vigil.metrics.datum import MetricDatum
from vigil.store.columns import as_utc, utcnow
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.models import Event, TrainingJob, TrainingMetricPoint
from vigil.store.settings import Settings

__all__ = [
    "EVENT_KIND",
    "NAMESPACE",
    "MetricPoint",
    "ParamConflictError",
    "TrainingJobNotFoundError",
    "find_run",
    "job_document",
    "log_metrics",
    "log_path",
    "set_params",
    "set_tags",
    "start_job",
    "store_log",
    "update_job",
]

NAMESPACE = "/aws/sagemaker/TrainingJobs"
EVENT_KIND = "training_job_state_change"
_RUN_ID = re.compile(r"[0-9a-f]{32}\Z")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class TrainingJobNotFoundError(NotFoundError):
    """No training job has that name or run id."""

    code = "job_not_found"


class ParamConflictError(InputError):
    """A hyperparameter logged again with another value (parameters are write-once)."""

    code = "param_conflict"


@dataclass(frozen=True)
class MetricPoint:
    """One value of a job's metric: its ``step`` (0 by default) and ``timestamp`` (now)."""

    name: str
    value: float
    step: int = 0
    timestamp: datetime | None = None


def _get(session: Session, run_id: str) -> TrainingJob:
    job = session.get(TrainingJob, run_id)
    if job is None:
        raise TrainingJobNotFoundError(f"no training job run with id {run_id!r}")
    return job


def find_run(db: Database, job: str) -> str:
    """The run id ``job`` names: a run id itself, else the newest run of that job name."""
    with db.session() as session:
        if _RUN_ID.match(job) and session.get(TrainingJob, job) is not None:
            return job
        found = session.scalars(
            select(TrainingJob.id)
            .where(TrainingJob.name == job)
            .order_by(TrainingJob.created_at.desc(), TrainingJob.id.desc())
            .limit(1)
        ).first()
    if found is None:
        raise TrainingJobNotFoundError(f"no training job named {job!r}")
    return found


def _name(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise InputError(f"training job name: expected 1 to 255 characters, got {name!r}")
    return name.strip()


def start_job(
    db: Database,
    name: str,
    *,
    hyperparameters: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    source: str = "api",
    experiment_id: int | None = None,
    started: datetime | None = None,
) -> dict[str, Any]:
    """A new run of job ``name``, ``InProgress`` from ``started`` (now): its document."""
    now = utcnow()
    started = as_utc(started, "started") if started is not None else now
    with db.session() as session:
        job = TrainingJob(
            name=_name(name),
            source=source,
            experiment_id=experiment_id,
            status="InProgress",
            secondary_status="Training",
            hyperparameters={str(k): str(v) for k, v in (hyperparameters or {}).items()},
            tags={str(k): str(v) for k, v in (tags or {}).items()},
            transitions={"items": [_transition("Training", started)]},
            created_at=now,
            started_at=started,
        )
        session.add(job)
        session.flush()
        _event(session, job, now)
        doc = job_document(session, job)
    return doc


def _transition(status: str, start: datetime) -> dict[str, Any]:
    return {"Status": status, "StartTime": start.isoformat()}


def _event(session: Session, job: TrainingJob, when: datetime) -> None:
    detail = state_change_detail(
        name=job.name,
        status=job.status,
        secondary=job.secondary_status,
        created=job.created_at,
        started=job.started_at,
        ended=job.ended_at,
        modified=when,
        hyperparameters=job.hyperparameters,
        tags=job.tags,
        failure_reason=job.failure_reason,
        transitions=job.transitions.get("items", []),
        final_metrics=[
            {**m, "Timestamp": epoch_ms(m["Timestamp"])} for m in _final_metrics(session, job.id)
        ]
        if job.status in TERMINAL
        else (),
        extra=_vigil_extra(job),
    )
    session.add(Event(kind=EVENT_KIND, time=when, detail=detail))


def _vigil_extra(job: TrainingJob) -> dict[str, Any]:
    extra: dict[str, Any] = {"RunId": job.id, "Source": job.source}
    for key, value in (
        ("ExitCode", job.exit_code),
        ("DurationSeconds", job.duration_seconds),
        ("CpuSeconds", job.cpu_seconds),
        ("PeakRssBytes", job.peak_rss_bytes),
        ("LogPath", job.log_path),
    ):
        if value is not None:
            extra[key] = value
    return extra


def log_metrics(
    db: Database, metrics: MetricStore, run_id: str, points: Sequence[MetricPoint]
) -> int:
    """Record ``points`` for the run: in its curve and in the metric store. Values that are
    not finite are refused (the metric store takes finite values only), naming the point."""
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for i, p in enumerate(points):
        if not isinstance(p.value, (int, float)) or isinstance(p.value, bool):
            raise InputError(f"metrics[{i}] {p.name!r}: expected a number, got {p.value!r}")
        if not math.isfinite(p.value):
            raise InputError(f"metrics[{i}] {p.name!r}: expected a finite value, got {p.value}")
        if not isinstance(p.step, int) or p.step < 0:
            raise InputError(f"metrics[{i}] {p.name!r}: step must be 0 or more, got {p.step!r}")
        when = as_utc(p.timestamp, f"metrics[{i}].timestamp") if p.timestamp else now
        rows.append({"metric": p.name, "step": p.step, "timestamp": when, "value": p.value})
    if not rows:
        return 0
    with db.session() as session:
        job = _get(session, run_id)
        name = job.name
        session.execute(insert(TrainingMetricPoint), [{"job_id": run_id, **r} for r in rows])
    dims = {"TrainingJobName": name}
    metrics.put(
        MetricDatum(NAMESPACE, r["metric"], dims, r["timestamp"], float(r["value"])) for r in rows
    )
    return len(rows)


def set_params(db: Database, run_id: str, params: Mapping[str, Any]) -> None:
    """Add hyperparameters (write-once: the same value again is fine, another one is a
    :class:`ParamConflictError`)."""
    with db.session() as session:
        job = _get(session, run_id)
        merged = dict(job.hyperparameters)
        for key, value in params.items():
            key, text = str(key), str(value)
            if key in merged and merged[key] != text:
                raise ParamConflictError(
                    f"param {key!r}: already logged as {merged[key]!r}, cannot become {text!r}"
                )
            merged[key] = text
        job.hyperparameters = merged


def set_tags(
    db: Database, run_id: str, tags: Mapping[str, Any], delete: Sequence[str] = ()
) -> None:
    """Set (overwrite) ``tags`` and remove the keys in ``delete``."""
    with db.session() as session:
        job = _get(session, run_id)
        merged = {**job.tags, **{str(k): str(v) for k, v in tags.items()}}
        for key in delete:
            merged.pop(key, None)
        job.tags = merged


def update_job(
    db: Database,
    run_id: str,
    *,
    status: str | None = None,
    failure_reason: str | None = None,
    ended: datetime | None = None,
    exit_code: int | None = None,
    cpu_seconds: float | None = None,
    peak_rss_bytes: int | None = None,
    log_path: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Change a run's status (checked against the lifecycle; the same status again changes
    nothing) and record its figures; a new status writes its state-change event. Returns the
    run's document."""
    now = utcnow()
    with db.session() as session:
        job = _get(session, run_id)
        for attr, value in (
            ("exit_code", exit_code),
            ("cpu_seconds", cpu_seconds),
            ("peak_rss_bytes", peak_rss_bytes),
            ("log_path", log_path),
        ):
            if value is not None:
                setattr(job, attr, value)
        if name is not None:
            job.name = _name(name)
        if status is not None and status != job.status:
            check_transition(job.status, status)
            job.status = status
            job.secondary_status = secondary_status(status, failure_reason)
            if status == "Failed":
                job.failure_reason = (failure_reason or "unknown")[:1024]
            items = list(job.transitions.get("items", []))
            if items:
                items[-1] = {**items[-1], "EndTime": now.isoformat()}
            items.append(_transition(job.secondary_status, now))
            job.transitions = {"items": items}
            if status in TERMINAL:
                job.ended_at = as_utc(ended, "ended") if ended is not None else now
                start = job.started_at or job.created_at
                job.duration_seconds = max(0.0, (job.ended_at - start).total_seconds())
            session.flush()
            _event(session, job, now)
        doc = job_document(session, job)
    return doc


def _final_metrics(session: Session, run_id: str) -> list[dict[str, Any]]:
    """``FinalMetricDataList``: the last value logged of each metric of the run."""
    last = (
        select(func.max(TrainingMetricPoint.id))
        .where(TrainingMetricPoint.job_id == run_id)
        .group_by(TrainingMetricPoint.metric)
    )
    points = session.scalars(
        select(TrainingMetricPoint)
        .where(TrainingMetricPoint.id.in_(last))
        .order_by(TrainingMetricPoint.metric)
    )
    return [
        {"MetricName": p.metric, "Value": p.value, "Timestamp": p.timestamp, "Step": p.step}
        for p in points
    ]


def job_document(session: Session, job: TrainingJob) -> dict[str, Any]:
    """A run as the API and SDK show it (times as datetimes)."""
    return {
        "run_id": job.id,
        "name": job.name,
        "source": job.source,
        "experiment_id": job.experiment_id,
        "status": job.status,
        "secondary_status": job.secondary_status,
        "failure_reason": job.failure_reason,
        "hyperparameters": dict(job.hyperparameters),
        "tags": dict(job.tags),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "ended_at": job.ended_at,
        "exit_code": job.exit_code,
        "duration_seconds": job.duration_seconds,
        "cpu_seconds": job.cpu_seconds,
        "peak_rss_bytes": job.peak_rss_bytes,
        "log_path": job.log_path,
        "transitions": list(job.transitions.get("items", [])),
        "final_metrics": _final_metrics(session, job.id),
    }


def log_path(settings: Settings, name: str, run_id: str) -> Path:
    """Where a run's log lives: ``{data_dir}/jobs/{name}/{run_id}/output.log`` (characters
    of the name outside ``A-Za-z0-9._-`` written ``_``).

    >>> log_path(Settings(data_dir=Path("/srv/v")), "exp/run 1", "ab" * 16).as_posix()
    '/srv/v/jobs/exp_run_1/abababababababababababababababab/output.log'
    """
    safe = _UNSAFE.sub("_", name).strip(".") or "_"
    return Path(settings.data_dir).absolute() / "jobs" / safe / run_id / "output.log"


def store_log(db: Database, settings: Settings, run_id: str, data: bytes) -> Path:
    """Write a run's whole log to the artifact store and record where it is."""
    with db.session() as session:
        job = _get(session, run_id)
        path = log_path(settings, job.name, run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        job.log_path = str(path)
    return path
