"""Suggested model-quality constraints (``constraints.json``) from a baseline's metrics."""

from __future__ import annotations

import math
from collections.abc import Iterable

from vigil.checks.model_quality.keys import BCC, ERROR_METRICS
from vigil.checks.model_quality.result import ModelQualityResult
from vigil.errors import ConfigError
from vigil.formats.model_quality import (
    CONSTRAINTS_KEY,
    MetricConstraint,
    MetricValue,
    ModelQualityConstraints,
    ModelQualityStatistics,
    as_float,
)

__all__ = ["suggest_model_quality_constraints"]


def suggest_model_quality_constraints(
    stats: ModelQualityStatistics | ModelQualityResult,
    tolerance: float = 0.05,
    metrics: Iterable[str] | None = None,
    *,
    std_multiplier: float = 0.0,
) -> ModelQualityConstraints:
    """Suggested constraints from a baseline's metrics, with a relative ``tolerance``.

    Error-like metrics (``mae``, ``mse``, ``rmse``, ``false_positive_rate``,
    ``false_negative_rate``) get ``GreaterThanThreshold`` at ``value + tolerance * |value|``;
    the others ``LessThanThreshold`` at ``value - tolerance * |value|``. ``tolerance=0`` is
    SageMaker's own suggestion (threshold = baseline value), which fires on noise. With
    ``std_multiplier=k`` the margin is at least ``k`` times the metric's subsample standard
    deviation (when it has one), so a window that differs only by sampling noise passes. By default
    every scalar metric except the ``*_best_constant_classifier`` figures (a property of the
    labels, not of the model) is constrained; ``metrics`` names the ones to constrain. A
    metric whose value is NaN gets no constraint.

    >>> from vigil.checks.model_quality import compute_metrics
    >>> r = compute_metrics("Regression", [1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    >>> c = suggest_model_quality_constraints(r, tolerance=0.1, metrics=["mae", "r2"])
    >>> {k: (v.threshold, v.comparison_operator) for k, v in c.constraints.items()}
    {'mae': (0.36666666666666664, 'GreaterThanThreshold'), 'r2': (0.45, 'LessThanThreshold')}
    """
    if not (isinstance(tolerance, (int, float)) and 0 <= tolerance < math.inf):
        raise ConfigError(f"tolerance {tolerance!r} is not valid; expected a number >= 0")
    if isinstance(stats, ModelQualityResult):
        stats = stats.to_statistics()
    if not (isinstance(std_multiplier, (int, float)) and 0 <= std_multiplier < math.inf):
        raise ConfigError(f"std_multiplier {std_multiplier!r} is not valid; expected a number >= 0")
    values = stats.metric_values()
    stds = {k: as_float(v.standard_deviation) for k, v in stats.metrics.items()
            if isinstance(v, MetricValue)}
    wanted = list(metrics) if metrics is not None else [k for k in values if not k.endswith(BCC)]
    unknown = [k for k in wanted if k not in values]
    if unknown:
        raise ConfigError(
            f"metric(s) {', '.join(unknown)} not in the {stats.problem_type} statistics; "
            f"expected some of {', '.join(values)}"
        )
    section: dict[str, MetricConstraint] = {}
    for key in wanted:
        value = values[key]
        if not math.isfinite(value):
            continue
        margin = tolerance * abs(value)
        if std_multiplier and math.isfinite(stds[key]):
            margin = max(margin, std_multiplier * stds[key])
        if key in ERROR_METRICS:
            section[key] = MetricConstraint(threshold=value + margin,
                                            comparison_operator="GreaterThanThreshold")
        else:
            section[key] = MetricConstraint(threshold=value - margin,
                                            comparison_operator="LessThanThreshold")
    return ModelQualityConstraints.model_validate(
        {"version": 0.0, CONSTRAINTS_KEY[stats.problem_type]: section}
    )
