"""The drift-method record and the registry every method module registers itself in.

One :class:`DriftMethod` holds every fact of a method: its name, the column kinds it applies to,
its default threshold, its decision rule (``drift_if``), a one-line description and the functions
computing it. Everything that lists methods (``auto``, the checks, the suggested constraints, the
CLI's choices, the README table and its test) reads this registry; nothing keeps a list of its own.

Names are looked up case-insensitively; the registry lists them in registration order, which
:mod:`vigil.checks.drift.methods` fixes (SageMaker's methods first, then Evidently's, ``auto``
last).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from vigil.checks.drift.distributions import (
    CategoricalDistribution,
    Distribution,
    NumericDistribution,
)
from vigil.errors import BaselineMismatchError, ConfigError

__all__ = [
    "COLUMN_KINDS",
    "ColumnKind",
    "DriftIf",
    "DriftMethod",
    "Kind",
    "Origin",
    "decide",
    "drift_methods",
    "get_method",
    "method_names",
    "register",
]

ColumnKind = Literal["numerical", "categorical"]
COLUMN_KINDS: tuple[ColumnKind, ...] = ("numerical", "categorical")
Kind = Literal["distance", "p_value"]
Origin = Literal["sagemaker", "evidently"]
DriftIf = Literal[">", ">=", "<"]
"""``>``: SageMaker's distances; ``>=``: Evidently's distances; ``<``: every p-value."""

NumericalFn = Callable[[NumericDistribution, NumericDistribution], float]
CategoricalFn = Callable[[CategoricalDistribution, CategoricalDistribution], float]
_WORDS: dict[ColumnKind, str] = {"numerical": "numeric", "categorical": "categorical"}


def decide(drift_if: DriftIf, value: float, threshold: float) -> bool:
    """Whether ``value`` drifts against ``threshold`` under the rule; NaN never drifts."""
    if math.isnan(value):
        return False
    if drift_if == "<":
        return value < threshold
    return value > threshold if drift_if == ">" else value >= threshold


@dataclass(frozen=True)
class DriftMethod:
    """One drift method: its facts and the functions computing it.

    ``name``
        As users write it (looked up in any case); its module is ``methods/<name lower>.py``.
    ``applies_to``
        The column kinds: ``numerical`` and/or ``categorical``.
    ``default_threshold``, ``drift_if``
        The threshold used when none is given, and the rule: drift when ``value > threshold``
        (``">"``, SageMaker's distances), ``value >= threshold`` (``">="``, Evidently's
        distances) or ``p < threshold`` (``"<"``, every p-value).
    ``description``
        One line, the README table's definition.
    ``origin``
        ``sagemaker`` (a method SageMaker's constraints.json names) or ``evidently``.
    ``numerical``, ``categorical``
        The figure of two non-empty distributions of that kind (one per kind in
        ``applies_to``); ``categorical_robust`` replaces ``categorical`` when the constraints'
        comparison method is SageMaker's Robust (``LInfinity`` only).
    ``choose``
        Only ``auto``: it computes nothing itself but picks another registered method, and has
        no threshold nor rule of its own.
    """

    name: str
    applies_to: tuple[ColumnKind, ...]
    default_threshold: float | None
    drift_if: DriftIf | None
    description: str
    origin: Origin
    numerical: NumericalFn | None = None
    categorical: CategoricalFn | None = None
    categorical_robust: CategoricalFn | None = None
    choose: Chooser | None = None

    def __post_init__(self) -> None:
        if not self.applies_to or not set(self.applies_to) <= set(COLUMN_KINDS):
            raise ConfigError(f"drift method {self.name!r}: applies_to {self.applies_to!r}")
        if self.choose is not None:
            ok = self.default_threshold is None and self.drift_if is None
            fns = (self.numerical, self.categorical, self.categorical_robust)
            ok = ok and all(f is None for f in fns)
        else:
            thr = self.default_threshold
            ok = thr is not None and math.isfinite(thr) and thr >= 0 and self.drift_if is not None
            ok = ok and ((self.numerical is not None) == ("numerical" in self.applies_to))
            ok = ok and ((self.categorical is not None) == ("categorical" in self.applies_to))
            ok = ok and (self.categorical_robust is None or self.categorical is not None)
        if not ok:
            raise ConfigError(f"drift method {self.name!r}: inconsistent record")

    @property
    def kind(self) -> Kind | None:
        """``p_value`` (drift when ``p < threshold``) or ``distance``; None for ``auto``."""
        if self.drift_if is None:
            return None
        return "p_value" if self.drift_if == "<" else "distance"

    def is_drifted(self, value: float, threshold: float) -> bool:
        """The method's decision rule; NaN never drifts."""
        if self.drift_if is None:
            raise ConfigError(
                f"drift method {self.name!r} picks another method; it decides nothing"
            )
        return decide(self.drift_if, value, threshold)

    def compute(
        self, baseline: Distribution, current: Distribution, *, robust: bool = False
    ) -> float:
        """The figure of two distributions of one kind; NaN when a side has no data (weight 0)."""
        if baseline.n <= 0 or current.n <= 0:
            return math.nan
        if isinstance(baseline, NumericDistribution) and isinstance(current, NumericDistribution):
            if self.numerical is not None:
                return float(self.numerical(baseline, current))
        elif isinstance(baseline, CategoricalDistribution) and isinstance(
            current, CategoricalDistribution
        ):
            fn = (self.categorical_robust if robust else None) or self.categorical
            if fn is not None:
                return float(fn(baseline, current))
        else:
            raise BaselineMismatchError("baseline and current distributions are of different kinds")
        raise ConfigError(f"drift method {self.name!r} computes nothing for these distributions")


Chooser = Callable[
    [Distribution, Distribution, "int | None"], tuple[DriftMethod, Distribution, Distribution]
]
"""``auto``'s pick: both sides and the distinct count in, the method and the sides to use out."""

_METHODS: dict[str, DriftMethod] = {}  # lower-cased name -> record, in registration order


def register(method: DriftMethod, *, replace: bool = False) -> DriftMethod:
    """Add ``method`` (returned, so a module can keep it); ``replace`` swaps a record in place."""
    key = method.name.lower()
    if key in _METHODS and not replace:
        raise ConfigError(f"drift method {method.name!r} is already registered")
    if replace and key not in _METHODS:
        raise ConfigError(f"drift method {method.name!r} is not registered; nothing to replace")
    _METHODS[key] = method
    return method


def drift_methods(
    applies_to: ColumnKind | None = None, *, origin: Origin | None = None
) -> tuple[DriftMethod, ...]:
    """Every registered record, in registration order; optionally those for one column kind
    and/or of one origin."""
    return tuple(
        m
        for m in _METHODS.values()
        if (applies_to is None or applies_to in m.applies_to)
        and (origin is None or m.origin == origin)
    )


def method_names(
    applies_to: ColumnKind | None = None, *, origin: Origin | None = None
) -> tuple[str, ...]:
    """Registered names as users write them (``Simple``, ..., ``auto``), in registration order.

    The CLI's choices: ``"|".join(method_names(origin="evidently"))`` for ``--drift-method``,
    ``method_names("numerical", origin="sagemaker")`` for SageMaker's comparison method.

    >>> print(*method_names("numerical"))
    Simple Robust ks wasserstein psi jensen_shannon hellinger kl_div chi_squared z_test auto
    >>> print(*method_names("categorical"))
    LInfinity ChiSquared psi jensen_shannon hellinger kl_div chi_squared z_test auto
    >>> "|".join(method_names(origin="evidently"))
    'ks|wasserstein|psi|jensen_shannon|hellinger|kl_div|chi_squared|z_test|auto'
    >>> method_names("categorical", origin="sagemaker")
    ('LInfinity', 'ChiSquared')
    """
    return tuple(m.name for m in drift_methods(applies_to, origin=origin))


def get_method(name: str, applies_to: ColumnKind | None = None) -> DriftMethod:
    """The record of ``name`` (any case); ConfigError naming the accepted names otherwise.

    With ``applies_to``, a method that does not apply to that column kind is refused too.

    >>> get_method("KS").name, get_method("ks").default_threshold
    ('ks', 0.05)
    >>> get_method("nope", "categorical")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vigil.errors.ConfigError: [config_error] unknown drift method 'nope'; valid for categorical ...
    """
    found = _METHODS.get(name.lower()) if isinstance(name, str) else None
    if applies_to is None:
        if found is None:
            raise ConfigError(f"unknown drift method {name!r}; valid: {', '.join(method_names())}")
        return found
    word, valid = _WORDS[applies_to], ", ".join(method_names(applies_to))
    if found is None:
        raise ConfigError(f"unknown drift method {name!r}; valid for {word} features: {valid}")
    if applies_to not in found.applies_to:
        raise ConfigError(
            f"drift method {found.name!r} does not apply to {word} features; "
            f"valid for {word} features: {valid}"
        )
    return found
