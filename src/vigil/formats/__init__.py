"""SageMaker Model Monitor artifacts as typed models, read and written byte-compatibly."""

from vigil.formats.capture import CaptureRecord, GroundTruthRecord
from vigil.formats.constraints import Constraints, FeatureConstraints, MonitoringConfig
from vigil.formats.statistics import FeatureStatistics, Statistics
from vigil.formats.violations import ConstraintViolations, Violation

__all__ = [
    "CaptureRecord",
    "ConstraintViolations",
    "Constraints",
    "FeatureConstraints",
    "FeatureStatistics",
    "GroundTruthRecord",
    "MonitoringConfig",
    "Statistics",
    "Violation",
]
