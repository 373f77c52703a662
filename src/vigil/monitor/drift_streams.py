"""The per-record streams a model-quality execution feeds its concept-drift detectors.

``error``: 0/1 errors for a classifier (a score at or above the threshold predicts the
positive class), the absolute error for a regression model; ``score``: the positive-class
score (or the predicted value), when there is one. Both in the order of the table given
(inference time).

>>> import pyarrow as pa
>>> t = pa.table({"label": [1, 0, 1], "probability": [0.9, 0.7, 0.2]})
>>> s = drift_streams(t, "BinaryClassification", None, "probability", 0.5, None)
>>> s["error"].tolist(), s["score"].tolist()
([0.0, 1.0, 1.0], [0.9, 0.7, 0.2])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from vigil.capture.ground_truth import LABEL_COLUMN

__all__ = ["drift_streams", "same_label"]


def drift_streams(
    table: pa.Table,
    problem_type: str,
    prediction: str | None,
    probability: str | None,
    threshold: float,
    positive: Any,
) -> dict[str, np.ndarray]:
    """The per-record error stream (0/1 errors, or absolute errors for regression) and the
    score stream, in the table's order."""
    label = np.asarray(table.column(LABEL_COLUMN).to_pylist(), dtype=object)
    if problem_type == "Regression":
        pred = np.asarray(table.column(prediction).to_pylist(), dtype=float)
        return {"error": np.abs(pred - label.astype(float)), "score": pred}
    if prediction is not None:
        predicted = list(table.column(prediction).to_pylist())
    else:
        scores = np.asarray(table.column(probability).to_pylist(), dtype=float)
        pos = 1 if positive is None else positive
        predicted = [pos if s >= threshold else None for s in scores]
    errors = np.array(
        [0.0 if same_label(p, y, positive) else 1.0 for p, y in zip(predicted, label)]
    )
    streams = {"error": errors}
    if probability is not None:
        streams["score"] = np.asarray(table.column(probability).to_pylist(), dtype=float)
    return streams


def same_label(predicted: Any, actual: Any, positive: Any) -> bool:
    """Whether a prediction equals a label (None: "not the positive class").

    >>> same_label("1", 1.0, None), same_label(None, 0, None), same_label("a", "b", "a")
    (True, True, False)
    """
    if predicted is None:
        return not same_label(1 if positive is None else positive, actual, positive)
    if str(predicted) == str(actual):
        return True
    try:
        return float(predicted) == float(actual)
    except (TypeError, ValueError):
        return False
