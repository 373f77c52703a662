"""Platform events, and the saved state of the streaming drift detectors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


class DetectorState(Base):
    """The saved state of one streaming drift detector of a schedule, so that a stream that
    spans many executions is one stream (``vigil.checks.detectors`` detectors' ``to_state()``)."""

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
    __table_args__ = (
        Index("ix_events_kind_time", "kind", "time"),
        # the scheduler's mark of completed executions (count and latest, every tick)
        Index("ix_events_kind_created", "kind", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(String(64))
    endpoint_name: Mapped[str | None] = mapped_column(String(NAME))
    schedule_name: Mapped[str | None] = mapped_column(String(NAME))
    time: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
