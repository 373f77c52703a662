"""Response bodies of alarms, metrics, topics, subscriptions, dead letters and silences."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = [
    "AlarmHistoryOut", "AlarmList", "AlarmOut", "DeadLetterList", "EvaluationOut",
    "MetricList", "MetricQueryOut", "PutMetricsOut", "RedriveOut", "SilenceList", "SilenceOut",
    "SubscriptionList", "SubscriptionOut", "TopicList", "TopicOut",
]  # fmt: skip


class AlarmOut(BaseModel):
    """An alarm: its definition and its current state with the reason."""

    name: str
    kind: str
    definition: dict[str, Any]
    state: str
    state_reason: str
    state_reason_data: dict[str, Any]
    state_updated_at: str | None


class AlarmList(BaseModel):
    alarms: list[AlarmOut]


class HistoryEntry(BaseModel):
    time: str
    old_state: str
    new_state: str
    reason: str
    reason_data: dict[str, Any]
    actions: list[str]


class AlarmHistoryOut(BaseModel):
    history: list[HistoryEntry]


class TransitionOut(BaseModel):
    alarm: str
    old_state: str
    new_state: str
    reason: str
    actions: list[str]
    time: str


class EvaluationOut(BaseModel):
    """An evaluation: recorded and notified, or (``preview``, with ``?at=``) what the states
    would be then, changing nothing (with the alarms that cannot be evaluated)."""

    at: str
    preview: bool
    transitions: list[TransitionOut]
    states: dict[str, str] | None = None
    errors: dict[str, str] | None = None


class PutMetricsOut(BaseModel):
    stored: int


class MetricQueryOut(BaseModel):
    namespace: str
    name: str
    period: int
    datapoints: list[dict[str, Any]]


class MetricOut(BaseModel):
    namespace: str
    name: str
    dimensions: dict[str, str]


class MetricList(BaseModel):
    metrics: list[MetricOut]


class TopicOut(BaseModel):
    name: str
    subscriptions: list[str] | None = None


class TopicList(BaseModel):
    topics: list[str]


class SubscriptionOut(BaseModel):
    """A subscription, its secrets redacted."""

    id: str
    topic: str
    protocol: str
    config: dict[str, Any]
    filter_policy: dict[str, Any] | None = None
    min_severity: str | None = None


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionOut]


class DeadLetter(BaseModel):
    id: int
    subscription: str
    message_id: str
    attempts: int
    last_error: str | None


class DeadLetterList(BaseModel):
    dead_letters: list[DeadLetter]


class RedriveOut(BaseModel):
    redriven: int


class SilenceOut(BaseModel):
    id: str
    matchers: list[str]
    starts_at: str
    ends_at: str
    comment: str = ""


class SilenceList(BaseModel):
    silences: list[SilenceOut]
