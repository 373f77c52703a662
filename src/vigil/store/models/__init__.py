"""Every table of Vigil's metadata database, as SQLAlchemy 2 typed declarative models.

The storage floor owns the whole schema: importing this package registers every table on
:class:`Base`, so ``Database.create_all()`` creates them all, whichever floor asks. One module
per area: the catalog (endpoints, baselines, schedules), executions, API tokens, metrics,
events and detector states, alarms, notifications (topics, subscriptions, silences, groups,
the delivery outbox), actions (definitions, runs, step attempts) and training jobs
(experiments, runs, step-indexed curves).
"""

from vigil.store.models.actions import (
    ActionDefinition,
    ActionRun,
    AttemptStatus,
    DispatchedEvent,
    RunStatus,
    StepAttempt,
)
from vigil.store.models.alarms import AlarmHistory, AlarmRecord
from vigil.store.models.audit import AuditEntry
from vigil.store.models.base import NAME, Base
from vigil.store.models.catalog import BaselineRecord, Endpoint, Schedule
from vigil.store.models.events import DetectorState, Event
from vigil.store.models.executions import Execution, ExecutionStatus
from vigil.store.models.jobs import TrainingExperiment, TrainingJob, TrainingMetricPoint
from vigil.store.models.metrics import Datapoint, MetricSeries
from vigil.store.models.notifications import (
    STATUSES,
    NotificationGroup,
    NotifiedState,
    OutboxItem,
    SilenceRecord,
    SubscriptionRecord,
    TopicRecord,
)
from vigil.store.models.platform import PlatformSetting
from vigil.store.models.scrape import ScrapeConfigRecord
from vigil.store.models.tokens import ApiToken

__all__ = [
    "NAME",
    "STATUSES",
    "ActionDefinition",
    "ActionRun",
    "AlarmHistory",
    "AlarmRecord",
    "ApiToken",
    "AttemptStatus",
    "AuditEntry",
    "Base",
    "BaselineRecord",
    "Datapoint",
    "DetectorState",
    "DispatchedEvent",
    "Endpoint",
    "Event",
    "Execution",
    "ExecutionStatus",
    "MetricSeries",
    "NotificationGroup",
    "NotifiedState",
    "OutboxItem",
    "PlatformSetting",
    "RunStatus",
    "Schedule",
    "ScrapeConfigRecord",
    "SilenceRecord",
    "StepAttempt",
    "SubscriptionRecord",
    "TopicRecord",
    "TrainingExperiment",
    "TrainingJob",
    "TrainingMetricPoint",
]
