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
"""

from vigil.checks.anomaly.model import (
    ANOMALY_MODEL_FILE,
    DEFAULT_CONTAMINATION,
    METHODS,
    AnomalyModel,
    AnomalyOptions,
    fit_anomaly_model,
)
from vigil.checks.anomaly.scan import (
    ANOMALIES_FILE,
    ANOMALY_CHECK,
    DEFAULT_TOP,
    AnomalyReport,
    AnomalyScan,
)

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
