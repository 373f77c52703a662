"""ROC and precision-recall curves and the ROC AUC of a binary classifier.

``auc`` with a single class in the window is undefined: ``nan`` (written ``"NaN"``), never a
crash; the curves are then empty. Curves longer than a limit are thinned evenly, end points
kept.

>>> roc, pr, area = curves(np.array([False, False, True, True]), np.array([0.1, 0.6, 0.4, 0.9]),
...                        limit=None)
>>> area, roc["false_positive_rates"]
(0.75, [0.0, 0.0, 0.5, 0.5, 1.0])
>>> curves(np.array([True, True]), np.array([0.1, 0.6]), limit=None)[2]
nan
"""

from __future__ import annotations

import math

import numpy as np

from vigil.checks.model_quality.sklearn_metrics import sklearn_metrics

__all__ = ["MAX_CURVE_POINTS", "curves", "roc_auc", "thin"]

#: the default limit of points kept per curve
MAX_CURVE_POINTS = 1000


def roc_auc(t: np.ndarray, s: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The area under the ROC curve of boolean truth ``t`` and scores ``s`` (NaN with one
    class); ``weights``: the rows each entry stands for."""
    if t.all() or not t.any():
        return math.nan
    m = sklearn_metrics()
    fpr, tpr, _ = m.roc_curve(t, s, sample_weight=weights)
    return float(m.auc(fpr, tpr))


def thin(*curves: np.ndarray, limit: int | None) -> list[list[float]]:
    """The curves (aligned arrays) as lists, thinned evenly to at most ``limit`` points."""
    n = len(curves[0])
    if limit is not None and n > limit:
        idx = np.unique(np.linspace(0, n - 1, max(limit, 2)).round().astype(np.int64))
        curves = tuple(c[idx] for c in curves)
    return [c.astype(np.float64).tolist() for c in curves]


def curves(
    t: np.ndarray, s: np.ndarray, limit: int | None, weights: np.ndarray | None = None
) -> tuple[dict[str, list[float]], dict[str, list[float]], float]:
    """ROC curve, PR curve (recall ascending) and ROC AUC (from the unthinned curve);
    ``weights``: the rows each entry stands for (integer counts give the unweighted curves
    of the rows themselves)."""
    if t.all() or not t.any():
        return ({"false_positive_rates": [], "true_positive_rates": []},
                {"precisions": [], "recalls": []}, math.nan)
    m = sklearn_metrics()
    fpr, tpr, _ = m.roc_curve(t, s, sample_weight=weights)
    area = float(m.auc(fpr, tpr))
    precision, recall, _ = m.precision_recall_curve(
        t, s, sample_weight=weights, drop_intermediate=True
    )
    fprs, tprs = thin(fpr, tpr, limit=limit)
    precs, recs = thin(precision[::-1], recall[::-1], limit=limit)
    return ({"false_positive_rates": fprs, "true_positive_rates": tprs},
            {"precisions": precs, "recalls": recs}, area)
