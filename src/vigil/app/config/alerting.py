"""The specs of alerting and actions: topics with their subscriptions and grouping, and the
alarms, workflows and rules (validated by their own runtime models)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, JsonValue

from vigil.actions.spec import Rule, Workflow
from vigil.alerts.alarms import CompositeAlarm, MetricAlarm
from vigil.app.config.base import Name, SpecModel
from vigil.events.severity import Severity


class SubscriptionSpec(SpecModel):
    """One subscriber of a topic (protocol email, webhook, slack, pagerduty, alertmanager,
    sms, teams or chat); ``min_severity`` keeps the notifications at least that urgent."""

    id: Name
    protocol: Literal[
        "email", "webhook", "slack", "pagerduty", "alertmanager", "sms", "teams", "chat"
    ]
    config: dict[str, JsonValue] = {}
    filter_policy: dict[str, JsonValue] | None = None
    retry: dict[str, JsonValue] | None = None
    min_severity: Severity | None = None


class GroupingSpec(SpecModel):
    """Alertmanager's grouping for a topic: alarms with equal ``group_by`` labels (``alarm``,
    ``state`` or an alarm dimension) form one notification, sent ``group_wait`` seconds after
    the group appears, at most every ``group_interval`` while it changes, and every
    ``repeat_interval`` while it still fires unchanged."""

    group_by: list[str] = ["alarm"]
    group_wait: float = Field(default=5.0, ge=0)  # a page within seconds, not 30 s
    group_interval: float = Field(default=300.0, ge=0)
    repeat_interval: float | None = Field(default=14400.0, gt=0)
    send_resolved: bool = True
    inhibit_rules: list[dict[str, list[str]]] = []  # {source: [...], target: [...], equal: [...]}


class TopicSpec(SpecModel):
    """A topic, its subscriptions and (optionally) its grouping of notifications."""

    name: Name
    grouping: GroupingSpec | None = None
    subscriptions: list[SubscriptionSpec] = []


def _alarm(value: Any) -> Any:
    if isinstance(value, (MetricAlarm, CompositeAlarm)):
        return value
    model = CompositeAlarm if isinstance(value, dict) and "alarm_rule" in value else MetricAlarm
    return model.model_validate(value)


def _rule(value: Any) -> Any:
    return value if isinstance(value, Rule) else Rule.model_validate(value)


def _workflow(value: Any) -> Any:
    return value if isinstance(value, Workflow) else Workflow.model_validate(value)


AlarmItem = Annotated[Any, BeforeValidator(_alarm)]
RuleItem = Annotated[Any, BeforeValidator(_rule)]
WorkflowItem = Annotated[Any, BeforeValidator(_workflow)]
