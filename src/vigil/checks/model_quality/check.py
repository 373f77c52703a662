"""Model-quality constraint checks, worded as SageMaker's violations."""

from __future__ import annotations

import logging
import math
import operator
from collections.abc import Callable, Mapping

from vigil.checks.model_quality.result import ModelQualityResult
from vigil.errors import BaselineMismatchError
from vigil.formats.jackson import java_double
from vigil.formats.model_quality import (
    CONSTRAINTS_KEY,
    MetricValue,
    ModelQualityConstraints,
    ModelQualityStatistics,
    as_float,
)
from vigil.formats.violations import Violation

__all__ = ["check_model_quality"]

log = logging.getLogger(__name__)

_OPS: dict[str, Callable[[float, float], bool]] = {
    "LessThanThreshold": operator.lt,
    "GreaterThanThreshold": operator.gt,
    "LessThanOrEqualToThreshold": operator.le,
    "GreaterThanOrEqualToThreshold": operator.ge,
}


def _fmt(x: float | str) -> str:
    return x if isinstance(x, str) else java_double(float(x))


def check_model_quality(
    statistics: ModelQualityStatistics | ModelQualityResult,
    constraints: ModelQualityConstraints,
    extra: Mapping[str, float] | None = None,
) -> list[Violation]:
    """Violations of model-quality constraints, worded as SageMaker's.

    A constraint fires when ``value <operator> threshold`` holds; a NaN value (or threshold)
    never fires, and a constrained metric absent from the statistics is logged and skipped.
    ``extra`` holds figures outside SageMaker's statistics (Vigil's ``conditional_entropy_*``,
    without a deviation) that constraints may name too.

    >>> from vigil.checks.model_quality import compute_metrics
    >>> r = compute_metrics("Regression", [1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    >>> c = ModelQualityConstraints.model_validate({"regression_constraints": {
    ...     "mae": {"threshold": 0.25, "comparison_operator": "GreaterThanThreshold"}}})
    >>> check_model_quality(r, c)[0].description
    "Metric mae with 0.3333333333333333 +/- NaN was GreaterThanThreshold '0.25'"
    """
    if isinstance(statistics, ModelQualityResult):
        statistics = statistics.to_statistics()
    if statistics.problem_type != constraints.problem_type:
        raise BaselineMismatchError(
            f"statistics are {statistics.problem_type} but the constraints are "
            f"{constraints.problem_type} ({CONSTRAINTS_KEY[constraints.problem_type]}); "
            f"expected {CONSTRAINTS_KEY[statistics.problem_type]}"
        )
    entries = statistics.metrics
    out: list[Violation] = []
    for name, constraint in constraints.constraints.items():
        entry = entries.get(name)
        if entry is None and extra is not None and name in extra:
            entry = MetricValue(value=extra[name])
        if not isinstance(entry, MetricValue):
            log.warning("constraint on metric %r: no such metric in the statistics", name)
            continue
        value = as_float(entry.value)
        threshold = as_float(constraint.threshold)
        op = constraint.comparison_operator
        if math.isnan(value) or math.isnan(threshold) or not _OPS[op](value, threshold):
            continue
        out.append(Violation(
            metric_name=name,
            constraint_check_type=op,
            description=(f"Metric {name} with {_fmt(entry.value)} +/- "
                         f"{_fmt(entry.standard_deviation)} was {op} '{_fmt(threshold)}'"),
        ))
    return out
