"""Per-feature drift between a baseline distribution and a current (window) distribution.

Methods (names as users write them; every name is also accepted case-insensitively):

SageMaker (Deequ 2.0) methods
    ``Simple`` / ``Robust`` (numeric), ``LInfinity`` / ``ChiSquared`` (categorical).
Evidently-style methods
    ``ks``, ``psi``, ``jensen_shannon``, ``wasserstein``, ``hellinger``, ``chi_squared``,
    ``z_test`` and ``auto`` (Evidently's size-aware default, resolved to one of them).

Decision rules: SageMaker distances drift when ``value > threshold``, Evidently-style distances
when ``value >= threshold`` (as Evidently), every p-value method when ``p < threshold``. A side
with no data (total weight 0) gives ``value = NaN`` and ``drifted = False``; so does
``ChiSquared`` when fewer than 2 buckets remain after regrouping (``ChiSquared`` follows Deequ:
categories absent from the baseline are ignored; ``LInfinity`` sees them). ``auto`` compares a
numeric column with at most 5 distinct values as categories (one per value).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from vigil.checks import distances as d
from vigil.errors import BaselineMismatchError, ConfigError, InputError

__all__ = [
    "CATEGORICAL_METHODS",
    "DEFAULT_THRESHOLDS",
    "NUMERIC_METHODS",
    "CategoricalDistribution",
    "DriftResult",
    "NumericDistribution",
    "compute_drift",
    "correct_pvalues",
    "dataset_drift",
]

Kind = Literal["distance", "p_value"]


@dataclass(frozen=True, eq=False)
class NumericDistribution:
    """Weighted sorted items: raw data (weights 1) or a KLL sketch's items (weights ``2**level``).

    The constructor coerces to float64, drops NaN items and sorts when needed.
    """

    values: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64).ravel()
        weights = np.asarray(self.weights, dtype=np.float64).ravel()
        if values.shape != weights.shape:
            raise InputError(
                f"values ({values.size}) and weights ({weights.size}) differ in length"
            )
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise InputError("weights must be finite and non-negative")
        keep = ~np.isnan(values)
        values, weights = values[keep], weights[keep]
        if values.size > 1 and np.any(values[1:] < values[:-1]):
            order = np.argsort(values, kind="stable")
            values, weights = values[order], weights[order]
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "weights", weights)

    @classmethod
    def from_values(cls, x: Any) -> NumericDistribution:
        """Raw data: NaN dropped, sorted, every weight 1."""
        arr = np.asarray(x, dtype=np.float64).ravel()
        arr = np.sort(arr[~np.isnan(arr)])
        return cls(arr, np.ones(arr.size, dtype=np.float64))

    @property
    def n(self) -> float:
        return float(self.weights.sum())

    @property
    def mean(self) -> float:
        total = self.n
        return float(np.dot(self.weights, self.values) / total) if total > 0 else math.nan

    @property
    def std(self) -> float:
        """Population (biased) weighted standard deviation."""
        return d.weighted_std(self.values, self.weights)


@dataclass(frozen=True)
class CategoricalDistribution:
    """``category -> count`` (counts may be weighted, never negative)."""

    counts: dict[str, float]

    def __post_init__(self) -> None:
        counts = {str(k): float(v) for k, v in dict(self.counts).items()}
        if any(not math.isfinite(v) or v < 0 for v in counts.values()):
            raise InputError("category counts must be finite and non-negative")
        object.__setattr__(self, "counts", counts)

    @classmethod
    def from_values(cls, x: Iterable[Any]) -> CategoricalDistribution:
        """Count raw labels (``str(label)``); None and float NaN are dropped."""
        return cls(dict(Counter(str(v) for v in x if v is not None and v == v)))

    @property
    def n(self) -> float:
        return float(sum(self.counts.values()))


Distribution = NumericDistribution | CategoricalDistribution


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


_SAGEMAKER_DISTANCES = ("Simple", "Robust", "LInfinity")
_P_VALUE_METHODS = ("ChiSquared", "ks", "chi_squared", "z_test")
_SHARED = ("psi", "jensen_shannon", "hellinger", "chi_squared", "z_test", "auto")
NUMERIC_METHODS: tuple[str, ...] = ("Simple", "Robust", "ks", "wasserstein", *_SHARED)
CATEGORICAL_METHODS: tuple[str, ...] = ("LInfinity", "ChiSquared", *_SHARED)
DEFAULT_THRESHOLDS: dict[str, float] = {
    "Simple": 0.1,
    "Robust": 0.1,
    "LInfinity": 0.1,
    "ChiSquared": 0.1,
    "ks": 0.05,
    "psi": 0.1,
    "jensen_shannon": 0.1,
    "wasserstein": 0.1,
    "hellinger": 0.1,
    "chi_squared": 0.05,
    "z_test": 0.05,
}
_CANONICAL = {m.lower(): m for m in (*NUMERIC_METHODS, *CATEGORICAL_METHODS)}
AUTO_SMALL_REFERENCE = 1000
AUTO_FEW_VALUES = 5


def _is_drifted(method: str, value: float, threshold: float) -> bool:
    if math.isnan(value):
        return False
    if method in _P_VALUE_METHODS:
        return value < threshold
    if method in _SAGEMAKER_DISTANCES:
        return value > threshold
    return value >= threshold


def _kind(method: str) -> Kind:
    return "p_value" if method in _P_VALUE_METHODS else "distance"


def _resolve_name(method: str, numeric: bool) -> str:
    valid = NUMERIC_METHODS if numeric else CATEGORICAL_METHODS
    canonical = _CANONICAL.get(method.lower()) if isinstance(method, str) else None
    kind = "numeric" if numeric else "categorical"
    if canonical is None:
        raise ConfigError(
            f"unknown drift method {method!r}; valid for {kind} features: {', '.join(valid)}"
        )
    if canonical not in valid:
        raise ConfigError(
            f"drift method {canonical!r} does not apply to {kind} features; "
            f"valid for {kind} features: {', '.join(valid)}"
        )
    return canonical


def _as_categories(dist: NumericDistribution) -> CategoricalDistribution:
    """Each distinct numeric value as a category (``repr`` of the float), weights summed."""
    keys, inverse = np.unique(dist.values, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=dist.weights, minlength=keys.size)
    return CategoricalDistribution(dict(zip(map(repr, keys.tolist()), sums.tolist(), strict=True)))


def _distinct(baseline: Distribution, current: Distribution) -> int:
    if isinstance(baseline, NumericDistribution) and isinstance(current, NumericDistribution):
        both = np.concatenate(
            (baseline.values[baseline.weights > 0], current.values[current.weights > 0])
        )
        return int(np.unique(both).size)
    assert isinstance(baseline, CategoricalDistribution)
    assert isinstance(current, CategoricalDistribution)
    return len({k for c in (baseline.counts, current.counts) for k, v in c.items() if v > 0})


def _resolve_auto(
    baseline: Distribution, current: Distribution, distinct_count: int | None
) -> tuple[str, Distribution, Distribution]:
    """Evidently's default test; few-valued numeric columns are compared as categories."""
    distinct = _distinct(baseline, current) if distinct_count is None else distinct_count
    numeric = isinstance(baseline, NumericDistribution)
    small = baseline.n <= AUTO_SMALL_REFERENCE
    if numeric and distinct > AUTO_FEW_VALUES:
        return ("ks" if small else "wasserstein"), baseline, current
    if isinstance(baseline, NumericDistribution) and isinstance(current, NumericDistribution):
        baseline, current = _as_categories(baseline), _as_categories(current)
    if not small:
        return "jensen_shannon", baseline, current
    return ("chi_squared" if distinct > 2 else "z_test"), baseline, current


def _numeric_value(method: str, a: NumericDistribution, b: NumericDistribution) -> float:
    args = (a.values, a.weights, b.values, b.weights)
    if method in ("Simple", "Robust"):
        linf = d.ks_statistic(*args)
        return d.robust_linf(linf, a.n, b.n) if method == "Robust" else linf
    if method == "ks":
        return d.ks_pvalue(*args)
    if method == "wasserstein":
        return d.wasserstein_normed(*args)
    if method in ("jensen_shannon", "hellinger"):
        p, q = d.common_histogram(*args)
        return d.jensen_shannon(p, q) if method == "jensen_shannon" else d.hellinger(p, q)
    if method == "z_test":
        return _categorical_value(method, _as_categories(a), _as_categories(b), robust=False)
    edges = d.quantile_edges(a.values, a.weights)
    ca = d.bin_weights(a.values, a.weights, edges)
    cb = d.bin_weights(b.values, b.weights, edges)
    return d.psi(ca, cb) if method == "psi" else d.contingency_pvalue(ca, cb)


def _categorical_value(
    method: str, a: CategoricalDistribution, b: CategoricalDistribution, robust: bool
) -> float:
    if method == "LInfinity":
        linf = d.linf_categorical(a.counts, b.counts)
        return d.robust_linf(linf, a.n, b.n) if robust else linf
    if method == "ChiSquared":
        return d.sagemaker_chisquare_pvalue(a.counts, b.counts)
    _, ca, cb = d.align_counts(a.counts, b.counts)
    if method == "psi":
        return d.psi(ca, cb)
    if method == "jensen_shannon":
        return d.jensen_shannon(ca / ca.sum(), cb / cb.sum())
    if method == "hellinger":
        return d.hellinger(ca / ca.sum(), cb / cb.sum())
    if method == "chi_squared":
        return d.contingency_pvalue(ca, cb)
    return d.z_test_pvalue(ca, cb)


def compute_drift(
    method: str,
    baseline: Distribution,
    current: Distribution,
    threshold: float | None = None,
    *,
    robust: bool = False,
    distinct_count: int | None = None,
) -> DriftResult:
    """Drift of one feature with ``method``; ``threshold`` defaults to ``DEFAULT_THRESHOLDS``.

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
    name = _resolve_name(method, numeric)
    if name == "auto":
        name, baseline, current = _resolve_auto(baseline, current, distinct_count)
    thr = DEFAULT_THRESHOLDS[name] if threshold is None else float(threshold)
    if not math.isfinite(thr) or thr < 0:
        raise ConfigError(f"drift threshold for {name!r} must be a finite number >= 0, got {thr}")
    if baseline.n <= 0 or current.n <= 0:
        value = math.nan
    elif isinstance(baseline, NumericDistribution) and isinstance(current, NumericDistribution):
        value = _numeric_value(name, baseline, current)
    else:
        assert isinstance(baseline, CategoricalDistribution)
        assert isinstance(current, CategoricalDistribution)
        value = _categorical_value(name, baseline, current, robust)
    return DriftResult(name, float(value), thr, _is_drifted(name, value, thr), _kind(name))


def correct_pvalues(
    results: Mapping[str, DriftResult], correction: Literal["none", "bonferroni", "fdr"]
) -> dict[str, DriftResult]:
    """Adjust the p-value results together (Bonferroni or Benjamini-Hochberg) and re-decide.

    The family is every result of kind ``p_value`` with a non-NaN value; distance results and NaN
    p-values pass through unchanged.

    >>> r = {"a": DriftResult("ks", 0.01, 0.05, True, "p_value"),
    ...      "b": DriftResult("ks", 0.04, 0.05, True, "p_value")}
    >>> {k: v.value for k, v in correct_pvalues(r, "bonferroni").items()}
    {'a': 0.02, 'b': 0.08}
    """
    if correction not in ("none", "bonferroni", "fdr"):
        raise ConfigError(
            f"unknown p-value correction {correction!r}; valid: none, bonferroni, fdr"
        )
    out = dict(results)
    family = [k for k, r in results.items() if r.kind == "p_value" and not math.isnan(r.value)]
    if correction == "none" or not family:
        return out
    p = np.array([results[k].value for k in family], dtype=np.float64)
    adjusted = d.bonferroni(p) if correction == "bonferroni" else d.benjamini_hochberg(p)
    for key, value in zip(family, adjusted.tolist(), strict=True):
        r = results[key]
        out[key] = dataclasses.replace(
            r, value=value, drifted=_is_drifted(r.method, value, r.threshold)
        )
    return out


def dataset_drift(
    results: Mapping[str, DriftResult], share_threshold: float = 0.5
) -> tuple[float, bool]:
    """Share of drifted features among those with a value (NaN ones left out), and whether
    ``share >= share_threshold`` (Evidently's rule). No evaluable feature: ``(0.0, False)``.

    >>> r = {"a": DriftResult("psi", 0.3, 0.1, True, "distance"),
    ...      "b": DriftResult("psi", 0.0, 0.1, False, "distance")}
    >>> dataset_drift(r)
    (0.5, True)
    """
    evaluated = [r for r in results.values() if not math.isnan(r.value)]
    if not evaluated:
        return 0.0, False
    share = sum(r.drifted for r in evaluated) / len(evaluated)
    return share, share >= share_threshold
