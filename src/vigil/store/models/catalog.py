"""What is monitored: endpoints, their baselines and their schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


class Endpoint(Base):
    """A deployed model (and variant) that is monitored."""

    __tablename__ = "endpoints"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    variant: Mapped[str] = mapped_column(String(NAME), default="AllTraffic")
    capture_uri: Mapped[str | None] = mapped_column(Text)
    #: its settings, such as its default alarms' (``default_alarms``, ``error_rate``, ...)
    config: Mapped[dict[str, Any] | None] = mapped_column(JSON)
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
