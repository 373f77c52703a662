"""Platform events, and the saved state of the streaming drift detectors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Index,
    String,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from vigil.events.envelope import DEFAULT_ACCOUNT, DEFAULT_REGION, VIGIL_SOURCE, detail_type_of_kind
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


def _detail_type(context: DefaultExecutionContext) -> str:
    """A Vigil event's detail-type, from its kind (``alarm_state_change`` -> ``Vigil Alarm
    State Change``)."""
    return detail_type_of_kind(str(context.get_current_parameters().get("kind") or "event"))


class Event(Base):
    """A state change on the platform (a concept drift detected, a job finished, ...), in
    EventBridge's envelope: Vigil's own events have source ``vigil`` and a ``kind``
    (``execution_completed``, ``alarm_state_change``...); external ones their source and
    detail-type, ``kind`` ``external``. ``dedup_key`` (unique) is one run's state change
    (:func:`vigil.events.runs.dedup_key`); ``run_*`` are its run facts, for filters."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_kind_time", "kind", "time"),
        # the scheduler's mark of completed executions (count and latest, every tick)
        Index("ix_events_kind_created", "kind", "created_at"),
        Index("ix_events_source_time", "source", "time"),
        Index("ix_events_run", "run_kind", "run_name", "time"),
        Index("ix_events_run_key_status", "run_key", "run_status"),
        # Vigil's own events the bus has not published yet (vigil.app.events.EventBus)
        Index("ix_events_published", "published_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(String(64))
    endpoint_name: Mapped[str | None] = mapped_column(String(NAME))
    schedule_name: Mapped[str | None] = mapped_column(String(NAME))
    time: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(256), default=VIGIL_SOURCE)
    detail_type: Mapped[str] = mapped_column(String(256), default=_detail_type)
    account: Mapped[str] = mapped_column(String(64), default=DEFAULT_ACCOUNT)
    region: Mapped[str] = mapped_column(String(64), default=DEFAULT_REGION)
    resources: Mapped[list[str]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # replay-name, trace-header...
    dedup_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    run_kind: Mapped[str | None] = mapped_column(String(64))
    run_name: Mapped[str | None] = mapped_column(String(NAME))
    run_key: Mapped[str | None] = mapped_column(String(NAME))
    run_status: Mapped[str | None] = mapped_column(String(16))
    # when the bus archived, counted and (for a failed run) notified it: at once for events
    # that arrive from outside, on the server's next tick for Vigil's own (None until then)
    published_at: Mapped[datetime | None]
