"""The scalar metrics of a binary classifier from its confusion counts.

>>> out, cm = binary_scalars(np.array([False, False, True, True]),
...                          np.array([False, True, False, True]), None)
>>> out["accuracy"], out["f1"], cm.tolist()
(0.5, 0.5, [[1, 1], [1, 1]])
"""

from __future__ import annotations

import math

import numpy as np

from vigil.checks.model_quality.best_constant import binary_best_constant
from vigil.checks.model_quality.counts import div, fbeta
from vigil.checks.model_quality.curves import roc_auc
from vigil.checks.model_quality.keys import BETAS

__all__ = ["binary_scalars"]


def binary_scalars(
    t: np.ndarray,
    p: np.ndarray,
    s: np.ndarray | None,
    auc: bool = True,
    weights: np.ndarray | None = None,
) -> tuple[dict[str, float], np.ndarray]:
    """Scalar binary metrics of boolean truth ``t``, predictions ``p`` and scores ``s`` (the
    predictions when None), and the confusion matrix ``[[tn, fp], [fn, tp]]``; ``weights``:
    how many rows each entry stands for (distinct rows with counts, as the Spark engine
    merges them)."""
    tn, fp, fn, tp = (float(c) for c in np.bincount(t.astype(np.int8) * 2 + p.astype(np.int8),
                                                     weights=weights, minlength=4))
    n = tn + fp + fn + tp
    out: dict[str, float] = {
        "recall": div(tp, tp + fn),
        "precision": div(tp, tp + fp),
        "accuracy": div(tp + tn, n),
        "true_positive_rate": div(tp, tp + fn),
        "true_negative_rate": div(tn, tn + fp),
        "false_positive_rate": div(fp, fp + tn),
        "false_negative_rate": div(fn, fn + tp),
        "auc": roc_auc(t, p if s is None else s, weights) if auc else math.nan,
    }
    for name, beta in BETAS.items():
        out[name] = fbeta(tp, fn, fp, beta)
    out.update(binary_best_constant(tp + fn, n))
    cm = np.array([[tn, fp], [fn, tp]], dtype=np.int64)
    return out, cm
