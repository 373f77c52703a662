"""SageMaker Clarify's bias metrics, vectorised over NumPy (the core floor).

:func:`bias_report` computes one stage (pre- or post-training) of Clarify's analysis for every
facet of an :class:`~vigil.formats.clarify_config.AnalysisConfig`; :mod:`.drift` decides bias
drift against a baseline ``analysis.json``.
"""

from vigil.checks.bias.bootstrap import Bootstrap
from vigil.checks.bias.compute import compute_analysis
from vigil.checks.bias.data import from_arrow, to_bias_data
from vigil.checks.bias.drift import BiasDrift, bias_drift_check, drift_violations, read_violations
from vigil.checks.bias.errors import BiasReportError
from vigil.checks.bias.registry import IDEAL, POST_TRAINING, PRE_TRAINING
from vigil.checks.bias.report import BiasData, bias_report, collapse_labels, metric_names
from vigil.checks.bias.results import FacetValueResult, MetricResult, StageReport

__all__ = [
    "IDEAL",
    "POST_TRAINING",
    "PRE_TRAINING",
    "BiasData",
    "BiasDrift",
    "BiasReportError",
    "Bootstrap",
    "FacetValueResult",
    "MetricResult",
    "StageReport",
    "bias_drift_check",
    "bias_report",
    "collapse_labels",
    "compute_analysis",
    "drift_violations",
    "from_arrow",
    "metric_names",
    "read_violations",
    "to_bias_data",
]
