"""The alarms a monitoring schedule gets by default (``config.default_alarms: false`` turns
them off; ``config.default_alarm_actions`` names the topics or actions they notify).

- ``{schedule}-violations``: an execution ended ``CompletedWithViolations``;
- ``{schedule}-failed``: an execution ``Failed``;
- ``{schedule}-drift`` (data quality): a feature's drift passed its threshold (the count of
  drifted features, :data:`~vigil.metrics.contract.DRIFTED_FEATURES`, > 0);
- ``{schedule}-quality`` (model quality): a metric passed its constraint
  (:data:`~vigil.metrics.contract.CONSTRAINT_VIOLATIONS` > 0);
- ``{schedule}-bias`` (bias drift): a bias metric was worse than the baseline's
  (:data:`~vigil.metrics.contract.BIAS_VIOLATIONS` > 0);
- ``{schedule}-attribution`` (feature attribution drift): a label's attributions drifted
  (:data:`~vigil.metrics.contract.ATTRIBUTION_VIOLATIONS` > 0).

Severities (:mod:`vigil.events.severity`): ``-failed`` is ``high`` (a monitor that does not
run watches nothing), the others ``warning``.

Each reads a figure the monitoring jobs write, by the names, namespaces and dimensions of
:mod:`vigil.metrics.contract`.

Each evaluates the schedule's own period once. Missing data is ignored (the alarm keeps its
state): a new alarm stays ``INSUFFICIENT_DATA`` until its first execution, says nothing before
it, and a period whose execution has not run (or failed, which writes no drift, violation or
quality figure) neither pages nor reports OK. The figures are stamped at their window's start,
so the execution that ends a window is evaluated in that window's period at once.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.alarms.spec import MAX_RANGE
from vigil.alerts.service import put_alarm
from vigil.metrics import contract as mc
from vigil.schedule import parse_schedule
from vigil.store.db import Database
from vigil.store.models import AlarmRecord, ExecutionStatus

DEFAULT_PREFIX = "default alarm of schedule "
#: the figure of a monitor type's own default alarm: suffix, namespace, metric, statistic
_OWN_FIGURE: dict[str, tuple[str, str, str, str]] = {
    "DataQuality": ("drift", mc.DATA_QUALITY_NAMESPACE, mc.DRIFTED_FEATURES, "Maximum"),
    "ModelQuality": ("quality", mc.MODEL_QUALITY_NAMESPACE, mc.CONSTRAINT_VIOLATIONS, "Maximum"),
    "ModelBias": ("bias", mc.BIAS_NAMESPACE, mc.BIAS_VIOLATIONS, "Maximum"),
    "ModelExplainability": (
        "attribution",
        mc.EXPLAINABILITY_NAMESPACE,
        mc.ATTRIBUTION_VIOLATIONS,
        "Maximum",
    ),
}


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
    period = min(max(60, math.ceil(seconds / 60.0) * 60), MAX_RANGE)  # CloudWatch's bound
    # a ScheduleSpec names its endpoint in ``endpoint``; a Schedule row in ``endpoint_name``
    # (its ``endpoint`` is the related row)
    endpoint = getattr(schedule, "endpoint", None)
    if not isinstance(endpoint, str):
        endpoint = getattr(schedule, "endpoint_name", "") or ""
    dims = mc.schedule_dimensions(endpoint, schedule.name)
    actions = [str(a) for a in config.get("default_alarm_actions", [])]
    monitor_type = getattr(schedule, "monitor_type", "DataQuality")
    own = _OWN_FIGURE.get(monitor_type, _OWN_FIGURE["DataQuality"])
    wanted = [
        (
            "violations",
            mc.EXECUTIONS_NAMESPACE,
            mc.execution_status(ExecutionStatus.COMPLETED_WITH_VIOLATIONS.value),
            "Sum",
        ),
        (
            "failed",
            mc.EXECUTIONS_NAMESPACE,
            mc.execution_status(ExecutionStatus.FAILED.value),
            "Sum",
        ),
        own,
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
            treat_missing_data="ignore",
            alarm_actions=actions,
            ok_actions=actions,
            description=f"{DEFAULT_PREFIX}{schedule.name}",
            severity="high" if suffix == "failed" else "warning",  # a silent monitor is worse
        )
        for suffix, namespace, metric, statistic in wanted
    ]


def ensure_default_alarms(db: Database, schedule: Any) -> list[str]:
    """Create the schedule's default alarms that do not exist yet; the names created."""
    created = []
    for alarm in default_alarms(schedule):
        with db.session() as s:
            exists = s.get(AlarmRecord, alarm.name) is not None
        if not exists:
            put_alarm(db, alarm)
            created.append(alarm.name)
    return created
