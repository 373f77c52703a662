"""``constraints.json`` of a data-quality baseline (SageMaker's shape).

Defaults for absent keys follow SageMaker's documentation (both check thresholds 0.1,
comparison threshold 0.1, method Robust; the categorical threshold falls back to the numeric
one and the categorical method to LInfinity). Vigil's own options (drift methods beyond
SageMaker's, multiple-testing correction, the dataset drift share) are extra keys of
``distribution_constraints`` and of a feature's ``monitoringConfigOverrides``; they are written
only when set, so a baseline made with SageMaker's options has SageMaker's keys only.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from vigil.formats._base import Artifact
from vigil.formats.statistics import InferredType

Toggle = Literal["Enabled", "Disabled"]


class NumConstraints(Artifact):
    is_non_negative: bool | None = None


class StringConstraints(Artifact):
    domains: list[str] | None = None


class FeatureConstraints(Artifact):
    name: str
    inferred_type: InferredType
    completeness: float | None = None
    num_constraints: NumConstraints | None = None
    string_constraints: StringConstraints | None = None
    monitoring_config_overrides: dict[str, Any] | None = Field(
        default=None, alias="monitoringConfigOverrides"
    )


class DistributionConstraints(Artifact):
    perform_comparison: Toggle = "Enabled"
    comparison_threshold: float = 0.1
    comparison_method: Literal["Robust", "Simple"] = "Robust"
    categorical_comparison_threshold: float | None = None
    categorical_drift_method: Literal["LInfinity", "ChiSquared"] | None = None
    # Vigil's extensions (absent in SageMaker's files)
    drift_method: str | None = None
    drift_threshold: float | None = None
    multiple_testing_correction: Literal["none", "bonferroni", "fdr"] | None = None
    dataset_drift_share: float | None = None

    @property
    def categorical_threshold(self) -> float:
        """The categorical threshold, falling back to the numeric one as SageMaker does."""
        if self.categorical_comparison_threshold is None:
            return self.comparison_threshold
        return self.categorical_comparison_threshold

    @property
    def categorical_method(self) -> str:
        """The categorical method, LInfinity when absent."""
        return self.categorical_drift_method or "LInfinity"


class MonitoringConfig(Artifact):
    evaluate_constraints: Toggle = "Enabled"
    emit_metrics: Toggle = "Enabled"
    datatype_check_threshold: float = 0.1
    domain_content_threshold: float = 0.1
    distribution_constraints: DistributionConstraints = DistributionConstraints()


class Constraints(Artifact):
    """A whole data-quality ``constraints.json``."""

    version: int | float = 0.0
    features: list[FeatureConstraints] = []
    monitoring_config: MonitoringConfig = MonitoringConfig()

    def feature(self, name: str) -> FeatureConstraints | None:
        """The constraints of one feature, or None."""
        return next((f for f in self.features if f.name == name), None)
