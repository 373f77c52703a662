"""Training jobs: one row per run, MLflow experiments (job families) and step-indexed curves.

A job's metric values go to the metric store (namespace ``/aws/sagemaker/TrainingJobs``,
dimension ``TrainingJobName``), where alarms and dashboards read them. CloudWatch datapoints
carry no step, so :class:`TrainingMetricPoint` keeps each value once more with its step, per
run: the curve by step (and by time) of one run, which the metric store cannot give when a
name is run again. Names are not unique (a job run again keeps its name, so its alarms keep
working); ``id`` (32 hex digits, MLflow's ``run_id``) is.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


def _run_id() -> str:
    return uuid.uuid4().hex


class TrainingExperiment(Base):
    """An MLflow experiment: a family of training jobs."""

    __tablename__ = "training_experiments"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    artifact_location: Mapped[str] = mapped_column(Text, default="")
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default="active")
    tags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TrainingJob(Base):
    """One run of a training job, from the SDK, ``vigil run``, MLflow or Keras."""

    __tablename__ = "training_jobs"
    __table_args__ = (
        Index("ix_training_jobs_name_created", "name", "created_at"),
        Index("ix_training_jobs_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_run_id)
    name: Mapped[str] = mapped_column(String(NAME))
    source: Mapped[str] = mapped_column(String(16), default="sdk")  # sdk|run|mlflow|keras|api
    experiment_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("training_experiments.id")
    )
    status: Mapped[str] = mapped_column(String(16), default="InProgress")
    secondary_status: Mapped[str] = mapped_column(String(32), default="Starting")
    failure_reason: Mapped[str | None] = mapped_column(Text)
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    transitions: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"items": [...]}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    cpu_seconds: Mapped[float | None] = mapped_column(Float)
    peak_rss_bytes: Mapped[int | None] = mapped_column(BigInteger)
    log_path: Mapped[str | None] = mapped_column(Text)


class TrainingMetricPoint(Base):
    """One logged value of a run's metric, with its step: the curves by step and by time."""

    __tablename__ = "training_metric_points"
    __table_args__ = (Index("ix_training_points_job_metric", "job_id", "metric", "step"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    job_id: Mapped[str] = mapped_column(String(32), ForeignKey("training_jobs.id"))
    metric: Mapped[str] = mapped_column(String(NAME))
    step: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    timestamp: Mapped[datetime]
    value: Mapped[float] = mapped_column(Float)
