"""The metadata tables, as SQLAlchemy 2 typed declarative models portable between SQLite
and PostgreSQL. Every timestamp is a timezone-aware UTC datetime in Python."""

from __future__ import annotations

import enum
import hashlib
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from vigil.store.columns import UTCDateTime, utcnow

NAME = 255  # longest name (endpoint, schedule, metric, dimension) accepted, as in AWS


class Base(DeclarativeBase):
    """Declarative base of every Vigil table."""

    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class ExecutionStatus(str, enum.Enum):
    """The states of a monitoring execution, as SageMaker's ``MonitoringExecutionStatus``."""

    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    COMPLETED_WITH_VIOLATIONS = "CompletedWithViolations"
    FAILED = "Failed"
    STOPPED = "Stopped"

    @property
    def terminal(self) -> bool:
        """True for the states an execution ends in."""
        return self not in (ExecutionStatus.PENDING, ExecutionStatus.IN_PROGRESS)


class Endpoint(Base):
    """A deployed model (and variant) that is monitored."""

    __tablename__ = "endpoints"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    variant: Mapped[str] = mapped_column(String(NAME), default="AllTraffic")
    capture_uri: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    baselines: Mapped[list[BaselineRecord]] = relationship(
        back_populates="endpoint", passive_deletes=True
    )
    schedules: Mapped[list[Schedule]] = relationship(back_populates="endpoint")


class BaselineRecord(Base):
    """A stored baseline: the directory (URI) holding statistics.json and constraints.json."""

    __tablename__ = "baselines"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    endpoint_name: Mapped[str | None] = mapped_column(
        String(NAME), ForeignKey("endpoints.name", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(64), default="data_quality")
    uri: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)  # the directory or data it came from
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)  # suggest_baseline options
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    endpoint: Mapped[Endpoint | None] = relationship(back_populates="baselines")


class Schedule(Base):
    """When a monitor runs over an endpoint, and which window of capture each run reads.

    ``window_start_offset`` and ``window_end_offset`` are ISO-8601 durations relative to the
    scheduled time, as SageMaker's ``DataAnalysisStartTime``/``EndTime`` (``"-PT1H"``); unset,
    a run reads the previous period of the schedule.
    """

    __tablename__ = "schedules"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    endpoint_name: Mapped[str] = mapped_column(
        String(NAME), ForeignKey("endpoints.name"), index=True
    )
    baseline_name: Mapped[str | None] = mapped_column(
        String(NAME), ForeignKey("baselines.name", ondelete="SET NULL")
    )
    expression: Mapped[str] = mapped_column(Text)
    window_start_offset: Mapped[str | None] = mapped_column(String(64))
    window_end_offset: Mapped[str | None] = mapped_column(String(64))
    monitor_type: Mapped[str] = mapped_column(String(64), default="DataQuality")
    status: Mapped[str] = mapped_column(String(32), default="Scheduled")
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_scheduled_time: Mapped[datetime | None]

    endpoint: Mapped[Endpoint] = relationship(back_populates="schedules")
    baseline: Mapped[BaselineRecord | None] = relationship()


class Execution(Base):
    """One run of a monitor over one window; ``attempt`` counts reruns after interruption.

    The unique (schedule, window, attempt) is what makes each window run exactly once, even
    with several servers on one database: see :mod:`vigil.store.executions`.
    """

    __tablename__ = "executions"
    __table_args__ = (
        UniqueConstraint(
            "schedule_name", "window_start", "window_end", "attempt", name="uq_execution_window"
        ),
        Index("ix_executions_status_lease", "status", "lease_expires_at"),
        Index("ix_executions_endpoint_time", "endpoint_name", "scheduled_time"),
        Index("ix_executions_schedule_time", "schedule_name", "scheduled_time"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    schedule_name: Mapped[str] = mapped_column(String(NAME))
    endpoint_name: Mapped[str] = mapped_column(String(NAME))
    scheduled_time: Mapped[datetime]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(32), default=ExecutionStatus.PENDING.value)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    records_read: Mapped[int | None] = mapped_column(BigInteger)
    records_skipped: Mapped[int | None] = mapped_column(BigInteger)
    violation_count: Mapped[int | None] = mapped_column(Integer)
    output_uri: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(NAME))
    lease_expires_at: Mapped[datetime | None]
    attempt: Mapped[int] = mapped_column(Integer, default=1)

    def __repr__(self) -> str:
        return (
            f"Execution(id={self.id!r}, schedule={self.schedule_name!r}, "
            f"window=[{self.window_start}, {self.window_end}), status={self.status!r}, "
            f"attempt={self.attempt})"
        )


class ApiToken(Base):
    """A bearer token for the HTTP API; only the SHA-256 of its secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    @staticmethod
    def hash_secret(secret: str) -> str:
        """The stored form of a token's secret: SHA-256, hex.

        >>> ApiToken.hash_secret("s3cret")[:16]
        '1ec1c26b50d5d3c5'
        """
        return hashlib.sha256(secret.encode("utf-8")).hexdigest()

    @property
    def scope_list(self) -> list[str]:
        """``scopes`` split on commas, blanks dropped."""
        return [s.strip() for s in self.scopes.split(",") if s.strip()]


class MetricSeries(Base):
    """One metric time series: a namespace, a name and an exact set of dimensions.

    ``dimensions_key`` is the canonical JSON of the dimensions (keys sorted, compact).
    ``series_key`` (SHA-256 of the three, see :func:`vigil.store.datum.series_key`) is the
    unique handle, so identity stays one short indexed equality however long the dimensions.
    Series are never deleted: retention removes datapoints only.
    """

    __tablename__ = "metric_series"
    __table_args__ = (Index("ix_metric_series_name", "namespace", "name"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    series_key: Mapped[str] = mapped_column(String(64), unique=True)
    namespace: Mapped[str] = mapped_column(String(NAME))
    name: Mapped[str] = mapped_column(String(NAME))
    dimensions_key: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Datapoint(Base):
    """One datapoint of a series: a raw ``value`` or a statistic set (count, sum, min, max).

    Datapoints point at their :class:`MetricSeries` rather than repeating namespace, name and
    dimensions: rows and the (series, timestamp) index stay small, which is what makes
    writing fast (see bench/RESULTS.md, section "metrics").
    """

    __tablename__ = "datapoints"
    __table_args__ = (Index("ix_datapoints_series_time", "series_id", "timestamp"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    series_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("metric_series.id")
    )
    timestamp: Mapped[datetime]
    value: Mapped[float | None] = mapped_column(Float)
    sample_count: Mapped[float | None] = mapped_column(Float)
    sum: Mapped[float | None] = mapped_column(Float)
    minimum: Mapped[float | None] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32), default="None")


class DetectorState(Base):
    """The saved state of one streaming drift detector of a schedule, so that a stream that
    spans many executions is one stream (``vigil.drift`` detectors' ``to_state()``)."""

    __tablename__ = "detector_states"

    schedule_name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    detector: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_time: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Event(Base):
    """A state change on the platform (a concept drift detected, a job finished, ...)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_kind_time", "kind", "time"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(String(64))
    endpoint_name: Mapped[str | None] = mapped_column(String(NAME))
    schedule_name: Mapped[str | None] = mapped_column(String(NAME))
    time: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
