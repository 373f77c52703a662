"""Drift of one feature: the method the name picks, its figure, its threshold and the verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from vigil.checks.drift.distributions import (
    CategoricalDistribution,
    Distribution,
    NumericDistribution,
)
from vigil.checks.drift.registry import Kind, get_method
from vigil.errors import BaselineMismatchError, ConfigError, InputError

__all__ = ["DriftResult", "compute_drift"]


@dataclass(frozen=True)
class DriftResult:
    method: str
    value: float
    threshold: float
    drifted: bool
    kind: Kind

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; a NaN value becomes None."""
        return {
            "method": self.method,
            "value": None if math.isnan(self.value) else self.value,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "kind": self.kind,
        }


def compute_drift(
    method: str,
    baseline: Distribution,
    current: Distribution,
    threshold: float | None = None,
    *,
    robust: bool = False,
    distinct_count: int | None = None,
) -> DriftResult:
    """Drift of one feature with ``method``; ``threshold`` defaults to the method's default.

    ``method`` is any registered name, in any case, that applies to the features' kind.
    ``robust`` applies the SageMaker robust correction to ``LInfinity`` (only). ``distinct_count``
    (for ``auto``) is the number of distinct values of both sides together; by default it is
    counted from the items. With ``auto`` an explicit threshold applies to the resolved method.

    >>> a = CategoricalDistribution({"a": 3, "b": 1})
    >>> b = CategoricalDistribution({"a": 1, "b": 3})
    >>> compute_drift("LInfinity", a, b)
    DriftResult(method='LInfinity', value=0.5, threshold=0.1, drifted=True, kind='distance')
    >>> x = NumericDistribution.from_values([1.0, 2.0, 3.0, 4.0])
    >>> y = NumericDistribution.from_values([3.0, 4.0, 5.0, 6.0])
    >>> compute_drift("simple", x, y).value
    0.5
    >>> r = compute_drift("auto", x, y)
    >>> r.method, r.kind, round(r.value, 4), r.drifted
    ('ks', 'p_value', 0.7714, False)
    """
    numeric = isinstance(baseline, NumericDistribution)
    kinds = (NumericDistribution, CategoricalDistribution)
    if not (isinstance(baseline, kinds) and isinstance(current, kinds)):
        raise InputError("baseline and current must be Numeric- or CategoricalDistribution")
    if numeric != isinstance(current, NumericDistribution):
        raise BaselineMismatchError("baseline and current distributions are of different kinds")
    chosen = get_method(method, "numerical" if numeric else "categorical")
    if chosen.choose is not None:
        chosen, baseline, current = chosen.choose(baseline, current, distinct_count)
    name, kind = chosen.name, chosen.kind
    thr = chosen.default_threshold if threshold is None else float(threshold)
    if thr is None or kind is None:
        raise ConfigError(f"drift method {name!r} has no threshold nor decision rule of its own")
    if not math.isfinite(thr) or thr < 0:
        raise ConfigError(f"drift threshold for {name!r} must be a finite number >= 0, got {thr}")
    value = chosen.compute(baseline, current, robust=robust)
    return DriftResult(name, float(value), thr, chosen.is_drifted(value, thr), kind)
