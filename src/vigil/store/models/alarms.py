"""Stored alarms: definitions, current state and history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


class AlarmRecord(Base):
    """One alarm: its definition (``spec``), its state and why it is in it."""

    __tablename__ = "alarms"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # metric | composite
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(32), default="INSUFFICIENT_DATA")
    state_reason: Mapped[str] = mapped_column(Text, default="Unchecked: Initial alarm creation")
    state_reason_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state_updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    memory: Mapped[dict[str, Any]] = mapped_column(default=dict)  # composite suppressor memory
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlarmHistory(Base):
    """One state transition of an alarm, with the human and machine-readable reason."""

    __tablename__ = "alarm_history"
    __table_args__ = (Index("ix_alarm_history_alarm_time", "alarm_name", "time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_name: Mapped[str] = mapped_column(String(NAME))
    time: Mapped[datetime]
    old_state: Mapped[str] = mapped_column(String(32))
    new_state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    reason_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)
