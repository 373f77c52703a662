"""Per-record anomaly detection: an outlier model fitted on training data at baseline time,
stored beside the baseline in portable JSON (``anomaly_model.json``), scoring every record of
each analysed window (``anomalies.json``, the ``anomaly_share`` metric, the ``anomaly_check``
violation).

Modules: :mod:`~vigil.checks.anomaly.encoding` (columns into a matrix: imputation, frequency
encoding), :mod:`~vigil.checks.anomaly.forest` (the Isolation Forest's portable form and NumPy
scorer), :mod:`~vigil.checks.anomaly.distance` (Mahalanobis, robust z-score),
:mod:`~vigil.checks.anomaly.model` (:class:`AnomalyModel`, :func:`fit_anomaly_model`, the
threshold, contributions) and :mod:`~vigil.checks.anomaly.scan` (:class:`AnomalyScan`,
:class:`AnomalyReport`).

The options and file names (:mod:`~vigil.checks.anomaly.options`) load with the package; the
models and the scan load on first use of their names, so a run without an outlier model does
not build them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from vigil.checks.anomaly.options import (
    ANOMALIES_FILE,
    ANOMALY_CHECK,
    ANOMALY_MODEL_FILE,
    DEFAULT_CONTAMINATION,
    DEFAULT_TOP,
    METHODS,
    AnomalyOptions,
)

if TYPE_CHECKING:
    from vigil.checks.anomaly.model import AnomalyModel, fit_anomaly_model
    from vigil.checks.anomaly.scan import AnomalyReport, AnomalyScan

_LAZY = {
    "AnomalyModel": "model",
    "fit_anomaly_model": "model",
    "AnomalyReport": "scan",
    "AnomalyScan": "scan",
}

__all__ = [
    "ANOMALIES_FILE",
    "ANOMALY_CHECK",
    "ANOMALY_MODEL_FILE",
    "DEFAULT_CONTAMINATION",
    "DEFAULT_TOP",
    "METHODS",
    "AnomalyModel",
    "AnomalyOptions",
    "AnomalyReport",
    "AnomalyScan",
    "fit_anomaly_model",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"vigil.checks.anomaly.{module}"), name)
    globals()[name] = value
    return value
