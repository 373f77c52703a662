"""Model-quality ``statistics.json`` and ``constraints.json`` (SageMaker's shapes).

A model-quality statistics file holds one metrics section, named for the problem type
(``regression_metrics``, ``binary_classification_metrics`` or
``multiclass_classification_metrics``). Every scalar metric is ``{"value": x,
"standard_deviation": y}``; ``y`` is the string ``"NaN"`` when fewer than 200 rows were
evaluated, and stays that string through a load and a dump. ``confusion_matrix`` is keyed actual
label, then predicted label; the two binary curves are lists of floats.

>>> s = ModelQualityStatistics.loads('{"version": 0.0, "dataset": {"item_count": 3},'
...     ' "regression_metrics": {"mae": {"value": 0.5, "standard_deviation": "NaN"}}}')
>>> s.problem_type, s.metric_values()
('Regression', {'mae': 0.5})
>>> s.metrics["mae"].standard_deviation
'NaN'
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict

from vigil.errors import ConfigError, FormatError
from vigil.formats._base import Artifact

ProblemType = Literal["Regression", "BinaryClassification", "MulticlassClassification"]
PROBLEM_TYPES: tuple[str, ...] = ("Regression", "BinaryClassification", "MulticlassClassification")
ComparisonOperator = Literal[
    "LessThanThreshold",
    "GreaterThanThreshold",
    "LessThanOrEqualToThreshold",
    "GreaterThanOrEqualToThreshold",
]

#: statistics.json section for each problem type
METRICS_KEY: dict[str, str] = {
    "Regression": "regression_metrics",
    "BinaryClassification": "binary_classification_metrics",
    "MulticlassClassification": "multiclass_classification_metrics",
}
#: constraints.json section for each problem type
CONSTRAINTS_KEY: dict[str, str] = {
    "Regression": "regression_constraints",
    "BinaryClassification": "binary_classification_constraints",
    "MulticlassClassification": "multiclass_classification_constraints",
}

#: the suffix of a best-constant-classifier figure
BCC = "_best_constant_classifier"
#: the keys of each problem type's section of statistics.json, in SageMaker's order: the scalar
#: metrics (``{"value", "standard_deviation"}``) interleaved with the structured entries
REGRESSION_METRICS: tuple[str, ...] = ("mae", "mse", "rmse", "r2")
BINARY_METRICS: tuple[str, ...] = (
    "confusion_matrix",
    "recall",
    "precision",
    "accuracy",
    "recall" + BCC,
    "precision" + BCC,
    "accuracy" + BCC,
    "true_positive_rate",
    "true_negative_rate",
    "false_positive_rate",
    "false_negative_rate",
    "receiver_operating_characteristic_curve",
    "precision_recall_curve",
    "auc",
    "f0_5",
    "f1",
    "f2",
    "f0_5" + BCC,
    "f1" + BCC,
    "f2" + BCC,
)
_WEIGHTED = (
    "accuracy",
    "weighted_recall",
    "weighted_precision",
    "weighted_f0_5",
    "weighted_f1",
    "weighted_f2",
)
MULTICLASS_METRICS: tuple[str, ...] = (
    "confusion_matrix", *_WEIGHTED, *(m + BCC for m in _WEIGHTED)
)
#: the entries that are not a scalar figure (a matrix, a curve)
STRUCTURED_METRICS = frozenset(
    {"confusion_matrix", "receiver_operating_characteristic_curve", "precision_recall_curve"}
)

NaNString = Literal["NaN"]


def as_float(x: float | str | None) -> float:
    """A metric figure as a float: SageMaker's ``"NaN"`` string (or None) becomes ``nan``.

    >>> as_float("NaN"), as_float(0.25)
    (nan, 0.25)
    """
    if x is None:
        return math.nan
    if isinstance(x, str):
        return float(x)  # "NaN", "Infinity", "-Infinity"
    return float(x)


class MetricValue(BaseModel):
    """One scalar metric: its value and the deviation over five 80% subsamples."""

    model_config = ConfigDict(extra="forbid")

    value: NaNString | float
    standard_deviation: NaNString | float = "NaN"


class RocCurve(BaseModel):
    """``receiver_operating_characteristic_curve``."""

    model_config = ConfigDict(extra="forbid")

    false_positive_rates: list[float]
    true_positive_rates: list[float]


class PrecisionRecallCurve(BaseModel):
    """``precision_recall_curve``."""

    model_config = ConfigDict(extra="forbid")

    precisions: list[float]
    recalls: list[float]


ConfusionMatrix = dict[str, dict[str, int]]
MetricEntry = MetricValue | RocCurve | PrecisionRecallCurve | ConfusionMatrix


class ModelQualityDataset(Artifact):
    """``dataset``: how many rows were evaluated, and when (optional)."""

    item_count: int
    evaluation_time: str | None = None


class ModelQualityStatistics(Artifact):
    """A whole model-quality ``statistics.json``."""

    version: float = 0.0
    dataset: ModelQualityDataset
    regression_metrics: dict[str, MetricEntry] | None = None
    binary_classification_metrics: dict[str, MetricEntry] | None = None
    multiclass_classification_metrics: dict[str, MetricEntry] | None = None

    @property
    def problem_type(self) -> str:
        """The problem type named by the metrics section present."""
        for ptype, key in METRICS_KEY.items():
            if getattr(self, key) is not None:
                return ptype
        raise FormatError(
            "model-quality statistics: no metrics section; expected one of "
            + ", ".join(METRICS_KEY.values())
        )

    @property
    def metrics(self) -> dict[str, MetricEntry]:
        """The metrics section of the problem type (metric key -> entry)."""
        section: dict[str, MetricEntry] = getattr(self, METRICS_KEY[self.problem_type])
        return section

    def metric_values(self) -> dict[str, float]:
        """Every scalar metric's value by its key (``"NaN"`` as ``nan``)."""
        return {
            k: as_float(v.value) for k, v in self.metrics.items() if isinstance(v, MetricValue)
        }


class MetricConstraint(BaseModel):
    """One model-quality constraint: violated when ``value <operator> threshold``."""

    model_config = ConfigDict(extra="allow")

    threshold: float | NaNString
    comparison_operator: ComparisonOperator


class ModelQualityConstraints(Artifact):
    """A whole model-quality ``constraints.json``."""

    version: float = 0.0
    regression_constraints: dict[str, MetricConstraint] | None = None
    binary_classification_constraints: dict[str, MetricConstraint] | None = None
    multiclass_classification_constraints: dict[str, MetricConstraint] | None = None

    @property
    def problem_type(self) -> str:
        """The problem type named by the constraints section present."""
        for ptype, key in CONSTRAINTS_KEY.items():
            if getattr(self, key) is not None:
                return ptype
        raise FormatError(
            "model-quality constraints: no constraints section; expected one of "
            + ", ".join(CONSTRAINTS_KEY.values())
        )

    @property
    def constraints(self) -> dict[str, MetricConstraint]:
        """The constraints section of the problem type (metric key -> constraint)."""
        section: dict[str, MetricConstraint] = getattr(self, CONSTRAINTS_KEY[self.problem_type])
        return section


def check_problem_type(problem_type: str) -> str:
    """``problem_type`` if it is one SageMaker knows, else a ConfigError naming the choices."""
    if problem_type not in PROBLEM_TYPES:
        raise ConfigError(
            f"problem type {problem_type!r} is not known; expected one of "
            + ", ".join(PROBLEM_TYPES)
        )
    return problem_type

