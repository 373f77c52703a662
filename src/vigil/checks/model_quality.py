"""Model-quality metrics, suggested constraints and constraint checks (SageMaker's metric set).

Metrics per problem type (keys and order as SageMaker writes them):

``Regression``
    ``mae``, ``mse``, ``rmse``, ``r2`` (scikit-learn's ``mean_absolute_error``,
    ``mean_squared_error``, its square root, ``r2_score``).
``BinaryClassification``
    ``confusion_matrix`` (actual -> predicted, ``"1"`` the positive label), ``recall``,
    ``precision``, ``accuracy``, the three ``*_best_constant_classifier`` forms,
    ``true_positive_rate``, ``true_negative_rate``, ``false_positive_rate``,
    ``false_negative_rate``, ``receiver_operating_characteristic_curve``,
    ``precision_recall_curve``, ``auc`` (ROC AUC), ``f0_5``, ``f1``, ``f2`` and their
    ``*_best_constant_classifier`` forms.
``MulticlassClassification``
    ``confusion_matrix`` (actual -> predicted), ``accuracy``, ``weighted_recall``,
    ``weighted_precision``, ``weighted_f0_5``, ``weighted_f1``, ``weighted_f2`` (per-class
    figures averaged with weights = the class's share of the ground truth, as scikit-learn's
    ``average="weighted"``) and the ``*_best_constant_classifier`` form of each.

Definitions chosen:

* **Best constant classifier.** Binary: the classifier that always predicts the positive
  label. This is what SageMaker reports (its documented sample, 1 positive in 4 rows, has
  ``recall_best_constant_classifier`` 1.0 and ``precision``/``accuracy`` 0.25) and it is the
  constant prediction that maximises recall and every F-beta score (always predicting the
  negative label scores 0 on all of them). Multiclass: the classifier that always predicts the
  majority class of the ground truth (the first in label order on a tie); it maximises accuracy
  and every weighted metric among constant predictors, whose figures are then ``p``,
  ``p``, ``p**2`` and ``p * (1 + b**2) * p / (b**2 + p)`` for the class share ``p``.
  (SageMaker's documented multiclass sample reports the minority class's figures instead.)
* **Zero denominators** (no predicted positives, no actual positives...) give ``0.0``, as
  scikit-learn with ``zero_division=0`` and Spark's MLlib. ``auc`` with a single class in the
  window is undefined: ``nan`` (written ``"NaN"``), never a crash; so are the curves (empty).
* **Scores.** Without scores (``y_score=None``) binary predictions are the labels given and the
  ROC figures use the 0/1 predictions as scores; with scores and no predictions, a row is
  positive when ``score >= probability_threshold``.
* **Standard deviation.** With at least ``MIN_ROWS_FOR_STD`` (200) rows: five subsamples, each
  row kept with probability 0.8 (Bernoulli sampling, as Spark's ``sample(false, 0.8)``), drawn
  from ``numpy.random.default_rng(seed)``; the metric on each; their population standard
  deviation (``numpy.std``, ``ddof=0``). Fewer rows: the string ``"NaN"``, as SageMaker writes.
* **Rows skipped.** A row with a missing label, prediction or (when given) a missing or NaN
  score is skipped and counted per reason in :attr:`ModelQualityResult.skipped`.

>>> r = compute_metrics("BinaryClassification", [0, 0, 1, 1], None, [0.1, 0.6, 0.4, 0.9])
>>> r["accuracy"], r["recall"], r["auc"], r["precision_best_constant_classifier"]
(0.5, 0.5, 0.75, 0.5)
>>> r.metrics["confusion_matrix"]
{'0': {'0': 1, '1': 1}, '1': {'0': 1, '1': 1}}
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from vigil.errors import BaselineMismatchError, ConfigError, EmptyInputError, InputError
from vigil.formats.jackson import java_double
from vigil.formats.model_quality import (
    CONSTRAINTS_KEY,
    METRICS_KEY,
    PROBLEM_TYPES,
    MetricConstraint,
    MetricValue,
    ModelQualityConstraints,
    ModelQualityDataset,
    ModelQualityStatistics,
    as_float,
)
from vigil.formats.violations import Violation

__all__ = [
    "BINARY_METRICS",
    "ERROR_METRICS",
    "MIN_ROWS_FOR_STD",
    "MULTICLASS_METRICS",
    "REGRESSION_METRICS",
    "ModelQualityResult",
    "check_model_quality",
    "compute_metrics",
    "normalize_problem_type",
    "suggest_model_quality_constraints",
]

log = logging.getLogger(__name__)

MIN_ROWS_FOR_STD = 200
SUBSAMPLES = 5
SUBSAMPLE_FRACTION = 0.8
STD_DDOF = 0
MAX_CURVE_POINTS = 1000

BCC = "_best_constant_classifier"
REGRESSION_METRICS: tuple[str, ...] = ("mae", "mse", "rmse", "r2")
BINARY_METRICS: tuple[str, ...] = (
    "confusion_matrix",
    "recall",
    "precision",
    "accuracy",
    "recall" + BCC,
    "precision" + BCC,
    "accuracy" + BCC,
    "true_positive_rate",
    "true_negative_rate",
    "false_positive_rate",
    "false_negative_rate",
    "receiver_operating_characteristic_curve",
    "precision_recall_curve",
    "auc",
    "f0_5",
    "f1",
    "f2",
    "f0_5" + BCC,
    "f1" + BCC,
    "f2" + BCC,
)
_WEIGHTED = ("accuracy", "weighted_recall", "weighted_precision", "weighted_f0_5",
             "weighted_f1", "weighted_f2")
MULTICLASS_METRICS: tuple[str, ...] = (
    "confusion_matrix", *_WEIGHTED, *(m + BCC for m in _WEIGHTED)
)
#: metrics where lower is better: checked with GreaterThanThreshold
ERROR_METRICS = frozenset({"mae", "mse", "rmse", "false_positive_rate", "false_negative_rate"})
_BETAS = {"f0_5": 0.5, "f1": 1.0, "f2": 2.0}
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


def _sklearn_metrics() -> Any:
    try:
        from sklearn import metrics
    except ImportError:  # pragma: no cover - scikit-learn is installed with vigil
        raise ConfigError(
            "model-quality metrics need scikit-learn; install it with pip install scikit-learn"
        ) from None
    return metrics


@dataclass
class ModelQualityResult:
    """The metrics of one evaluation, in SageMaker's shape, and what was left out.

    ``metrics`` is the statistics section (metric key -> ``{"value", "standard_deviation"}``,
    the confusion matrix, the curves); ``item_count`` the rows evaluated; ``skipped`` the rows
    left out, counted per reason.
    """

    problem_type: str
    metrics: dict[str, Any]
    item_count: int
    skipped: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        """A scalar metric's value (``r["auc"]``), or a structured entry as is."""
        entry = self.metrics[key]
        if isinstance(entry, dict) and "value" in entry:
            return entry["value"]
        return entry

    @property
    def skipped_count(self) -> int:
        """How many rows were skipped, whatever the reason."""
        return sum(self.skipped.values())

    def values(self) -> dict[str, float]:
        """Every scalar metric's value by key (for the metric store)."""
        return {k: v["value"] for k, v in self.metrics.items()
                if isinstance(v, dict) and "value" in v}

    def to_statistics(self, evaluation_time: str | None = None) -> ModelQualityStatistics:
        """The result as a model-quality ``statistics.json``."""
        return ModelQualityStatistics.model_validate({
            "version": 0.0,
            "dataset": ModelQualityDataset(
                item_count=self.item_count, evaluation_time=evaluation_time
            ),
            METRICS_KEY[self.problem_type]: self.metrics,
        })


# ---------------------------------------------------------------------------------------------
# inputs


def _as_array(values: Any, name: str) -> np.ndarray:
    if values is None:
        raise InputError(f"{name}: no values given")
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return np.asarray(values.to_numpy(zero_copy_only=False))
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim == 0 or 1 in arr.shape else arr
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a one-dimensional column, got shape {arr.shape}")
    return arr


def _missing(arr: np.ndarray) -> np.ndarray:
    """True where a value is missing (None, NaN)."""
    if arr.dtype.kind == "f":
        return np.isnan(arr)
    if arr.dtype.kind in "iub":
        return np.zeros(len(arr), dtype=bool)
    if arr.dtype.kind == "O":
        try:
            nulls = pa.array(arr, from_pandas=True).is_null()
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed types
            return np.array([v is None or (isinstance(v, float) and v != v) for v in arr],
                            dtype=bool)
        return np.asarray(nulls.to_numpy(zero_copy_only=False), dtype=bool)
    return np.zeros(len(arr), dtype=bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def positive_mask(values: np.ndarray, positive_label: Any) -> np.ndarray:
    """True where a label equals ``positive_label`` (``"1"`` matches 1 and 1.0 too).

    >>> positive_mask(np.array([0, 1, 1]), "1").tolist(), positive_mask(np.array(["a", "b"]), "b")
    ([False, True, True], array([False,  True]))
    """
    if values.dtype.kind == "b":
        if isinstance(positive_label, str):
            return values == (positive_label.strip().lower() in ("1", "true", "1.0"))
        return values == bool(positive_label)
    if values.dtype.kind in "iuf":
        if isinstance(positive_label, str):
            try:
                positive_label = float(positive_label)
            except ValueError:
                return np.zeros(len(values), dtype=bool)
        return np.asarray(values == positive_label)
    if _is_number(positive_label) or isinstance(positive_label, bool):
        as_text = {str(positive_label), java_double(float(positive_label))}
        if isinstance(positive_label, float) and positive_label.is_integer():
            as_text.add(str(int(positive_label)))
        return np.isin(values.astype(str), list(as_text))
    return np.asarray(values.astype(str) == str(positive_label))


def _prepare(
    problem_type: str, y_true: Any, y_pred: Any, y_score: Any
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, dict[str, int]]:
    t = _as_array(y_true, "ground truth")
    p = None if y_pred is None else _as_array(y_pred, "predictions")
    s = None if y_score is None else _as_array(y_score, "scores")
    for name, other in (("predictions", p), ("scores", s)):
        if other is not None and len(other) != len(t):
            raise InputError(
                f"{name}: {len(other)} values for {len(t)} ground-truth labels; "
                "expected one per row"
            )
    if problem_type == "Regression":
        t = _to_float(t, "ground truth")
        if p is None:
            raise InputError("predictions: none given; regression needs a predicted value per row")
        p = _to_float(p, "predictions")
    if s is not None:
        s = _to_float(s, "scores")
    skipped: dict[str, int] = {}
    keep = np.ones(len(t), dtype=bool)
    checks = [("ground truth missing", t), ("prediction missing", p)]
    checks.append(("score missing or NaN", s))
    for reason, arr in checks:
        if arr is None:
            continue
        bad = _missing(arr) & keep
        count = int(bad.sum())
        if count:
            skipped[reason] = count
            keep &= ~bad
    if not keep.all():
        t = t[keep]
        p = None if p is None else p[keep]
        s = None if s is None else s[keep]
    if len(t) == 0:
        dropped = f" ({', '.join(f'{n} {r}' for r, n in skipped.items())})" if skipped else ""
        raise EmptyInputError(
            f"no rows to evaluate{dropped}: expected at least one row with a ground-truth label"
            + (" and a prediction" if p is not None else "")
            + (" and a score" if s is not None else "")
        )
    return t, p, s, skipped


def _to_float(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.dtype.kind in "iufb":
        return arr.astype(np.float64, copy=False)
    try:
        out = pa.array(arr, from_pandas=True).cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        try:
            return np.array([math.nan if v is None else float(v) for v in arr], dtype=np.float64)
        except (TypeError, ValueError):
            example = next((v for v in arr if not _is_number(v)), arr[0])
            raise InputError(
                f"{name}: value {example!r} is not a number; expected numeric values"
            ) from None
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# metrics from counts


def _div(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def _fbeta(tp: float, fn: float, fp: float, beta: float) -> float:
    b2 = beta * beta
    return _div((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)


def _binary_scalars(
    t: np.ndarray, p: np.ndarray, s: np.ndarray | None, auc: bool = True
) -> tuple[dict[str, float], np.ndarray]:
    """Scalar binary metrics of boolean truth ``t``, predictions ``p`` and scores ``s``."""
    tn, fp, fn, tp = (float(c) for c in np.bincount(t.astype(np.int8) * 2 + p.astype(np.int8),
                                                     minlength=4))
    n = tn + fp + fn + tp
    pos = tp + fn
    out: dict[str, float] = {
        "recall": _div(tp, tp + fn),
        "precision": _div(tp, tp + fp),
        "accuracy": _div(tp + tn, n),
        "recall" + BCC: 1.0 if pos else 0.0,
        "precision" + BCC: _div(pos, n),
        "accuracy" + BCC: _div(pos, n),
        "true_positive_rate": _div(tp, tp + fn),
        "true_negative_rate": _div(tn, tn + fp),
        "false_positive_rate": _div(fp, fp + tn),
        "false_negative_rate": _div(fn, fn + tp),
        "auc": _auc(t, p if s is None else s) if auc else math.nan,
    }
    for name, beta in _BETAS.items():
        out[name] = _fbeta(tp, fn, fp, beta)
    for name, beta in _BETAS.items():
        out[name + BCC] = _fbeta(pos, 0.0, n - pos, beta)
    cm = np.array([[tn, fp], [fn, tp]], dtype=np.int64)
    return out, cm


def _auc(t: np.ndarray, s: np.ndarray) -> float:
    if t.all() or not t.any():
        return math.nan
    m = _sklearn_metrics()
    fpr, tpr, _ = m.roc_curve(t, s)
    return float(m.auc(fpr, tpr))


def _thin(*curves: np.ndarray, limit: int | None) -> list[list[float]]:
    n = len(curves[0])
    if limit is not None and n > limit:
        idx = np.unique(np.linspace(0, n - 1, max(limit, 2)).round().astype(np.int64))
        curves = tuple(c[idx] for c in curves)
    return [c.astype(np.float64).tolist() for c in curves]


def _curves(
    t: np.ndarray, s: np.ndarray, limit: int | None
) -> tuple[dict[str, list[float]], dict[str, list[float]], float]:
    """ROC curve, PR curve (recall ascending) and ROC AUC (from the unthinned curve)."""
    if t.all() or not t.any():
        return ({"false_positive_rates": [], "true_positive_rates": []},
                {"precisions": [], "recalls": []}, math.nan)
    m = _sklearn_metrics()
    fpr, tpr, _ = m.roc_curve(t, s)
    area = float(m.auc(fpr, tpr))
    precision, recall, _ = m.precision_recall_curve(t, s, drop_intermediate=True)
    fprs, tprs = _thin(fpr, tpr, limit=limit)
    precs, recs = _thin(precision[::-1], recall[::-1], limit=limit)
    return ({"false_positive_rates": fprs, "true_positive_rates": tprs},
            {"precisions": precs, "recalls": recs}, area)


def _multiclass_from_cm(cm: np.ndarray) -> dict[str, float]:
    """Accuracy and support-weighted recall, precision, F-beta of a confusion matrix."""
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
        "accuracy": _div(tp.sum(), total),
        "weighted_recall": _div(float(recall @ support), total),
        "weighted_precision": _div(float(precision @ support), total),
    }
    for name, beta in _BETAS.items():
        b2 = beta * beta
        den = (1 + b2) * tp + b2 * fn + fp
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(den > 0, (1 + b2) * tp / den, 0.0)
        out["weighted_" + name] = _div(float(f @ support), total)
    return out


def _multiclass_scalars(t: np.ndarray, p: np.ndarray, k: int) -> tuple[dict[str, float],
                                                                        np.ndarray]:
    cm = np.bincount(t * k + p, minlength=k * k).reshape(k, k)
    out = _multiclass_from_cm(cm)
    support = cm.sum(axis=1)
    constant = np.zeros_like(cm)
    constant[:, int(np.argmax(support))] = support  # always the majority class
    for name, value in _multiclass_from_cm(constant).items():
        out[name + BCC] = value
    return out, cm


def _regression_scalars(t: np.ndarray, p: np.ndarray) -> dict[str, float]:
    m = _sklearn_metrics()
    mse = float(m.mean_squared_error(t, p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r2 = float(m.r2_score(t, p)) if len(t) >= 2 else math.nan
    return {"mae": float(m.mean_absolute_error(t, p)), "mse": mse, "rmse": math.sqrt(mse),
            "r2": r2}


def _encode(t: np.ndarray, p: np.ndarray, labels: Sequence[Any] | None) -> tuple[
        np.ndarray, np.ndarray, list[Any], np.ndarray]:
    """Label codes of truth and predictions, the label list and a mask of rows kept."""
    if (t.dtype.kind in "iufb") != (p.dtype.kind in "iufb") or t.dtype.kind == "O" or (
            p.dtype.kind == "O"):
        t, p = _label_text(t), _label_text(p)
    if labels is None:
        vocab = np.unique(np.concatenate([t, p]))
        tc = np.searchsorted(vocab, t)
        pc = np.searchsorted(vocab, p)
        return tc, pc, vocab.tolist(), np.ones(len(t), dtype=bool)
    given = np.asarray(list(labels))
    if given.dtype.kind != t.dtype.kind and not (given.dtype.kind in "iuf" and t.dtype.kind
                                                 in "iuf"):
        given, t, p = _label_text(given), _label_text(t), _label_text(p)
    order = np.argsort(given, kind="stable")
    ordered = given[order]

    def codes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.clip(np.searchsorted(ordered, a), 0, len(ordered) - 1)
        return order[pos], ordered[pos] == a

    tc, tok = codes(t)
    pc, pok = codes(p)
    return tc, pc, list(labels), tok & pok


def _label_text(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f" and np.all(np.mod(a[np.isfinite(a)], 1) == 0):
        return a.astype(np.int64).astype(str)
    if a.dtype.kind == "O":
        return np.array([_label_str(v) for v in a])
    return a.astype(str)


def _label_str(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (np.floating,)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _key(label: Any) -> str:
    if isinstance(label, float):
        return java_double(label)
    return str(label)


# ---------------------------------------------------------------------------------------------
# public


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
    """SageMaker's model-quality metrics of one data set (see the module's definitions).

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
    t, p, s, skipped = _prepare(ptype, y_true, y_pred, None if ptype != "BinaryClassification"
                                else y_score)
    structured: dict[str, Any] = {}
    if ptype == "Regression":
        assert p is not None

        def scalars(mask: np.ndarray | None) -> dict[str, float]:
            return _regression_scalars(t if mask is None else t[mask],
                                       p if mask is None else p[mask])

        n = len(t)
    elif ptype == "BinaryClassification":
        tb = positive_mask(t, positive_label)
        if p is None:
            assert s is not None
            pb = s >= probability_threshold
        else:
            pb = positive_mask(p, positive_label)
        full, cm = _binary_scalars(tb, pb, s, auc=False)
        structured["confusion_matrix"] = {
            "0": {"0": int(cm[0, 0]), "1": int(cm[0, 1])},
            "1": {"0": int(cm[1, 0]), "1": int(cm[1, 1])},
        }
        roc, pr, full["auc"] = _curves(tb, pb.astype(np.float64) if s is None else s,
                                       max_curve_points)
        structured["receiver_operating_characteristic_curve"] = roc
        structured["precision_recall_curve"] = pr

        def scalars(mask: np.ndarray | None) -> dict[str, float]:
            if mask is None:
                return full
            return _binary_scalars(tb[mask], pb[mask], None if s is None else s[mask])[0]

        n = len(tb)
    else:
        assert p is not None
        tc, pc, vocab, ok = _encode(t, p, labels)
        if not ok.all():
            skipped["label not in labels"] = int((~ok).sum())
            tc, pc = tc[ok], pc[ok]
            if len(tc) == 0:
                raise EmptyInputError(
                    f"no rows to evaluate: no ground truth and prediction among labels {vocab}"
                )
        k = len(vocab)
        full, cm = _multiclass_scalars(tc, pc, k)
        structured["confusion_matrix"] = {
            _key(a): {_key(b): int(cm[i, j]) for j, b in enumerate(vocab)}
            for i, a in enumerate(vocab)
        }

        def scalars(mask: np.ndarray | None) -> dict[str, float]:
            if mask is None:
                return full
            return _multiclass_scalars(tc[mask], pc[mask], k)[0]

        n = len(tc)

    values = scalars(None)
    stds = _subsample_std(scalars, n, seed) if standard_deviation else {}
    order = {"Regression": REGRESSION_METRICS, "BinaryClassification": BINARY_METRICS,
             "MulticlassClassification": MULTICLASS_METRICS}[ptype]
    metrics: dict[str, Any] = {}
    for key in order:
        if key in structured:
            metrics[key] = structured[key]
        else:
            metrics[key] = {"value": values[key], "standard_deviation": stds.get(key, "NaN")}
    return ModelQualityResult(problem_type=ptype, metrics=metrics, item_count=n, skipped=skipped)


def _subsample_std(scalars: Any, n: int, seed: int) -> dict[str, float | str]:
    """Deviation of each metric over five Bernoulli(0.8) subsamples; {} below 200 rows."""
    if n < MIN_ROWS_FOR_STD:
        return {}
    rng = np.random.default_rng(seed)
    runs = [scalars(rng.random(n) < SUBSAMPLE_FRACTION) for _ in range(SUBSAMPLES)]
    out: dict[str, float | str] = {}
    for key in runs[0]:
        vals = np.array([r[key] for r in runs], dtype=np.float64)
        out[key] = float(np.std(vals, ddof=STD_DDOF)) if np.isfinite(vals).all() else "NaN"
    return out


def suggest_model_quality_constraints(
    stats: ModelQualityStatistics | ModelQualityResult,
    tolerance: float = 0.05,
    metrics: Iterable[str] | None = None,
    *,
    std_multiplier: float = 0.0,
) -> ModelQualityConstraints:
    """Suggested constraints from a baseline's metrics, with a relative ``tolerance``.

    Error-like metrics (``mae``, ``mse``, ``rmse``, ``false_positive_rate``,
    ``false_negative_rate``) get ``GreaterThanThreshold`` at ``value + tolerance * |value|``;
    the others ``LessThanThreshold`` at ``value - tolerance * |value|``. ``tolerance=0`` is
    SageMaker's own suggestion (threshold = baseline value), which fires on noise. With
    ``std_multiplier=k`` the margin is at least ``k`` times the metric's subsample standard
    deviation (when it has one), so a window that differs only by sampling noise passes. By default
    every scalar metric except the ``*_best_constant_classifier`` figures (a property of the
    labels, not of the model) is constrained; ``metrics`` names the ones to constrain. A
    metric whose value is NaN gets no constraint.

    >>> r = compute_metrics("Regression", [1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    >>> c = suggest_model_quality_constraints(r, tolerance=0.1, metrics=["mae", "r2"])
    >>> {k: (v.threshold, v.comparison_operator) for k, v in c.constraints.items()}
    {'mae': (0.36666666666666664, 'GreaterThanThreshold'), 'r2': (0.45, 'LessThanThreshold')}
    """
    if not (isinstance(tolerance, (int, float)) and 0 <= tolerance < math.inf):
        raise ConfigError(f"tolerance {tolerance!r} is not valid; expected a number >= 0")
    if isinstance(stats, ModelQualityResult):
        stats = stats.to_statistics()
    if not (isinstance(std_multiplier, (int, float)) and 0 <= std_multiplier < math.inf):
        raise ConfigError(f"std_multiplier {std_multiplier!r} is not valid; expected a number >= 0")
    values = stats.metric_values()
    stds = {k: as_float(v.standard_deviation) for k, v in stats.metrics.items()
            if isinstance(v, MetricValue)}
    wanted = list(metrics) if metrics is not None else [k for k in values if not k.endswith(BCC)]
    unknown = [k for k in wanted if k not in values]
    if unknown:
        raise ConfigError(
            f"metric(s) {', '.join(unknown)} not in the {stats.problem_type} statistics; "
            f"expected some of {', '.join(values)}"
        )
    section: dict[str, MetricConstraint] = {}
    for key in wanted:
        value = values[key]
        if not math.isfinite(value):
            continue
        margin = tolerance * abs(value)
        if std_multiplier and math.isfinite(stds[key]):
            margin = max(margin, std_multiplier * stds[key])
        if key in ERROR_METRICS:
            section[key] = MetricConstraint(threshold=value + margin,
                                            comparison_operator="GreaterThanThreshold")
        else:
            section[key] = MetricConstraint(threshold=value - margin,
                                            comparison_operator="LessThanThreshold")
    return ModelQualityConstraints.model_validate(
        {"version": 0.0, CONSTRAINTS_KEY[stats.problem_type]: section}
    )


_OPS = {
    "LessThanThreshold": lambda v, t: v < t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
}


def _fmt(x: float | str) -> str:
    return x if isinstance(x, str) else java_double(float(x))


def check_model_quality(
    statistics: ModelQualityStatistics | ModelQualityResult,
    constraints: ModelQualityConstraints,
) -> list[Violation]:
    """Violations of model-quality constraints, worded as SageMaker's.

    A constraint fires when ``value <operator> threshold`` holds; a NaN value (or threshold)
    never fires, and a constrained metric absent from the statistics is logged and skipped.

    >>> r = compute_metrics("Regression", [1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    >>> c = ModelQualityConstraints.model_validate({"regression_constraints": {
    ...     "mae": {"threshold": 0.25, "comparison_operator": "GreaterThanThreshold"}}})
    >>> check_model_quality(r, c)[0].description
    "Metric mae with 0.3333333333333333 +/- NaN was GreaterThanThreshold '0.25'"
    """
    if isinstance(statistics, ModelQualityResult):
        statistics = statistics.to_statistics()
    if statistics.problem_type != constraints.problem_type:
        raise BaselineMismatchError(
            f"statistics are {statistics.problem_type} but the constraints are "
            f"{constraints.problem_type} ({CONSTRAINTS_KEY[constraints.problem_type]}); "
            f"expected {CONSTRAINTS_KEY[statistics.problem_type]}"
        )
    entries = statistics.metrics
    out: list[Violation] = []
    for name, constraint in constraints.constraints.items():
        entry = entries.get(name)
        if not isinstance(entry, MetricValue):
            log.warning("constraint on metric %r: no such metric in the statistics", name)
            continue
        value = as_float(entry.value)
        threshold = as_float(constraint.threshold)
        op = constraint.comparison_operator
        if math.isnan(value) or math.isnan(threshold) or not _OPS[op](value, threshold):
            continue
        out.append(Violation(
            metric_name=name,
            constraint_check_type=op,
            description=(f"Metric {name} with {_fmt(entry.value)} +/- "
                         f"{_fmt(entry.standard_deviation)} was {op} '{_fmt(threshold)}'"),
        ))
    return out
