"""The result of one model-quality evaluation, in SageMaker's shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vigil.formats.model_quality import METRICS_KEY, ModelQualityDataset, ModelQualityStatistics

__all__ = ["ModelQualityResult"]


@dataclass
class ModelQualityResult:
    """The metrics of one evaluation, in SageMaker's shape, and what was left out.

    ``metrics`` is the statistics section (metric key -> ``{"value", "standard_deviation"}``,
    the confusion matrix, the curves); ``item_count`` the rows evaluated; ``skipped`` the rows
    left out, counted per reason.

    >>> r = ModelQualityResult("Regression", {"mae": {"value": 0.5, "standard_deviation": "NaN"}},
    ...                        item_count=3)
    >>> r["mae"], r.values(), r.to_statistics().dataset.item_count
    (0.5, {'mae': 0.5}, 3)
    """

    problem_type: str
    metrics: dict[str, Any]
    item_count: int
    skipped: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        """A scalar metric's value (``r["auc"]``), or a structured entry as is."""
        entry = self.metrics[key]
        if isinstance(entry, dict) and "value" in entry:
            return entry["value"]
        return entry

    @property
    def skipped_count(self) -> int:
        """How many rows were skipped, whatever the reason."""
        return sum(self.skipped.values())

    def values(self) -> dict[str, float]:
        """Every scalar metric's value by key (for the metric store)."""
        return {k: v["value"] for k, v in self.metrics.items()
                if isinstance(v, dict) and "value" in v}

    def to_statistics(self, evaluation_time: str | None = None) -> ModelQualityStatistics:
        """The result as a model-quality ``statistics.json``."""
        return ModelQualityStatistics.model_validate({
            "version": 0.0,
            "dataset": ModelQualityDataset(
                item_count=self.item_count, evaluation_time=evaluation_time
            ),
            METRICS_KEY[self.problem_type]: self.metrics,
        })
