"""Per-feature drift between a baseline distribution and a current (window) distribution.

Methods (names as users write them; every name is also accepted case-insensitively), one module
each under :mod:`vigil.checks.drift.methods`, every one registered in
:mod:`vigil.checks.drift.registry` with its column kinds, default threshold and decision rule:

SageMaker (Deequ 2.0) methods
    ``Simple`` / ``Robust`` (numeric), ``LInfinity`` / ``ChiSquared`` (categorical).
Evidently-style methods
    ``ks``, ``psi``, ``jensen_shannon``, ``wasserstein``, ``hellinger``, ``kl_div``,
    ``chi_squared``, ``z_test`` and ``auto`` (Evidently's size-aware default, resolved to one
    of them).

Decision rules: SageMaker distances drift when ``value > threshold``, Evidently-style distances
when ``value >= threshold`` (as Evidently), every p-value method when ``p < threshold``. A side
with no data (total weight 0) gives ``value = NaN`` and ``drifted = False``; so does
``ChiSquared`` when fewer than 2 buckets remain after regrouping (``ChiSquared`` follows Deequ:
categories absent from the baseline are ignored; ``LInfinity`` sees them). ``auto`` compares a
numeric column with at most 5 distinct values as categories (one per value).

Layout: :mod:`~vigil.checks.drift.distributions` (the two sides), ``registry`` (the record and
the registry), ``binning`` (bins the methods share), ``methods/`` (one module per method),
``feature`` (:func:`compute_drift`, :class:`DriftResult`) and ``dataset`` (corrections and the
drift share).
"""

from vigil.checks.drift import methods  # importing it registers every method
from vigil.checks.drift.dataset import CORRECTIONS, correct_pvalues, dataset_drift
from vigil.checks.drift.distributions import (
    CategoricalDistribution,
    Distribution,
    NumericDistribution,
)
from vigil.checks.drift.feature import DriftResult, compute_drift
from vigil.checks.drift.registry import (
    ColumnKind,
    DriftMethod,
    drift_methods,
    get_method,
    method_names,
    register,
)

__all__ = [
    "CATEGORICAL_METHODS",
    "CORRECTIONS",
    "DEFAULT_THRESHOLDS",
    "NUMERIC_METHODS",
    "CategoricalDistribution",
    "ColumnKind",
    "Distribution",
    "DriftMethod",
    "DriftResult",
    "NumericDistribution",
    "compute_drift",
    "correct_pvalues",
    "dataset_drift",
    "drift_methods",
    "get_method",
    "method_names",
    "methods",
    "register",
]

# Snapshots of the registry taken at import, for the callers that want plain constants; code
# that should see a method registered later reads the registry (method_names, get_method).
NUMERIC_METHODS: tuple[str, ...] = method_names("numerical")
CATEGORICAL_METHODS: tuple[str, ...] = method_names("categorical")
DEFAULT_THRESHOLDS: dict[str, float] = {
    m.name: m.default_threshold for m in drift_methods() if m.default_threshold is not None
}
