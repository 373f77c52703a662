"""Training jobs, the pure part: SageMaker metric definitions applied to log lines, the status
lifecycle (InProgress, Stopping, Completed, Failed, Stopped) and the shape of a "SageMaker
Training Job State Change" detail. Nothing here touches a database or the network."""

from vigil.jobs.definitions import (
    DefinitionCounts,
    LogMetricParser,
    MetricDefinition,
    MetricDefinitionError,
    parse_definition,
    parse_float,
)
from vigil.jobs.lifecycle import (
    MLFLOW_TO_STATUS,
    STATUS_TO_MLFLOW,
    STATUSES,
    TERMINAL,
    JobStatus,
    JobStatusError,
    check_transition,
    epoch_ms,
    secondary_status,
    state_change_detail,
)

__all__ = [
    "MLFLOW_TO_STATUS",
    "STATUSES",
    "STATUS_TO_MLFLOW",
    "TERMINAL",
    "DefinitionCounts",
    "JobStatus",
    "JobStatusError",
    "LogMetricParser",
    "MetricDefinition",
    "MetricDefinitionError",
    "check_transition",
    "epoch_ms",
    "parse_definition",
    "parse_float",
    "secondary_status",
    "state_change_detail",
]
