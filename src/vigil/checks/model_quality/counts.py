"""Metrics from counts: ratios with zero denominators, F-beta, the weighted multiclass figures.

Zero denominators (no predicted positives, no actual positives...) give ``0.0``, as
scikit-learn with ``zero_division=0`` and Spark's MLlib.

>>> div(1, 0), fbeta(tp=2, fn=1, fp=1, beta=1.0)
(0.0, 0.6666666666666666)
>>> weighted_from_confusion(np.array([[1, 0], [1, 1]]))["accuracy"]
0.6666666666666666
"""

from __future__ import annotations

import numpy as np

from vigil.checks.model_quality.keys import BETAS

__all__ = ["div", "fbeta", "weighted_from_confusion"]


def div(num: float, den: float) -> float:
    """``num / den``, 0.0 when ``den`` is 0."""
    return float(num) / float(den) if den else 0.0


def fbeta(tp: float, fn: float, fp: float, beta: float) -> float:
    """The F-beta score of binary counts."""
    b2 = beta * beta
    return div((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)


def weighted_from_confusion(cm: np.ndarray) -> dict[str, float]:
    """Accuracy and support-weighted recall, precision, F-beta of a confusion matrix (actual
    -> predicted), as scikit-learn's ``average="weighted"``."""
    cm = cm.astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    tp = np.diag(cm)
    total = support.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(support > 0, tp / support, 0.0)
        precision = np.where(predicted > 0, tp / predicted, 0.0)
    fn = support - tp
    fp = predicted - tp
    out = {
        "accuracy": div(tp.sum(), total),
        "weighted_recall": div(float(recall @ support), total),
        "weighted_precision": div(float(precision @ support), total),
    }
    for name, beta in BETAS.items():
        b2 = beta * beta
        den = (1 + b2) * tp + b2 * fn + fp
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(den > 0, (1 + b2) * tp / den, 0.0)
        out["weighted_" + name] = div(float(f @ support), total)
    return out
