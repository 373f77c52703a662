"""Alarm definitions: :class:`MetricAlarm` and :class:`CompositeAlarm` (CloudWatch's fields).

Field names are CloudWatch's in snake case. Validation errors name the field:

>>> alarm = MetricAlarm(name="drift", namespace="vigil", metric_name="feature_drift",
...                     statistic="Maximum", period=300, evaluation_periods=3, threshold=0.1,
...                     comparison_operator="GreaterThanThreshold")
>>> alarm.datapoints_to_alarm, alarm.treat_missing_data, alarm.severity
(3, 'missing', 'warning')
>>> MetricAlarm.parse({"name": "x", "namespace": "n", "metric_name": "m", "statistic": "Mean",
...                    "period": 60, "evaluation_periods": 1, "threshold": 1,
...                    "comparison_operator": "GreaterThanThreshold"})
Traceback (most recent call last):
...
vigil.errors.ConfigError: [config_error] alarm 'x': statistic: expected SampleCount, Sum, \
Average, Minimum, Maximum or a percentile pNN (p99, p99.9), got 'Mean'
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vigil.alerts.alarms.rule import parse_rule
from vigil.alerts.alarms.states import ALARM, INSUFFICIENT_DATA, OK, STATES
from vigil.errors import ConfigError
from vigil.events.severity import DEFAULT_SEVERITY, Severity

__all__ = [
    "ALARM",
    "BAND_OPERATORS",
    "BASIC_STATISTICS",
    "INSUFFICIENT_DATA",
    "MAX_RANGE",
    "MAX_RANGE_SHORT",
    "OK",
    "STATES",
    "THRESHOLD_OPERATORS",
    "ComparisonOperator",
    "CompositeAlarm",
    "MetricAlarm",
    "State",
    "TreatMissingData",
    "percentile_of",
]
State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]

BASIC_STATISTICS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")
THRESHOLD_OPERATORS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
BAND_OPERATORS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
ComparisonOperator = Literal[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
]
TreatMissingData = Literal["missing", "notBreaching", "breaching", "ignore"]
_PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d{1,2})?|100)")
_NAME = Field(min_length=1, max_length=255)
#: CloudWatch's PutMetricAlarm bounds: period x evaluation_periods at most one day for a
#: period under an hour, at most seven days otherwise
MAX_RANGE_SHORT = 86_400
MAX_RANGE = 604_800


def percentile_of(statistic: str) -> float | None:
    """The percentile (0-100) of a ``pNN`` statistic, ``None`` for a basic one.

    >>> percentile_of("p99.9"), percentile_of("Average")
    (99.9, None)
    """
    match = _PERCENTILE.fullmatch(statistic)
    return float(match.group(1)) if match else None


def _name_error(owner: str, exc: ValidationError) -> ConfigError:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "alarm"
        message = re.sub(r"^\[\w+\] ", "", err["msg"].removeprefix("Value error, "))
        parts.append(f"{where}: {message}")
    return ConfigError(f"alarm {owner!r}: " + "; ".join(parts))


class _Alarm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = _NAME
    description: str = Field(default="", max_length=1024)
    actions_enabled: bool = True
    alarm_actions: list[str] = Field(default_factory=list)
    ok_actions: list[str] = Field(default_factory=list)
    insufficient_data_actions: list[str] = Field(default_factory=list)
    #: how urgent its notifications are (critical, high, warning, info): the subject's
    #: prefix, the ``severity`` attribute subscriptions route by (:mod:`vigil.events.severity`)
    severity: Severity = DEFAULT_SEVERITY

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Any:
        """Validate ``data``; a :class:`~vigil.errors.ConfigError` naming each bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _name_error(str(data.get("name", "?")), exc) from None

    def actions_for(self, state: str) -> list[str]:
        """The actions configured for a transition into ``state``."""
        return {
            ALARM: self.alarm_actions,
            OK: self.ok_actions,
            INSUFFICIENT_DATA: self.insufficient_data_actions,
        }[state]


class MetricAlarm(_Alarm):
    """An alarm over one metric, with CloudWatch's semantics (see :mod:`.evaluate`)."""

    namespace: str = _NAME
    metric_name: str = _NAME
    dimensions: dict[str, str] = Field(default_factory=dict)
    statistic: str
    period: int
    evaluation_periods: int = Field(ge=1)
    datapoints_to_alarm: int | None = Field(default=None, ge=1)
    threshold: float | None = None
    comparison_operator: ComparisonOperator
    treat_missing_data: TreatMissingData = "missing"
    evaluate_low_sample_count_percentile: Literal["evaluate", "ignore"] = "evaluate"
    band_width: float = Field(default=2.0, gt=0)
    band_history_days: int = Field(default=14, ge=1)

    @field_validator("statistic")
    @classmethod
    def _statistic(cls, value: str) -> str:
        if value in BASIC_STATISTICS or percentile_of(value) is not None:
            return value
        raise ValueError(
            "expected SampleCount, Sum, Average, Minimum, Maximum or a percentile pNN "
            f"(p99, p99.9), got {value!r}"
        )

    @field_validator("period")
    @classmethod
    def _period(cls, value: int) -> int:
        if value in (10, 20, 30) or (value > 0 and value % 60 == 0):
            return value
        raise ValueError(f"expected 10, 20, 30 or a multiple of 60 seconds, got {value}")

    @field_validator("threshold", "band_width")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MetricAlarm:
        total = self.period * self.evaluation_periods
        limit = MAX_RANGE_SHORT if self.period < 3600 else MAX_RANGE
        if total > limit:
            raise ValueError(
                f"period x evaluation_periods: {self.period} x {self.evaluation_periods} = "
                f"{total} s is more than {limit} s (CloudWatch's bound: one day for periods "
                "under an hour, seven days otherwise)"
            )
        if self.datapoints_to_alarm is None:
            object.__setattr__(self, "datapoints_to_alarm", self.evaluation_periods)
        elif self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(
                f"datapoints_to_alarm: {self.datapoints_to_alarm} is more than "
                f"evaluation_periods ({self.evaluation_periods})"
            )
        if self.comparison_operator in THRESHOLD_OPERATORS and self.threshold is None:
            raise ValueError(f"threshold: required with {self.comparison_operator}")
        return self

    @property
    def m(self) -> int:
        """``datapoints_to_alarm`` (M), never ``None`` once validated."""
        return self.datapoints_to_alarm or self.evaluation_periods

    @property
    def uses_band(self) -> bool:
        """True when the operator compares against an anomaly band."""
        return self.comparison_operator in BAND_OPERATORS


class CompositeAlarm(_Alarm):
    """An alarm over other alarms' states (rule language in :mod:`.composite`)."""

    alarm_rule: str = Field(min_length=1, max_length=10240)
    actions_suppressor: str | None = None
    actions_suppressor_wait_period: int | None = Field(default=None, ge=0)
    actions_suppressor_extension_period: int | None = Field(default=None, ge=0)

    @field_validator("alarm_rule")
    @classmethod
    def _rule(cls, value: str) -> str:
        parse_rule(value)  # raises RuleSyntaxError (a ValueError) naming the position
        return value

    @model_validator(mode="after")
    def _suppressor(self) -> CompositeAlarm:
        periods = (self.actions_suppressor_wait_period, self.actions_suppressor_extension_period)
        if self.actions_suppressor is None and any(p is not None for p in periods):
            raise ValueError("actions_suppressor: required with a wait or extension period")
        if self.actions_suppressor is not None and any(p is None for p in periods):
            raise ValueError(
                "actions_suppressor_wait_period, actions_suppressor_extension_period: "
                "required with actions_suppressor"
            )
        return self
