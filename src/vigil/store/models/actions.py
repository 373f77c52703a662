"""Action rules and workflows as stored specs, their runs and step attempts.

A run's ``definition`` is a snapshot of the workflow it runs (and of every workflow that one
calls), so a run resumes with the definition it started with. ``current_step`` and
``current_input`` are the run's cursor: the step to run next and its input. They move in the
same transaction that ends a step's attempt, which is what makes a crash resumable.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


class RunStatus(str, enum.Enum):
    """The states of a run; ``Interrupted`` is a run found orphaned, being resumed."""

    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    INTERRUPTED = "Interrupted"


class AttemptStatus(str, enum.Enum):
    """The states of one attempt of one step."""

    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"  # the step's condition did not match its input
    INTERRUPTED = "Interrupted"  # the worker died while it ran


class ActionRun(Base):
    """One run of a rule's target (a single step) or of a workflow."""

    __tablename__ = "action_runs"
    __table_args__ = (
        Index("ix_action_runs_status_heartbeat", "status", "heartbeat_at"),
        Index("ix_action_runs_rule_started", "rule", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    rule: Mapped[str | None] = mapped_column(String(NAME))
    workflow: Mapped[str | None] = mapped_column(String(NAME))
    target_type: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str | None] = mapped_column(String(36))
    parent_run_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("action_runs.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(32), default=RunStatus.RUNNING.value)
    input: Mapped[Any] = mapped_column(JSON, nullable=True)
    output: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(String(NAME))
    cause: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    current_step: Mapped[str | None] = mapped_column(String(NAME))
    current_input: Mapped[Any] = mapped_column(JSON, nullable=True)
    steps_taken: Mapped[int] = mapped_column(Integer, default=0)
    resumes: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(NAME))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return (
            f"ActionRun(id={self.id!r}, rule={self.rule!r}, workflow={self.workflow!r}, "
            f"status={self.status!r}, error={self.error!r})"
        )


class StepAttempt(Base):
    """One attempt of one step of a run; ``seq`` orders a run's attempts, ``wait_seconds`` is
    the retry delay waited before it."""

    __tablename__ = "action_step_attempts"
    __table_args__ = (Index("ix_action_step_attempts_run_seq", "run_id", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    run_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("action_runs.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(NAME))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(32), default=AttemptStatus.RUNNING.value)
    input: Mapped[Any] = mapped_column(JSON, nullable=True)
    output: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(String(NAME))
    cause: Mapped[str | None] = mapped_column(Text)
    stdout: Mapped[str | None] = mapped_column(Text)
    stderr: Mapped[str | None] = mapped_column(Text)
    wait_seconds: Mapped[float] = mapped_column(default=0.0)
    child_run_id: Mapped[str | None] = mapped_column(String(36))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return (
            f"StepAttempt(run={self.run_id!r}, seq={self.seq}, step={self.step!r}, "
            f"attempt={self.attempt}, status={self.status!r}, error={self.error!r})"
        )


class ActionDefinition(Base):
    """A rule or a workflow, as its spec."""

    __tablename__ = "action_definitions"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # rule | workflow
    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DispatchedEvent(Base):
    """An event already handed to the rules (so it starts its runs once)."""

    __tablename__ = "dispatched_events"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dispatched_at: Mapped[datetime] = mapped_column(default=utcnow)
