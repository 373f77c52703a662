"""Topics and subscriptions, and the bridge from alarm transitions to the delivery outbox.

An alarm's actions name topics (``alarm_actions: [team]``). Each transition becomes one
:class:`~vigil.alerts.delivery.Message` per topic: subject ``ALARM: "name" ...`` as SNS
writes it, the reason as body, attributes ``alarm``, ``state`` and ``previous_state`` (for
filter policies) and a payload with ``status`` firing or resolved, so PagerDuty resolves its
incident and Alertmanager ends its alert. The outbox then delivers at least once. An alarm
going to ``INSUFFICIENT_DATA`` only notifies the topics of its ``insufficient_data_actions``,
so a no-data alarm never pages anyone unless asked to.

The modules, one concern each: :mod:`~vigil.alerts.notify.topics` (topics, subscriptions,
the outbox), :mod:`~vigil.alerts.notify.silences`, :mod:`~vigil.alerts.notify.inhibition`,
:mod:`~vigil.alerts.notify.flapping`, :mod:`~vigil.alerts.notify.grouping` (Alertmanager's
groups and timers), :mod:`~vigil.alerts.notify.labels` (what matchers match) and
:mod:`~vigil.alerts.notify.transitions` (the bridge) and :mod:`~vigil.alerts.notify.publish`
(notifications of events, with a severity), :mod:`~vigil.alerts.notify.context` (links, a
summary and what changed, that the application hands in) and
:mod:`~vigil.alerts.notify.summary` (the readable line on a finding).
"""

from __future__ import annotations

from vigil.alerts.notify.context import with_context
from vigil.alerts.notify.flapping import FLAP_TRANSITIONS, FLAP_WINDOW
from vigil.alerts.notify.grouping import flush_groups
from vigil.alerts.notify.publish import event_message, publish, topic_publisher
from vigil.alerts.notify.silences import active_silences, add_silence
from vigil.alerts.notify.summary import execution_summary, feature_drifts, metric_summary
from vigil.alerts.notify.topics import (
    make_outbox,
    put_topic,
    subscribe,
    subscriptions_of,
    topics,
)
from vigil.alerts.notify.transitions import (
    SEVERITY,
    SILENCED,
    message_for,
    notify_transitions,
    repush_firing,
)

__all__ = [
    "FLAP_TRANSITIONS",
    "FLAP_WINDOW",
    "SEVERITY",
    "SILENCED",
    "active_silences",
    "add_silence",
    "event_message",
    "execution_summary",
    "feature_drifts",
    "flush_groups",
    "make_outbox",
    "message_for",
    "metric_summary",
    "notify_transitions",
    "publish",
    "put_topic",
    "repush_firing",
    "subscribe",
    "subscriptions_of",
    "topic_publisher",
    "topics",
    "with_context",
]
