"""MLflow's tracking model over Vigil's training jobs: an experiment is a family of jobs, a
run is one training-job run (``run_id`` = the job's id), RUNNING/FINISHED/FAILED/KILLED map to
InProgress/Completed/Failed/Stopped. Experiment ``"0"`` is MLflow's ``Default``, made on first
use. Times are epoch milliseconds, as MLflow writes them.

>>> from vigil.store.db import Database
>>> db = Database("sqlite://"); db.create_all()
>>> exp = create_experiment(db, "churn")
>>> run = create_run(db, exp, run_name="first", start_time=None, tags={})
>>> run["info"]["status"], run["info"]["run_name"], get_experiment(db, exp)["name"]
('RUNNING', 'first', 'churn')
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from vigil.app import training
from vigil.errors import InputError, NotFoundError
from vigil.jobs import STATUS_TO_MLFLOW
from vigil.store.db import Database
from vigil.store.models import TrainingExperiment, TrainingJob, TrainingMetricPoint

__all__ = [
    "ExperimentExistsError",
    "ExperimentNotFoundError",
    "create_experiment",
    "create_run",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "metric_history",
    "ms",
    "search_experiments",
    "search_runs",
]

DEFAULT_EXPERIMENT = "Default"
RUN_NAME_TAG = "mlflow.runName"


class ExperimentNotFoundError(NotFoundError):
    """No MLflow experiment has that id or name."""

    code = "experiment_not_found"


class ExperimentExistsError(InputError):
    """An MLflow experiment of that name exists already."""

    code = "experiment_exists"


def ms(value: datetime | None) -> int | None:
    """A time as MLflow writes it: integer epoch milliseconds."""
    return None if value is None else round(value.timestamp() * 1000)


def from_ms(value: int | None) -> datetime | None:
    """Epoch milliseconds as a UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def _experiment_doc(e: TrainingExperiment) -> dict[str, Any]:
    return {
        "experiment_id": str(e.id),
        "name": e.name,
        "artifact_location": e.artifact_location,
        "lifecycle_stage": e.lifecycle_stage,
        "tags": [{"key": k, "value": v} for k, v in e.tags.items()],
        "creation_time": ms(e.created_at),
        "last_update_time": ms(e.updated_at),
    }


def _ensure_default(db: Database) -> None:
    with db.session() as session:
        if session.get(TrainingExperiment, 0) is None:
            session.add(TrainingExperiment(id=0, name=DEFAULT_EXPERIMENT))


def _experiment_id(text: str | int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise ExperimentNotFoundError(f"no experiment with id {text!r}") from None


def create_experiment(
    db: Database, name: str, artifact_location: str = "", tags: dict[str, str] | None = None
) -> str:
    """A new experiment's id; :class:`ExperimentExistsError` when the name is taken."""
    if not name or len(name) > 255:
        raise InputError(f"experiment name: expected 1 to 255 characters, got {name!r}")
    _ensure_default(db)
    try:
        with db.session() as session:
            e = TrainingExperiment(name=name, artifact_location=artifact_location, tags=tags or {})
            session.add(e)
            session.flush()
            return str(e.id)
    except IntegrityError:
        raise ExperimentExistsError(f"experiment {name!r} already exists") from None


def get_experiment(db: Database, experiment_id: str | int) -> dict[str, Any]:
    """An experiment's MLflow document."""
    _ensure_default(db)
    with db.session() as session:
        e = session.get(TrainingExperiment, _experiment_id(experiment_id))
        if e is None:
            raise ExperimentNotFoundError(f"no experiment with id {experiment_id!r}")
        return _experiment_doc(e)


def get_experiment_by_name(db: Database, name: str) -> dict[str, Any]:
    """The experiment named ``name``."""
    _ensure_default(db)
    with db.session() as session:
        e = session.scalars(select(TrainingExperiment).where(TrainingExperiment.name == name))
        found = e.first()
        if found is None:
            raise ExperimentNotFoundError(f"no experiment named {name!r}")
        return _experiment_doc(found)


def search_experiments(db: Database, max_results: int = 1000) -> list[dict[str, Any]]:
    """Every active experiment, newest first (filters are not supported)."""
    _ensure_default(db)
    with db.session() as session:
        rows = session.scalars(
            select(TrainingExperiment)
            .where(TrainingExperiment.lifecycle_stage == "active")
            .order_by(TrainingExperiment.id.desc())
            .limit(max_results)
        )
        return [_experiment_doc(e) for e in rows]


def create_run(
    db: Database,
    experiment_id: str,
    *,
    run_name: str | None,
    start_time: int | None,
    tags: dict[str, str],
) -> dict[str, Any]:
    """A new run (a training job ``InProgress``) in the experiment; its MLflow document. Its
    job name is ``run_name`` (or the ``mlflow.runName`` tag), else ``<experiment>/<run id>``."""
    experiment = get_experiment(db, experiment_id)
    name = run_name or tags.get(RUN_NAME_TAG) or ""
    doc = training.start_job(
        db,
        name or experiment["name"],
        tags=tags,
        source="mlflow",
        experiment_id=int(experiment["experiment_id"]),
        started=from_ms(start_time),
    )
    run_id = doc["run_id"]
    if not name:
        name = f"{experiment['name']}/{run_id}"
        training.update_job(db, run_id, name=name)
    training.set_tags(db, run_id, {RUN_NAME_TAG: name})
    return get_run(db, run_id)


def get_run(db: Database, run_id: str) -> dict[str, Any]:
    """A run's MLflow document: ``info``, ``data`` (latest metrics, params, tags), ``inputs``."""
    with db.session() as session:
        job = session.get(TrainingJob, run_id)
        if job is None:
            raise training.TrainingJobNotFoundError(f"no run with id {run_id!r}")
        latest = training.job_document(session, job)["final_metrics"]
        return {
            "info": run_info(job),
            "data": {
                "metrics": [
                    {
                        "key": m["MetricName"],
                        "value": m["Value"],
                        "timestamp": ms(m["Timestamp"]),
                        "step": m["Step"],
                    }
                    for m in latest
                ],
                "params": [{"key": k, "value": v} for k, v in job.hyperparameters.items()],
                "tags": [{"key": k, "value": v} for k, v in job.tags.items()],
            },
            "inputs": {},
        }


def run_info(job: TrainingJob) -> dict[str, Any]:
    """MLflow's ``RunInfo`` of a job run."""
    return {
        "run_id": job.id,
        "run_uuid": job.id,
        "run_name": job.name,
        "experiment_id": str(job.experiment_id if job.experiment_id is not None else 0),
        "user_id": job.tags.get("mlflow.user", ""),
        "status": STATUS_TO_MLFLOW.get(job.status, "RUNNING"),
        "start_time": ms(job.started_at or job.created_at),
        "end_time": ms(job.ended_at),
        "artifact_uri": "",
        "lifecycle_stage": "active",
    }


def search_runs(
    db: Database, experiment_ids: list[str], max_results: int = 1000
) -> list[dict[str, Any]]:
    """The runs of the experiments, newest first (filters are not supported)."""
    ids = [_experiment_id(e) for e in experiment_ids]
    with db.session() as session:
        run_ids = list(
            session.scalars(
                select(TrainingJob.id)
                .where(TrainingJob.experiment_id.in_(ids))
                .order_by(TrainingJob.created_at.desc())
                .limit(max_results)
            )
        )
    return [get_run(db, r) for r in run_ids]


def metric_history(db: Database, run_id: str, key: str) -> list[dict[str, Any]]:
    """Every value of one metric of a run, in logging order."""
    with db.session() as session:
        if session.get(TrainingJob, run_id) is None:
            raise training.TrainingJobNotFoundError(f"no run with id {run_id!r}")
        p = TrainingMetricPoint
        rows = session.execute(
            select(p.value, p.timestamp, p.step)
            .where(p.job_id == run_id, p.metric == key)
            .order_by(p.id)
        ).all()
    return [{"key": key, "value": v, "timestamp": ms(t), "step": s} for v, t, s in rows]
