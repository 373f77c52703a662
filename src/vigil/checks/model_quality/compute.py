"""SageMaker's model-quality metrics of one data set, per problem type, with the subsample
deviations (:func:`compute_metrics`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vigil.checks.model_quality.binary import binary_scalars
from vigil.checks.model_quality.curves import MAX_CURVE_POINTS, curves
from vigil.checks.model_quality.deviation import subsample_std
from vigil.checks.model_quality.inputs import positive_mask, prepare
from vigil.checks.model_quality.keys import (
    BINARY_METRICS,
    MULTICLASS_METRICS,
    REGRESSION_METRICS,
    normalize_problem_type,
)
from vigil.checks.model_quality.multiclass import encode, label_key, multiclass_scalars
from vigil.checks.model_quality.regression import regression_scalars
from vigil.checks.model_quality.result import ModelQualityResult
from vigil.errors import ConfigError, EmptyInputError, InputError

__all__ = ["compute_metrics"]


def compute_metrics(
    problem_type: str,
    y_true: Any,
    y_pred: Any = None,
    y_score: Any = None,
    *,
    positive_label: Any = 1,
    probability_threshold: float = 0.5,
    labels: Sequence[Any] | None = None,
    seed: int = 0,
    standard_deviation: bool = True,
    max_curve_points: int | None = MAX_CURVE_POINTS,
) -> ModelQualityResult:
    """SageMaker's model-quality metrics of one data set (see :mod:`vigil.checks.model_quality`
    for the definitions).

    ``y_true`` are the ground-truth labels (values for regression), ``y_pred`` the predicted
    labels (values), ``y_score`` the positive-class probability (binary only; predictions are
    derived from it at ``probability_threshold`` when ``y_pred`` is None). ``labels`` fixes the
    multiclass label order (rows with other labels are skipped and counted). Curves longer than
    ``max_curve_points`` are thinned evenly (end points kept); None keeps every point.
    ``standard_deviation=False`` skips the subsamples (every deviation is then ``"NaN"``).

    >>> r = compute_metrics("Regression", [1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    >>> r["mae"], r["mse"], r["r2"], r.metrics["mae"]["standard_deviation"]
    (0.3333333333333333, 0.3333333333333333, 0.5, 'NaN')
    >>> compute_metrics("MulticlassClassification", ["a", "b", "b"], ["a", "b", "a"])["accuracy"]
    0.6666666666666666
    """
    ptype = normalize_problem_type(problem_type)
    if ptype == "BinaryClassification" and y_pred is None and y_score is None:
        raise InputError("binary classification needs predicted labels or scores; got neither")
    if ptype != "BinaryClassification" and y_pred is None:
        raise InputError(f"{ptype} needs predicted values (y_pred); got none")
    if max_curve_points is not None and max_curve_points < 2:
        raise ConfigError(f"max_curve_points {max_curve_points} is too small; expected >= 2")
    t, p, s, skipped = prepare(ptype, y_true, y_pred, None if ptype != "BinaryClassification"
                               else y_score)
    structured: dict[str, Any] = {}
    if ptype == "Regression":
        assert p is not None

        def scalars(mask: np.ndarray | None) -> dict[str, float]:
            return regression_scalars(t if mask is None else t[mask],
                                      p if mask is None else p[mask])

        n = len(t)
    elif ptype == "BinaryClassification":
        tb = positive_mask(t, positive_label)
        if p is None:
            assert s is not None
            pb = s >= probability_threshold
        else:
            pb = positive_mask(p, positive_label)
        full, cm = binary_scalars(tb, pb, s, auc=False)
        structured["confusion_matrix"] = {
            "0": {"0": int(cm[0, 0]), "1": int(cm[0, 1])},
            "1": {"0": int(cm[1, 0]), "1": int(cm[1, 1])},
        }
        roc, pr, full["auc"] = curves(tb, pb.astype(np.float64) if s is None else s,
                                      max_curve_points)
        structured["receiver_operating_characteristic_curve"] = roc
        structured["precision_recall_curve"] = pr

        def scalars(mask: np.ndarray | None) -> dict[str, float]:
            if mask is None:
                return full
            return binary_scalars(tb[mask], pb[mask], None if s is None else s[mask])[0]

        n = len(tb)
    else:
        assert p is not None
        tc, pc, vocab, ok = encode(t, p, labels)
        if not ok.all():
            skipped["label not in labels"] = int((~ok).sum())
            tc, pc = tc[ok], pc[ok]
            if len(tc) == 0:
                raise EmptyInputError(
                    f"no rows to evaluate: no ground truth and prediction among labels {vocab}"
                )
        k = len(vocab)
        full, cm = multiclass_scalars(tc, pc, k)
        structured["confusion_matrix"] = {
            label_key(a): {label_key(b): int(cm[i, j]) for j, b in enumerate(vocab)}
            for i, a in enumerate(vocab)
        }

        def scalars(mask: np.ndarray | None) -> dict[str, float]:
            if mask is None:
                return full
            return multiclass_scalars(tc[mask], pc[mask], k)[0]

        n = len(tc)

    values = scalars(None)
    stds = subsample_std(scalars, n, seed) if standard_deviation else {}
    metrics = assemble_metrics(ptype, structured, values, stds)
    return ModelQualityResult(problem_type=ptype, metrics=metrics, item_count=n, skipped=skipped)


def assemble_metrics(
    ptype: str, structured: dict[str, Any], values: dict[str, Any], stds: dict[str, Any]
) -> dict[str, Any]:
    """statistics of one problem type in SageMaker's order: the structured ones (matrices,
    curves) as they are, every scalar as ``{"value", "standard_deviation"}`` ("NaN" where no
    deviation was drawn). Shared by the local path and the Spark engine's merge."""
    order = {"Regression": REGRESSION_METRICS, "BinaryClassification": BINARY_METRICS,
             "MulticlassClassification": MULTICLASS_METRICS}[ptype]  # fmt: skip
    metrics: dict[str, Any] = {}
    for key in order:
        if key in structured:
            metrics[key] = structured[key]
        else:
            metrics[key] = {"value": values[key], "standard_deviation": stds.get(key, "NaN")}
    return metrics
