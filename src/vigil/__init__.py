"""Vigil: self-hosted model monitoring, compatible with SageMaker Model Monitor's artifacts.

>>> import pyarrow as pa, vigil
>>> base = vigil.suggest_baseline(pa.table({"x": [1.0, 2.0, 3.0, 4.0]}))
>>> vigil.analyze(pa.table({"x": [1.5, 2.5, 3.5]}), base).violations
[]
"""

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
from vigil.monitor.analysis import Analysis, analyze
from vigil.monitor.baseline import Baseline, suggest_baseline
from vigil.profile.dataset import DatasetProfile
from vigil.profile.kll import KLLSketch

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "Baseline",
    "BaselineMismatchError",
    "CaptureRecord",
    "ConfigError",
    "ConstraintViolations",
    "Constraints",
    "DatasetProfile",
    "DriftResult",
    "EmptyInputError",
    "FormatError",
    "GroundTruthRecord",
    "InputError",
    "KLLSketch",
    "Statistics",
    "VigilError",
    "Violation",
    "__version__",
    "analyze",
    "suggest_baseline",
]
