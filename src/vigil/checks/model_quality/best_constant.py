"""The best constant classifier's figures (``*_best_constant_classifier``).

Binary: the classifier that always predicts the positive label. This is what SageMaker reports
(its documented sample, 1 positive in 4 rows, has ``recall_best_constant_classifier`` 1.0 and
``precision``/``accuracy`` 0.25) and it is the constant prediction that maximises recall and
every F-beta score (always predicting the negative label scores 0 on all of them).

Multiclass: the classifier that always predicts the majority class of the ground truth (the
first in label order on a tie); it maximises accuracy and every weighted metric among constant
predictors. (SageMaker's documented multiclass sample reports the minority class's figures.)

>>> b = binary_best_constant(positives=1, n=4)
>>> b["recall_best_constant_classifier"], b["precision_best_constant_classifier"]
(1.0, 0.25)
>>> multiclass_best_constant(np.array([[2, 0], [1, 1]]))["accuracy_best_constant_classifier"]
0.5
"""

from __future__ import annotations

import numpy as np

from vigil.checks.model_quality.counts import div, fbeta, weighted_from_confusion
from vigil.checks.model_quality.keys import BCC, BETAS

__all__ = ["binary_best_constant", "multiclass_best_constant"]


def binary_best_constant(positives: float, n: float) -> dict[str, float]:
    """The figures of always predicting the positive label, ``positives`` of ``n`` rows being
    positive."""
    out = {
        "recall" + BCC: 1.0 if positives else 0.0,
        "precision" + BCC: div(positives, n),
        "accuracy" + BCC: div(positives, n),
    }
    for name, beta in BETAS.items():
        out[name + BCC] = fbeta(positives, 0.0, n - positives, beta)
    return out


def multiclass_best_constant(cm: np.ndarray) -> dict[str, float]:
    """The weighted figures of always predicting the majority class of confusion matrix
    ``cm`` (actual -> predicted)."""
    support = cm.sum(axis=1)
    constant = np.zeros_like(cm)
    constant[:, int(np.argmax(support))] = support  # always the majority class
    return {name + BCC: value for name, value in weighted_from_confusion(constant).items()}
