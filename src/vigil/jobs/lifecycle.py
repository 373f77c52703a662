"""A training job's status lifecycle and its "SageMaker Training Job State Change" detail.

``InProgress`` → ``Completed`` | ``Failed`` (with a ``FailureReason``) | ``Stopped``, with
``Stopping`` in between when the job is stopped from outside. A terminal status is final.
MLflow's run statuses map onto these (``RUNNING``→InProgress, ``FINISHED``→Completed,
``FAILED``→Failed, ``KILLED``→Stopped).

>>> check_transition("InProgress", "Stopping"); check_transition("Stopping", "Stopped")
>>> check_transition("Completed", "Failed")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
vigil.jobs.lifecycle.JobStatusError: [job_status] training job status: Completed is final, ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from vigil.errors import InputError

__all__ = [
    "MLFLOW_TO_STATUS",
    "STATUSES",
    "STATUS_TO_MLFLOW",
    "TERMINAL",
    "JobStatus",
    "JobStatusError",
    "check_transition",
    "epoch_ms",
    "secondary_status",
    "state_change_detail",
]


class JobStatus(str, Enum):
    """SageMaker's ``TrainingJobStatus`` values."""

    IN_PROGRESS = "InProgress"
    STOPPING = "Stopping"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPED = "Stopped"


STATUSES = tuple(s.value for s in JobStatus)
TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
_NEXT = {
    "InProgress": frozenset({"Stopping", "Completed", "Failed", "Stopped"}),
    "Stopping": frozenset({"Stopped", "Completed", "Failed"}),
}
MLFLOW_TO_STATUS = {
    "RUNNING": "InProgress",
    "SCHEDULED": "InProgress",
    "FINISHED": "Completed",
    "FAILED": "Failed",
    "KILLED": "Stopped",
}
STATUS_TO_MLFLOW = {
    "InProgress": "RUNNING",
    "Stopping": "RUNNING",
    "Completed": "FINISHED",
    "Failed": "FAILED",
    "Stopped": "KILLED",
}
ARN_PREFIX = "arn:vigil:sagemaker:local:000000000000:training-job/"


class JobStatusError(InputError):
    """A status that is not one of the five, or a change the lifecycle does not allow."""

    code = "job_status"


def check_transition(current: str, new: str) -> None:
    """Raise :class:`JobStatusError` unless a job in ``current`` may move to ``new``."""
    if new not in STATUSES:
        raise JobStatusError(f"training job status: expected one of {list(STATUSES)}, got {new!r}")
    if current in TERMINAL:
        raise JobStatusError(f"training job status: {current} is final, cannot become {new}")
    if new not in _NEXT.get(current, frozenset()):
        raise JobStatusError(f"training job status: {current} cannot become {new}")


def secondary_status(status: str, reason: str | None = None) -> str:
    """The ``SecondaryStatus`` that goes with ``status`` (``Training`` while in progress;
    a stop for exceeding the run time is ``MaxRuntimeExceeded``).

    >>> secondary_status("InProgress"), secondary_status("Stopped", "MaxRuntimeExceeded")
    ('Training', 'MaxRuntimeExceeded')
    """
    if status == "InProgress":
        return "Training"
    if status == "Stopped" and reason in ("MaxRuntimeExceeded", "MaxWaitTimeExceeded"):
        return reason
    return status


def epoch_ms(value: datetime | None) -> str | None:
    """A time as SageMaker's training events write it: epoch milliseconds, as a string.

    >>> epoch_ms(datetime(2020, 3, 10, 9, 18, 9, 50000, tzinfo=timezone.utc))
    '1583831889050'
    """
    if value is None:
        return None
    return str(round(value.astimezone(timezone.utc).timestamp() * 1000))


def state_change_detail(
    *,
    name: str,
    status: str,
    secondary: str,
    created: datetime,
    started: datetime | None,
    ended: datetime | None,
    modified: datetime,
    hyperparameters: Mapping[str, Any],
    tags: Mapping[str, Any],
    failure_reason: str | None = None,
    transitions: Sequence[Mapping[str, Any]] = (),
    final_metrics: Sequence[Mapping[str, Any]] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``detail`` of a "SageMaker Training Job State Change" event for a job: its name,
    ARN, status and secondary status, ``FailureReason`` (Failed only), ``HyperParameters``
    and ``Tags`` as str→str maps, times as epoch-ms strings, ``SecondaryStatusTransitions``
    and, once final, ``FinalMetricDataList``; Vigil's own keys (run id, exit code, CPU...) in
    ``extra`` go under ``Vigil``.

    >>> t = datetime(2024, 5, 1, tzinfo=timezone.utc)
    >>> d = state_change_detail(name="churn", status="Failed", secondary="Failed", created=t,
    ...     started=t, ended=t, modified=t, hyperparameters={"lr": 0.1}, tags={},
    ...     failure_reason="ValueError: boom")
    >>> d["TrainingJobStatus"], d["FailureReason"], d["HyperParameters"], d["TrainingEndTime"]
    ('Failed', 'ValueError: boom', {'lr': '0.1'}, '1714521600000')
    """
    detail: dict[str, Any] = {
        "TrainingJobName": name,
        "TrainingJobArn": ARN_PREFIX + name,
        "TrainingJobStatus": status,
        "SecondaryStatus": secondary,
        "HyperParameters": {str(k): _text(v) for k, v in hyperparameters.items()},
        "Tags": {str(k): _text(v) for k, v in tags.items()},
        "CreationTime": epoch_ms(created),
        "LastModifiedTime": epoch_ms(modified),
        "SecondaryStatusTransitions": [dict(t) for t in transitions],
    }
    if started is not None:
        detail["TrainingStartTime"] = epoch_ms(started)
    if ended is not None:
        detail["TrainingEndTime"] = epoch_ms(ended)
    if status == "Failed":
        detail["FailureReason"] = failure_reason or "unknown"
    if final_metrics:
        detail["FinalMetricDataList"] = [dict(m) for m in final_metrics]
    if extra:
        detail["Vigil"] = dict(extra)
    return detail


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
