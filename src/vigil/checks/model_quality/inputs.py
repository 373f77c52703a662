"""The inputs of an evaluation: columns as arrays, missing values, the positive label.

A row with a missing label, prediction or (when given) a missing or NaN score is skipped and
counted per reason.

>>> t, p, s, skipped = prepare("Regression", [1.0, None, 3.0], [1.0, 2.0, 4.0], None)
>>> t.tolist(), p.tolist(), skipped
([1.0, 3.0], [1.0, 4.0], {'ground truth missing': 1})
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

from vigil.errors import EmptyInputError, InputError
from vigil.formats.jackson import java_double

__all__ = ["as_array", "is_number", "missing", "positive_mask", "prepare", "to_float"]


def as_array(values: Any, name: str) -> np.ndarray:
    """``values`` (a list, an array, an Arrow column) as a one-dimensional NumPy array."""
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


def missing(arr: np.ndarray) -> np.ndarray:
    """True where a value is missing (None, NaN).

    >>> missing(np.array([1.0, np.nan])).tolist(), missing(np.array(["a", None])).tolist()
    ([False, True], [False, True])
    """
    if arr.dtype.kind == "f":
        nan: np.ndarray = np.isnan(arr)
        return nan
    if arr.dtype.kind in "iub":
        return np.zeros(len(arr), dtype=bool)
    if arr.dtype.kind == "O":
        try:
            nulls = pa.array(arr, from_pandas=True).is_null()
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed types
            return np.array([v is None or (isinstance(v, float) and v != v) for v in arr],
                            dtype=bool)
        found: np.ndarray = np.asarray(nulls.to_numpy(zero_copy_only=False), dtype=bool)
        return found
    return np.zeros(len(arr), dtype=bool)


def is_number(x: Any) -> bool:
    """True for an int or a float (NumPy's too), not for a bool."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def positive_mask(values: np.ndarray, positive_label: Any) -> np.ndarray:
    """True where a label equals ``positive_label`` (``"1"`` matches 1 and 1.0 too).

    >>> positive_mask(np.array([0, 1, 1]), "1").tolist(), positive_mask(np.array(["a", "b"]), "b")
    ([False, True, True], array([False,  True]))
    """
    if values.dtype.kind == "b":
        if isinstance(positive_label, str):
            return np.asarray(values == (positive_label.strip().lower() in ("1", "true", "1.0")))
        return np.asarray(values == bool(positive_label))
    if values.dtype.kind in "iuf":
        if isinstance(positive_label, str):
            try:
                positive_label = float(positive_label)
            except ValueError:
                return np.zeros(len(values), dtype=bool)
        return np.asarray(values == positive_label)
    if is_number(positive_label) or isinstance(positive_label, bool):
        as_text = {str(positive_label), java_double(float(positive_label))}
        if isinstance(positive_label, float) and positive_label.is_integer():
            as_text.add(str(int(positive_label)))
        return np.isin(values.astype(str), list(as_text))
    return np.asarray(values.astype(str) == str(positive_label))


def prepare(
    problem_type: str, y_true: Any, y_pred: Any, y_score: Any
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, dict[str, int]]:
    """Truth, predictions and scores as arrays of equal length with the incomplete rows
    dropped, and the rows dropped per reason."""
    t = as_array(y_true, "ground truth")
    p = None if y_pred is None else as_array(y_pred, "predictions")
    s = None if y_score is None else as_array(y_score, "scores")
    for name, other in (("predictions", p), ("scores", s)):
        if other is not None and len(other) != len(t):
            raise InputError(
                f"{name}: {len(other)} values for {len(t)} ground-truth labels; "
                "expected one per row"
            )
    if problem_type == "Regression":
        t = to_float(t, "ground truth")
        if p is None:
            raise InputError("predictions: none given; regression needs a predicted value per row")
        p = to_float(p, "predictions")
    if s is not None:
        s = to_float(s, "scores")
    skipped: dict[str, int] = {}
    keep = np.ones(len(t), dtype=bool)
    checks = [("ground truth missing", t), ("prediction missing", p)]
    checks.append(("score missing or NaN", s))
    for reason, arr in checks:
        if arr is None:
            continue
        bad = missing(arr) & keep
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


def to_float(arr: np.ndarray, name: str) -> np.ndarray:
    """``arr`` as float64 (None as NaN); a value that is no number is an error naming it."""
    if arr.dtype.kind in "iufb":
        return arr.astype(np.float64, copy=False)
    try:
        out = pa.array(arr, from_pandas=True).cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        try:
            return np.array([math.nan if v is None else float(v) for v in arr], dtype=np.float64)
        except (TypeError, ValueError):
            example = next((v for v in arr if not is_number(v)), arr[0])
            raise InputError(
                f"{name}: value {example!r} is not a number; expected numeric values"
            ) from None
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=np.float64)
