"""SHAP explanations as SageMaker Clarify computes them: the model's output (probability, or
log-odds with ``use_logit``) explained against baseline rows, by Kernel SHAP or by an exact
algorithm where one gives the same values.

Modules: ``model`` (the callable the core explains, output selection, :class:`ModelError`),
``data`` (records to a feature matrix), ``baseline`` (baseline rows or K-means centres),
``kernel`` (Kernel SHAP), ``exact`` (linear and tree SHAP, where exact), ``budget`` (progress
and the time budget), ``run`` (one job: :func:`explain_matrix`), ``output`` (Clarify's files).
"""

from vigil.analysis.explain.budget import Budget, Progress, TimeBudgetError
from vigil.analysis.explain.data import read_features
from vigil.analysis.explain.model import ExplainedOutputs, Model, ModelError, Predict
from vigil.analysis.explain.output import LOCAL_CSV, local_csv, save_explanation
from vigil.analysis.explain.run import (
    Algorithm,
    Explanation,
    LabelExplanation,
    aggregate,
    explain_matrix,
)

__all__ = [
    "LOCAL_CSV",
    "Algorithm",
    "Budget",
    "ExplainedOutputs",
    "Explanation",
    "LabelExplanation",
    "Model",
    "ModelError",
    "Predict",
    "Progress",
    "TimeBudgetError",
    "aggregate",
    "explain_matrix",
    "local_csv",
    "read_features",
    "save_explanation",
]
