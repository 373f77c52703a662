"""Stored alarms: definitions, current state and history (on the shared declarative base)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models import NAME, Base


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


class TopicRecord(Base):
    """A named channel of notifications."""

    __tablename__ = "topics"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    grouping: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # Alertmanager-style timers
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationGroup(Base):
    """The durable state of one notification group of a topic (alarms with equal
    ``group_by`` labels): its members' states and when it was last notified."""

    __tablename__ = "notification_groups"

    topic: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    members: Mapped[dict[str, Any]] = mapped_column(default=dict)  # alarm -> {state, reason}
    sent_firing: Mapped[list[str]] = mapped_column(JSON, default=list)
    changed: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    last_sent_at: Mapped[datetime | None]


class SubscriptionRecord(Base):
    """One subscriber of a topic: a protocol, its configuration, filter and retry policy."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    topic: Mapped[str] = mapped_column(String(NAME), index=True)
    protocol: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    filter_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    retry: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SilenceRecord(Base):
    """Mutes notifications of matching alarms between ``starts_at`` and ``ends_at``."""

    __tablename__ = "silences"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    matchers: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. ['alarm=~"drift.*"']
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(NAME), default="")


class NotifiedState(Base):
    """The last state of an alarm that was notified to a topic (a resolve is owed after it)."""

    __tablename__ = "notified_states"

    alarm: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    topic: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
