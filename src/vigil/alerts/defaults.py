"""The alarms a monitoring schedule gets by default (``config.default_alarms: false`` turns
them off; ``config.default_alarm_actions`` names the topics or actions they notify).

- ``{schedule}-violations``: an execution ended ``CompletedWithViolations``;
- ``{schedule}-failed``: an execution ``Failed``;
- ``{schedule}-drift`` (data quality): a feature's drift passed its threshold
  (``drifted_features`` > 0, the count of ``feature_baseline_drift_*`` over threshold);
- ``{schedule}-quality`` (model quality): a metric passed its constraint.

Each evaluates the schedule's own period once (missing data is not breaching, so a schedule
that does not run never pages anyone through these alarms).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.service import put_alarm
from vigil.schedule import parse_schedule
from vigil.store.db import Database

DATA = "aws/sagemaker/Endpoints/data-metrics"
MODEL = "aws/sagemaker/Endpoints/model-metrics"
EXECUTIONS = "vigil/Executions"
DEFAULT_PREFIX = "default alarm of schedule "


def default_alarms(schedule: Any) -> list[MetricAlarm]:
    """The default alarms of a schedule (a Schedule row or a ScheduleSpec)."""
    config = dict(getattr(schedule, "config", None) or {})
    if config.get("default_alarms") is False:
        return []
    expression = parse_schedule(schedule.expression)
    if expression.is_one_time:
        return []
    # the gap between two consecutive runs, measured at a fire time (not at "now", which
    # would give the part of an hour that has passed)
    now = datetime.now(timezone.utc)
    seconds = expression.period(expression.next_after(now) or now).total_seconds()
    period = max(60, math.ceil(seconds / 60.0) * 60)
    endpoint = getattr(schedule, "endpoint", None) or getattr(schedule, "endpoint_name", "")
    dims = {"Endpoint": endpoint, "MonitoringSchedule": schedule.name}
    actions = [str(a) for a in config.get("default_alarm_actions", [])]
    model = getattr(schedule, "monitor_type", "DataQuality") == "ModelQuality"
    wanted = [
        ("violations", EXECUTIONS, "execution_status_CompletedWithViolations", "Sum"),
        ("failed", EXECUTIONS, "execution_status_Failed", "Sum"),
        ("quality", MODEL, "constraint_violations", "Maximum")
        if model
        else ("drift", DATA, "drifted_features", "Maximum"),
    ]
    return [
        MetricAlarm(
            name=f"{schedule.name}-{suffix}",
            namespace=namespace,
            metric_name=metric,
            dimensions=dims,
            statistic=statistic,
            period=period,
            evaluation_periods=1,
            threshold=0.0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            description=f"default alarm of schedule {schedule.name}",
        )
        for suffix, namespace, metric, statistic in wanted
    ]


def ensure_default_alarms(db: Database, schedule: Any) -> list[str]:
    """Create the schedule's default alarms that do not exist yet; the names created."""
    from vigil.store.models import AlarmRecord

    created = []
    for alarm in default_alarms(schedule):
        with db.session() as s:
            exists = s.get(AlarmRecord, alarm.name) is not None
        if not exists:
            put_alarm(db, alarm)
            created.append(alarm.name)
    return created
