"""One readable line on what a notification is about: which features drifted and by how much
(from an execution's ``constraint_violations.json``), or an alarm's metric against its
threshold.

The drift checks write their figures into each violation's description in fixed wordings
(:mod:`vigil.checks.data_quality`: SageMaker's ``Numerical distance: 0.41 exceeds numerical
threshold: 0.1``, ``Numerical ks p-value: 0.001 is below threshold: 0.05``, ``Numerical psi
distance: 0.3 exceeds threshold: 0.2``); :func:`feature_drifts` reads them back exactly.

>>> v = [{"feature_name": "mean radius", "constraint_check_type": "baseline_drift_check",
...       "description": "Numerical distance: 0.41 exceeds numerical threshold: 0.1"},
...      {"feature_name": "mean texture", "constraint_check_type": "baseline_drift_check",
...       "description": "Numerical distance: 0.3312 exceeds numerical threshold: 0.1"}]
>>> execution_summary(v, features=5)
'Drift in 2 of 5 features: mean radius (distance 0.41 > 0.10), mean texture (distance 0.33 > 0.10)'
>>> metric_summary("drifted_features", "Maximum", "GreaterThanThreshold", 2.0, 0.0, "ALARM")
'drifted_features (Maximum) 2 > 0'
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FeatureDrift",
    "execution_summary",
    "feature_drifts",
    "fmt",
    "metric_summary",
]

DRIFT_CHECK = "baseline_drift_check"
_DRIFT = re.compile(
    r"(?:(?P<method>[\w.-]+) )?(?P<measure>distance|p-value):\s*(?P<value>\S+)\s+"
    r"(?:exceeds|is below)\s+(?:\w+ )?threshold:\s*(?P<threshold>\S+)"
)
_KINDS = {"numerical", "categorical"}
_OPERATORS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
MAX_LISTED = 5  # features named in the line; the rest are counted


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's drift as its violation states it."""

    feature: str
    measure: str  # "distance" or "p-value"
    value: float
    threshold: float
    method: str | None = None  # None: SageMaker's own distance

    @property
    def relation(self) -> str:
        """``>`` for a distance over its threshold, ``<`` for a p-value under it."""
        return "<" if self.measure == "p-value" else ">"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"feature": self.feature, "measure": self.measure, "method": self.method,
                "value": self.value, "threshold": self.threshold}

    def text(self) -> str:
        """``mean radius (distance 0.41 > 0.10)``."""
        what = f"{self.method} {self.measure}" if self.method else self.measure
        return f"{self.feature} ({what} {fmt(self.value)} {self.relation} {fmt(self.threshold)})"


def fmt(value: float) -> str:
    """A figure for people: two decimals in the usual range, else three significant digits.

    >>> fmt(0.1), fmt(0.4123), fmt(0.00012), fmt(2.0), fmt(12345.0)
    ('0.10', '0.41', '0.00012', '2', '1.23e+04')
    """
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e4:
        return str(int(value))
    if 0.01 <= abs(value) < 1e4:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _field(v: Any, name: str) -> Any:
    return v.get(name) if isinstance(v, Mapping) else getattr(v, name, None)


def feature_drifts(violations: Iterable[Any]) -> list[FeatureDrift]:
    """The ``baseline_drift_check`` violations (dicts or :class:`Violation` models) as
    :class:`FeatureDrift`, in their order; a description in another wording is skipped."""
    out = []
    for v in violations:
        if _field(v, "constraint_check_type") != DRIFT_CHECK:
            continue
        match = _DRIFT.search(str(_field(v, "description") or ""))
        if match is None:
            continue
        method = match.group("method")
        if method is not None and method.lower() in _KINDS:
            method = None
        try:
            value, threshold = float(match.group("value")), float(match.group("threshold"))
        except ValueError:
            continue
        out.append(FeatureDrift(str(_field(v, "feature_name") or "?"), match.group("measure"),
                                value, threshold, method))
    return out


def _others(violations: Sequence[Any]) -> str:
    rest = [v for v in violations if _field(v, "constraint_check_type") != DRIFT_CHECK]
    if not rest:
        return ""
    named = [f"{_field(v, 'constraint_check_type')} ({_field(v, 'feature_name') or '-'})"
             for v in rest[:MAX_LISTED]]
    more = f" and {len(rest) - MAX_LISTED} more" if len(rest) > MAX_LISTED else ""
    noun = "violation" if len(rest) == 1 else "violations"
    return f"{len(rest)} other {noun}: {', '.join(named)}{more}"


def execution_summary(violations: Iterable[Any], features: int | None = None) -> str:
    """``Drift in 2 of 5 features: mean radius (distance 0.41 > 0.10), ...`` and the other
    violations counted; ``""`` for an execution without violations. ``features`` is how many
    features the execution profiled (``None``: unknown, left out)."""
    found = list(violations)
    drifts = feature_drifts(found)
    parts = []
    if drifts:
        of = f" of {features}" if features else ""
        noun = "feature" if (features or len(drifts)) == 1 else "features"
        listed = ", ".join(d.text() for d in drifts[:MAX_LISTED])
        more = f" and {len(drifts) - MAX_LISTED} more" if len(drifts) > MAX_LISTED else ""
        parts.append(f"Drift in {len(drifts)}{of} {noun}: {listed}{more}")
    others = _others(found)
    if others:
        parts.append(others if parts else others[0].upper() + others[1:])
    return "; ".join(parts)


def metric_summary(
    metric: str,
    statistic: str,
    operator: str,
    value: float | None,
    threshold: float | None,
    state: str,
) -> str:
    """An alarm's figure against its threshold: ``5xx_rate (Average) 0.2 > 0.05`` in ALARM,
    ``5xx_rate (Average) 0.01, alarm when > 0.05`` otherwise; ``""`` without a value."""
    if value is None:
        return ""
    head = f"{metric} ({statistic}) {fmt(value)}"
    symbol = _OPERATORS.get(operator)
    if symbol is None or threshold is None:  # a band, or no threshold
        return f"{head} ({operator})" if operator else head
    if state == "ALARM":
        return f"{head} {symbol} {fmt(threshold)}"
    return f"{head}, alarm when {symbol} {fmt(threshold)}"
