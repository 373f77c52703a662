"""Monitoring executions and their states (SageMaker's ``MonitoringExecutionStatus``)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


class ExecutionStatus(str, enum.Enum):
    """The states of a monitoring execution, as SageMaker's ``MonitoringExecutionStatus``."""

    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    COMPLETED_WITH_VIOLATIONS = "CompletedWithViolations"
    FAILED = "Failed"
    STOPPING = "Stopping"  # SageMaker's; Vigil stops at once, so a filter on it finds none
    STOPPED = "Stopped"

    @property
    def terminal(self) -> bool:
        """True for the states an execution ends in."""
        return self not in (
            ExecutionStatus.PENDING, ExecutionStatus.IN_PROGRESS, ExecutionStatus.STOPPING
        )  # fmt: skip


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
