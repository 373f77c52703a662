"""Notification delivery: messages, channels, retry policies and the durable outbox.

SNS semantics (``reference/alerting.md`` §3): at-least-once delivery of messages with a
stable id, per-subscription filter policies and retry policies, and a dead-letter store
with redrive. Channels: email (SMTP), signed webhooks, Slack, PagerDuty Events v2 and
Prometheus Alertmanager, SMS (Twilio's Messages API), Microsoft Teams and generic chat
webhooks.

>>> from vigil.alerts import delivery
>>> sorted(delivery.default_channels())
['alertmanager', 'chat', 'email', 'pagerduty', 'slack', 'sms', 'teams', 'webhook']
"""

from __future__ import annotations

from vigil.alerts.delivery.alertmanager import AlertmanagerChannel, alertmanager_alerts
from vigil.alerts.delivery.base import Channel, DeliveryResult, HttpChannel, classify_status
from vigil.alerts.delivery.chat import ChatChannel, chat_body
from vigil.alerts.delivery.message import Message, filter_matches
from vigil.alerts.delivery.outbox import DeliveryCounts, Outbox
from vigil.alerts.delivery.pagerduty import EVENTS_URL, PagerDutyChannel, pagerduty_event
from vigil.alerts.delivery.retry import (
    EMAIL_DEFAULT,
    HTTP_DEFAULT,
    RetryPolicy,
    default_policy,
)
from vigil.alerts.delivery.slack import SlackChannel, slack_body
from vigil.alerts.delivery.sms import SmsChannel, sms_body, sms_form
from vigil.alerts.delivery.smtp import EmailChannel, build_email
from vigil.alerts.delivery.sql import SQLOutboxStore
from vigil.alerts.delivery.store import MemoryOutboxStore, OutboxRecord, OutboxStore
from vigil.alerts.delivery.subscription import (
    PROTOCOLS,
    SECRETS_BY_PROTOCOL,
    Subscription,
    SubscriptionTakenError,
    secret_fields,
)
from vigil.alerts.delivery.teams import TeamsChannel, teams_body
from vigil.alerts.delivery.webhook import WebhookChannel, sign, verify_signature


def default_channels() -> dict[str, Channel]:
    """One channel per protocol, the HTTP ones sharing nothing (each has its own client)."""
    return {
        "email": EmailChannel(),
        "webhook": WebhookChannel(),
        "slack": SlackChannel(),
        "pagerduty": PagerDutyChannel(),
        "alertmanager": AlertmanagerChannel(),
        "sms": SmsChannel(),
        "teams": TeamsChannel(),
        "chat": ChatChannel(),
    }


__all__ = [
    "EMAIL_DEFAULT",
    "EVENTS_URL",
    "HTTP_DEFAULT",
    "PROTOCOLS",
    "SECRETS_BY_PROTOCOL",
    "AlertmanagerChannel",
    "Channel",
    "ChatChannel",
    "DeliveryCounts",
    "DeliveryResult",
    "EmailChannel",
    "HttpChannel",
    "MemoryOutboxStore",
    "Message",
    "Outbox",
    "OutboxRecord",
    "OutboxStore",
    "PagerDutyChannel",
    "RetryPolicy",
    "SQLOutboxStore",
    "SlackChannel",
    "SmsChannel",
    "Subscription",
    "SubscriptionTakenError",
    "TeamsChannel",
    "WebhookChannel",
    "alertmanager_alerts",
    "build_email",
    "chat_body",
    "classify_status",
    "default_channels",
    "default_policy",
    "filter_matches",
    "pagerduty_event",
    "secret_fields",
    "sign",
    "slack_body",
    "sms_body",
    "sms_form",
    "teams_body",
    "verify_signature",
]
