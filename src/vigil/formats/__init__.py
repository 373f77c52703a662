"""SageMaker Model Monitor artifacts as typed models, read and written byte-compatibly.

The names below load with their module on first use: a baseline needs the statistics and
constraints models, not the capture records' (~15 ms of pydantic model building).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vigil.formats.capture import CaptureRecord, GroundTruthRecord
    from vigil.formats.constraints import Constraints, FeatureConstraints, MonitoringConfig
    from vigil.formats.statistics import FeatureStatistics, Statistics
    from vigil.formats.violations import ConstraintViolations, Violation

_MODULES = {
    "CaptureRecord": "capture",
    "GroundTruthRecord": "capture",
    "Constraints": "constraints",
    "FeatureConstraints": "constraints",
    "MonitoringConfig": "constraints",
    "FeatureStatistics": "statistics",
    "Statistics": "statistics",
    "ConstraintViolations": "violations",
    "Violation": "violations",
}

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


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"vigil.formats.{module}"), name)
    globals()[name] = value
    return value
