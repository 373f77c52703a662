"""Vigil: self-hosted model monitoring, compatible with SageMaker Model Monitor's artifacts.

>>> import pyarrow as pa, vigil
>>> base = vigil.suggest_baseline(pa.table({"x": [1.0, 2.0, 3.0, 4.0]}))
>>> vigil.analyze(pa.table({"x": [1.5, 2.5, 3.5]}), base).violations
[]

Every public name loads on first use (PEP 562): ``import vigil`` imports nothing but this
module and the version, so ``vigil --help`` and scripts that use one name pay only for what
they touch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from vigil._version import __version__

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads each name
    from vigil.analysis.baseline import Baseline, suggest_baseline
    from vigil.analysis.bias import bias
    from vigil.analysis.data_quality import Analysis, analyze
    from vigil.analysis.model_quality import analyze_model_quality, suggest_model_quality_baseline
    from vigil.app.explain import explain
    from vigil.app.training_sdk import training_job
    from vigil.capture.ground_truth import write_ground_truth
    from vigil.capture.middleware import CaptureMiddleware, WSGICaptureMiddleware
    from vigil.capture.publisher import ServingTelemetry
    from vigil.capture.telemetry import TelemetryMiddleware, WSGITelemetryMiddleware
    from vigil.capture.window import read_window
    from vigil.capture.writer import CaptureWriter
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
    from vigil.metrics.datum import MetricDatum
    from vigil.profile.dataset import DatasetProfile
    from vigil.profile.kll import KLLSketch
    from vigil.server.app import create_app
    from vigil.store.db import Database
    from vigil.store.metrics import MetricStore
    from vigil.store.settings import Settings

# Each public name and the module that defines it.
_LAZY = {
    "Baseline": "vigil.analysis.baseline",
    "suggest_baseline": "vigil.analysis.baseline",
    "bias": "vigil.analysis.bias",
    "Analysis": "vigil.analysis.data_quality",
    "analyze": "vigil.analysis.data_quality",
    "suggest_model_quality_baseline": "vigil.analysis.model_quality",
    "analyze_model_quality": "vigil.analysis.model_quality",
    "DriftResult": "vigil.checks.drift",
    "explain": "vigil.app.explain",
    "training_job": "vigil.app.training_sdk",
    "BaselineMismatchError": "vigil.errors",
    "ConfigError": "vigil.errors",
    "EmptyInputError": "vigil.errors",
    "FormatError": "vigil.errors",
    "InputError": "vigil.errors",
    "VigilError": "vigil.errors",
    "CaptureRecord": "vigil.formats",
    "Constraints": "vigil.formats",
    "ConstraintViolations": "vigil.formats",
    "GroundTruthRecord": "vigil.formats",
    "Statistics": "vigil.formats",
    "Violation": "vigil.formats",
    "DatasetProfile": "vigil.profile.dataset",
    "KLLSketch": "vigil.profile.kll",
    "CaptureWriter": "vigil.capture.writer",
    "CaptureMiddleware": "vigil.capture.middleware",
    "WSGICaptureMiddleware": "vigil.capture.middleware",
    "ServingTelemetry": "vigil.capture.publisher",
    "TelemetryMiddleware": "vigil.capture.telemetry",
    "WSGITelemetryMiddleware": "vigil.capture.telemetry",
    "read_window": "vigil.capture.window",
    "write_ground_truth": "vigil.capture.ground_truth",
    "Database": "vigil.store.db",
    "MetricDatum": "vigil.metrics.datum",
    "MetricStore": "vigil.store.metrics",
    "Settings": "vigil.store.settings",
    "create_app": "vigil.server.app",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vigil' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups find it without coming here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
    "ServingTelemetry",
    "Settings",
    "Statistics",
    "TelemetryMiddleware",
    "VigilError",
    "Violation",
    "WSGICaptureMiddleware",
    "WSGITelemetryMiddleware",
    "__version__",
    "analyze",
    "analyze_model_quality",
    "bias",
    "create_app",
    "explain",
    "read_window",
    "suggest_baseline",
    "suggest_model_quality_baseline",
    "training_job",
    "write_ground_truth",
]
