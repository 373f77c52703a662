"""Suggested constraints, as SageMaker's analyzer writes them, with every knob settable.

The real analyzer writes completeness, ``is_non_negative`` for numeric features, ``domains``
for low-cardinality strings, and a ``monitoring_config`` with both check thresholds at 1.0,
comparison threshold 0.1 and method Robust. Vigil writes the same by default and lets the
caller set any threshold or method when the baseline is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vigil.checks.drift import CORRECTIONS, method_names
from vigil.errors import ConfigError
from vigil.formats.constraints import (
    Constraints,
    DistributionConstraints,
    FeatureConstraints,
    MonitoringConfig,
    NumConstraints,
    StringConstraints,
)
from vigil.formats.statistics import Statistics

# SageMaker's constraints.json takes only SageMaker's own methods in comparison_method
# (numeric) and categorical_drift_method; the drift registry says which those are.
SAGEMAKER_NUMERIC = method_names("numerical", origin="sagemaker")
SAGEMAKER_CATEGORICAL = method_names("categorical", origin="sagemaker")


@dataclass
class ConstraintOptions:
    """Every threshold and method a baseline's constraints carry.

    ``drift_method`` applies a registered method (``ks``, ``psi``, ``auto``, ...: any of
    :func:`vigil.checks.drift.method_names`) to every feature instead of SageMaker's;
    ``feature_drift`` sets a method (and optionally a threshold) per feature:
    ``{"age": "psi", "state": ("chi_squared", 0.01)}``.
    """

    comparison_threshold: float = 0.1
    comparison_method: str = "Robust"
    categorical_comparison_threshold: float | None = None
    categorical_drift_method: str | None = None
    datatype_check_threshold: float = 1.0
    domain_content_threshold: float = 1.0
    drift_method: str | None = None
    drift_threshold: float | None = None
    feature_drift: Mapping[str, str | tuple[str, float]] = field(default_factory=dict)
    multiple_testing_correction: str = "none"
    dataset_drift_share: float | None = None
    domain_max_distinct: int = 20
    completeness_tolerance: float = 0.0
    perform_comparison: bool = True

    def validate(self) -> None:
        """Raise ConfigError naming the option that is out of range."""
        if self.comparison_method not in SAGEMAKER_NUMERIC:
            raise ConfigError(
                f"comparison_method {self.comparison_method!r}: expected Robust or Simple"
            )
        if self.categorical_drift_method not in (None, *SAGEMAKER_CATEGORICAL):
            raise ConfigError(
                f"categorical_drift_method {self.categorical_drift_method!r}: "
                "expected LInfinity or ChiSquared"
            )
        if self.multiple_testing_correction not in CORRECTIONS:
            raise ConfigError(
                f"multiple_testing_correction {self.multiple_testing_correction!r}: "
                f"expected one of {', '.join(CORRECTIONS)}"
            )
        known = set(method_names())
        methods = [self.drift_method] if self.drift_method else []
        for spec in self.feature_drift.values():
            methods.append(spec if isinstance(spec, str) else spec[0])
        for method in methods:
            if method not in known:
                raise ConfigError(
                    f"drift method {method!r}: expected one of {', '.join(sorted(known))}"
                )
        for name in (
            "comparison_threshold",
            "categorical_comparison_threshold",
            "datatype_check_threshold",
            "domain_content_threshold",
        ):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} {value}: expected a number between 0 and 1")


def suggest_constraints(stats: Statistics, options: ConstraintOptions | None = None) -> Constraints:
    """constraints.json for a baseline's statistics.

    >>> from vigil.profile.dataset import DatasetProfile
    >>> import pyarrow as pa
    >>> p = DatasetProfile(); p.update(pa.table({"x": [1.0, 2.0], "s": ["a", "b"]}))
    >>> c = suggest_constraints(p.to_statistics())
    >>> c.features[0].num_constraints.is_non_negative, c.features[1].string_constraints.domains
    (True, ['a', 'b'])
    """
    opts = options or ConstraintOptions()
    opts.validate()
    item_count = stats.dataset.item_count
    features: list[FeatureConstraints] = []
    for f in stats.features:
        common = f.common
        completeness = (common.num_present / item_count) if common and item_count else 0.0
        completeness = max(0.0, completeness - opts.completeness_tolerance)
        fc = FeatureConstraints(
            name=f.name, inferred_type=f.inferred_type, completeness=completeness
        )
        if f.numerical_statistics is not None and f.numerical_statistics.min is not None:
            fc.num_constraints = NumConstraints(
                is_non_negative=bool(f.numerical_statistics.min >= 0)
            )
        if f.string_statistics is not None and f.inferred_type == "String":
            s = f.string_statistics
            dist = s.distribution.categorical if s.distribution else None
            if dist is not None and (s.distinct_count or 0) <= opts.domain_max_distinct:
                fc.string_constraints = StringConstraints(
                    domains=sorted(b.value for b in dist.buckets)
                )
        spec = opts.feature_drift.get(f.name)
        if spec is not None:
            method, threshold = (spec, None) if isinstance(spec, str) else spec
            overrides: dict[str, Any] = {"drift_method": method}
            if threshold is not None:
                overrides["drift_threshold"] = float(threshold)
            fc.monitoring_config_overrides = overrides
        features.append(fc)
    unknown = set(opts.feature_drift) - {f.name for f in stats.features}
    if unknown:
        raise ConfigError(f"feature_drift names unknown features: {', '.join(sorted(unknown))}")
    distribution = DistributionConstraints(
        perform_comparison="Enabled" if opts.perform_comparison else "Disabled",
        comparison_threshold=opts.comparison_threshold,
        comparison_method=opts.comparison_method,
        categorical_comparison_threshold=opts.categorical_comparison_threshold,
        categorical_drift_method=opts.categorical_drift_method,
        drift_method=opts.drift_method,
        drift_threshold=opts.drift_threshold,
        multiple_testing_correction=(
            opts.multiple_testing_correction if opts.multiple_testing_correction != "none" else None
        ),
        dataset_drift_share=opts.dataset_drift_share,
    )
    config = MonitoringConfig(
        datatype_check_threshold=opts.datatype_check_threshold,
        domain_content_threshold=opts.domain_content_threshold,
        distribution_constraints=distribution,
    )
    return Constraints(version=0.0, features=features, monitoring_config=config)
