"""Feature attribution drift as SageMaker Model Monitor decides it (``ModelExplainability``).

For each label, the baseline's global SHAP values a(f) are the gains. F sorts the features by
the baseline's attribution, F' by the window's (both descending, ties kept in the baseline's
feature order: a stable sort); DCG = sum_i a(F'_i) / log2(i + 1) and iDCG = sum_i
a(F_i) / log2(i + 1), i from 1; NDCG = DCG / iDCG. The window drifts when NDCG is below the
threshold (0.9, Clarify's fixed value; configurable here), and the violation reads as
Clarify's, ``exceeds`` included. A feature the window lacks ranks last; when every baseline
value is 0 (iDCG = 0) there is no ranking to lose and NDCG is 1.

The documentation's example (SAT 0.70 -> 0.10, GPA 0.50 -> 0.20, rank 0.05 -> 0.70):

>>> round(ndcg({"SAT": 0.70, "GPA": 0.50, "rank": 0.05},
...            {"SAT": 0.10, "GPA": 0.20, "rank": 0.70}), 4)
0.6876
>>> v = attribution_drift_violations({"label0": {"a": 0.7, "b": 0.5, "c": 0.05}},
...                                  {"label0": {"a": 0.1, "b": 0.2, "c": 0.7}})
>>> v[0].to_dict()["description"]
'Feature attribution drift 0.6876396241226223 exceeds threshold 0.9'
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from vigil.errors import ConfigError, FormatError
from vigil.formats.violations import Violation

__all__ = [
    "CHECK_TYPE",
    "DEFAULT_NDCG_THRESHOLD",
    "AttributionDrift",
    "attribution_drift",
    "attribution_drift_violations",
    "ndcg",
]

CHECK_TYPE = "feature_attribution_drift_check"
DEFAULT_NDCG_THRESHOLD = 0.9


def _order(values: Mapping[str, float], features: list[str]) -> list[str]:
    rank = {f: i for i, f in enumerate(features)}
    return sorted(
        features,
        key=lambda f: (-values[f] if f in values and not math.isnan(values[f]) else math.inf,
                       rank[f]),
    )


def ndcg(baseline: Mapping[str, float], window: Mapping[str, float]) -> float:
    """NDCG of the window's feature ranking, with the baseline's attributions as gains."""
    features = list(baseline)
    if not features:
        raise FormatError("feature attribution drift: the baseline has no feature attributions")
    ideal = _order(baseline, features)
    actual = _order(window, features)
    discounts = [1.0 / math.log2(i + 1) for i in range(1, len(features) + 1)]
    idcg = sum(baseline[f] * d for f, d in zip(ideal, discounts))
    if idcg == 0:
        return 1.0
    return sum(baseline[f] * d for f, d in zip(actual, discounts)) / idcg


class AttributionDrift:
    """One label's figure: ``ndcg``, the ``threshold`` and whether it ``drifted``."""

    __slots__ = ("drifted", "label", "ndcg", "threshold")

    def __init__(self, label: str, value: float, threshold: float) -> None:
        self.label = label
        self.ndcg = value
        self.threshold = threshold
        self.drifted = value < threshold

    def __repr__(self) -> str:
        return f"AttributionDrift({self.label!r}, ndcg={self.ndcg!r}, drifted={self.drifted})"

    def violation(self) -> Violation:
        """The violation Clarify writes for this label."""
        return Violation(
            label=self.label,
            metric_name="shap",
            constraint_check_type=CHECK_TYPE,
            description=f"Feature attribution drift {self.ndcg!r} exceeds threshold "
            f"{self.threshold!r}",
        )


def attribution_drift(
    baseline: Mapping[str, Mapping[str, float]],
    window: Mapping[str, Mapping[str, float]],
    threshold: float = DEFAULT_NDCG_THRESHOLD,
) -> list[AttributionDrift]:
    """NDCG per label of the baseline (label -> feature -> global SHAP value, as in
    ``explanations.kernel_shap``); a label the window lacks is a :class:`FormatError`."""
    if not (isinstance(threshold, (int, float)) and 0 <= threshold <= 1):
        raise ConfigError(f"NDCG threshold {threshold!r}: expected a number in [0, 1]")
    result = []
    for label, values in baseline.items():
        if label not in window:
            raise FormatError(
                f"feature attribution drift: label {label!r} of the baseline is not in the "
                f"window's explanations (labels: {', '.join(window) or 'none'})"
            )
        result.append(AttributionDrift(label, ndcg(values, window[label]), float(threshold)))
    return result


def attribution_drift_violations(
    baseline: Mapping[str, Mapping[str, float]],
    window: Mapping[str, Mapping[str, float]],
    threshold: float = DEFAULT_NDCG_THRESHOLD,
) -> list[Violation]:
    """The ``feature_attribution_drift_check`` violations, one per drifted label."""
    return [d.violation() for d in attribution_drift(baseline, window, threshold) if d.drifted]
