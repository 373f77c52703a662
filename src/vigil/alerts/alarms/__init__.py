"""Metric and composite alarms with CloudWatch's semantics, as pure computation.

``spec`` holds the alarm definitions, ``evaluate`` the metric-alarm evaluator (the exact
missing-data rule is in its docstring), ``composite`` the rule language and the actions
suppressor, ``anomaly`` the band model and ``batch`` the evaluation of many alarms at once.
"""

from __future__ import annotations

from vigil.alerts.alarms.anomaly import SeasonalBand
from vigil.alerts.alarms.batch import evaluate_many
from vigil.alerts.alarms.composite import (
    CompositeEvaluation,
    RuleSyntaxError,
    SuppressorMemory,
    evaluate_composite,
    parse_rule,
)
from vigil.alerts.alarms.evaluate import (
    Evaluation,
    evaluate_metric_alarm,
    evaluation_range,
    fetch_and_evaluate,
    low_sample_minimum,
)
from vigil.alerts.alarms.spec import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    STATES,
    CompositeAlarm,
    MetricAlarm,
)

__all__ = [
    "ALARM",
    "INSUFFICIENT_DATA",
    "OK",
    "STATES",
    "CompositeAlarm",
    "CompositeEvaluation",
    "Evaluation",
    "MetricAlarm",
    "RuleSyntaxError",
    "SeasonalBand",
    "SuppressorMemory",
    "evaluate_composite",
    "evaluate_many",
    "evaluate_metric_alarm",
    "evaluation_range",
    "fetch_and_evaluate",
    "low_sample_minimum",
    "parse_rule",
]
