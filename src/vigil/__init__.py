"""Vigil: self-hosted model monitoring, compatible with SageMaker Model Monitor's artifacts.

>>> import pyarrow as pa, vigil
>>> base = vigil.suggest_baseline(pa.table({"x": [1.0, 2.0, 3.0, 4.0]}))
>>> vigil.analyze(pa.table({"x": [1.5, 2.5, 3.5]}), base).violations
[]
"""

from vigil.analysis.baseline import Baseline, suggest_baseline
from vigil.analysis.data_quality import Analysis, analyze
from vigil.checks.drift import DriftResult
from vigil.errors import (
    BaselineMismatchError,
    ConfigError,
    EmptyInputError,
    FormatError,
    InputError,
    VigilError,
)
from vigil.formats import (
    CaptureRecord,
    Constraints,
    ConstraintViolations,
    GroundTruthRecord,
    Statistics,
    Violation,
)
from vigil.profile.dataset import DatasetProfile
from vigil.profile.kll import KLLSketch

__version__ = "0.1.0"

# Runtime names load on first use, so ``import vigil`` stays light for analysis-only users.
_LAZY = {
    "CaptureWriter": "vigil.capture.writer",
    "CaptureMiddleware": "vigil.capture.middleware",
    "WSGICaptureMiddleware": "vigil.capture.middleware",
    "read_window": "vigil.capture.window",
    "write_ground_truth": "vigil.capture.ground_truth",
    "suggest_model_quality_baseline": "vigil.analysis.model_quality",
    "analyze_model_quality": "vigil.analysis.model_quality",
    "Database": "vigil.store.db",
    "MetricDatum": "vigil.store.datum",
    "MetricStore": "vigil.store.metrics",
    "Settings": "vigil.store.settings",
    "create_app": "vigil.server.app",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vigil' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

__all__ = [
    "Analysis",
    "Baseline",
    "BaselineMismatchError",
    "CaptureMiddleware",
    "CaptureRecord",
    "CaptureWriter",
    "ConfigError",
    "ConstraintViolations",
    "Constraints",
    "Database",
    "DatasetProfile",
    "DriftResult",
    "EmptyInputError",
    "FormatError",
    "GroundTruthRecord",
    "InputError",
    "KLLSketch",
    "MetricDatum",
    "MetricStore",
    "Settings",
    "Statistics",
    "VigilError",
    "Violation",
    "WSGICaptureMiddleware",
    "__version__",
    "analyze",
    "analyze_model_quality",
    "create_app",
    "read_window",
    "suggest_baseline",
    "suggest_model_quality_baseline",
    "write_ground_truth",
]
