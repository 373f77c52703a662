"""SageMaker's model-quality metric keys per problem type (defined with the format, in
:mod:`vigil.formats.model_quality`), which are errors, the F-beta scores, and the problem types'
names.

>>> REGRESSION_METRICS
('mae', 'mse', 'rmse', 'r2')
>>> [k for k in MULTICLASS_METRICS if k.endswith(BCC)][:2]
['accuracy_best_constant_classifier', 'weighted_recall_best_constant_classifier']
"""

from __future__ import annotations

from vigil.errors import ConfigError
from vigil.formats.model_quality import (
    BCC,
    BINARY_METRICS,
    MULTICLASS_METRICS,
    PROBLEM_TYPES,
    REGRESSION_METRICS,
)

__all__ = [
    "BCC",
    "BETAS",
    "BINARY_METRICS",
    "ERROR_METRICS",
    "MULTICLASS_METRICS",
    "REGRESSION_METRICS",
    "normalize_problem_type",
]

#: metrics where lower is better: checked with GreaterThanThreshold
ERROR_METRICS = frozenset({"mae", "mse", "rmse", "false_positive_rate", "false_negative_rate"})
#: the F-beta scores SageMaker reports, by key
BETAS = {"f0_5": 0.5, "f1": 1.0, "f2": 2.0}
_ALIASES = {
    "regression": "Regression",
    "binary": "BinaryClassification",
    "binaryclassification": "BinaryClassification",
    "binary_classification": "BinaryClassification",
    "multiclass": "MulticlassClassification",
    "multiclassclassification": "MulticlassClassification",
    "multiclass_classification": "MulticlassClassification",
}


def normalize_problem_type(problem_type: str) -> str:
    """SageMaker's name for a problem type (case-insensitive; ``binary``, ``multiclass`` too).

    >>> normalize_problem_type("binary"), normalize_problem_type("Regression")
    ('BinaryClassification', 'Regression')
    """
    if problem_type in PROBLEM_TYPES:
        return problem_type
    found = _ALIASES.get(str(problem_type).strip().lower())
    if found is None:
        raise ConfigError(
            f"problem type {problem_type!r} is not known; expected one of "
            + ", ".join(PROBLEM_TYPES)
        )
    return found
