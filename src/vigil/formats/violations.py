"""``constraint_violations.json`` (SageMaker's shape)."""

from __future__ import annotations

from typing import Literal

from vigil.formats._base import Artifact

CheckType = Literal[
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
    "is_non_negative_check",
    "LessThanThreshold",
    "GreaterThanThreshold",
    "LessThanOrEqualToThreshold",
    "GreaterThanOrEqualToThreshold",
    "bias_drift_check",
    "feature_attribution_drift_check",
    "anomaly_check",
]


class Violation(Artifact):
    feature_name: str | None = None
    metric_name: str | None = None
    constraint_check_type: str
    description: str


class ConstraintViolations(Artifact):
    """A whole ``constraint_violations.json``."""

    violations: list[Violation] = []
