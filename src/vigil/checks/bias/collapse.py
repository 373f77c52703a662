"""Collapsing labels, predictions and facets to booleans, as Clarify does.

Clarify (smclarify's ``series_datatype``) infers whether a column is categorical or
continuous: a ``category`` column, or more than one value given, is categorical; a float
column is continuous; an integer column is continuous when its share of distinct values
``nunique / count`` is at least 0.05; a string column is continuous only when every value
reads as an integer and that share is at least 0.05; booleans are categorical.

A categorical column selects the rows equal to one of the given values (retried after
casting the values to the column's element type when none matches). A continuous column
selects the rows in the right-closed bins built from the thresholds plus the column's
maximum, so a threshold is an *exclusive* lower bound:

>>> import numpy as np
>>> col = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90, 100] * 3)
>>> infer_kind(col, [40]) is Kind.CONTINUOUS
True
>>> sel = select(col, [40], Kind.CONTINUOUS)
>>> sel.text, int(sel.mask.sum())
('(40, 100]', 18)
>>> infer_kind(np.array([0, 1] * 30), [1]).name  # 2 distinct of 60 rows < 0.05
'CATEGORICAL'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.checks.bias.errors import BiasMetricError, SelectionError

UNIQUENESS_THRESHOLD = 0.05

BoolArray = npt.NDArray[np.bool_]


class Kind(Enum):
    """Clarify's two data types of a facet, label or predicted label column."""

    CATEGORICAL = 0
    CONTINUOUS = 1


@dataclass(frozen=True)
class Selection:
    """The rows a facet value (or the positive label) selects, and Clarify's string for it."""

    text: str
    mask: BoolArray


def _valid(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The values pandas counts (``count``/``nunique``): no None, no NaN."""
    if values.dtype.kind == "f":
        kept: npt.NDArray[Any] = values[~np.isnan(values)]
        return kept
    if values.dtype.kind == "O":
        keep = np.fromiter(
            (v is not None and not (isinstance(v, float) and math.isnan(v)) for v in values),
            dtype=bool,
            count=len(values),
        )
        valid: npt.NDArray[Any] = values[keep]
        return valid
    return values


def uniqueness(values: npt.NDArray[Any]) -> float:
    """``nunique / count`` (0 for an empty column)."""
    valid = _valid(values)
    if len(valid) == 0:
        return 0.0
    distinct = len(set(valid.tolist())) if valid.dtype.kind == "O" else len(np.unique(valid))
    return distinct / len(valid)


def _as_int(values: npt.NDArray[Any]) -> npt.NDArray[np.int64] | None:
    try:
        return values.astype(np.int64)
    except (TypeError, ValueError, OverflowError):
        return None


def infer_kind(
    values: npt.NDArray[Any], given: Sequence[Any] | None = None, *, categorical: bool = False
) -> Kind:
    """Clarify's type of a column (``categorical``: the column has a category/dictionary
    type)."""
    if categorical or (given is not None and len(given) > 1):
        return Kind.CATEGORICAL
    kind = values.dtype.kind
    if kind in "OUS":
        if _as_int(values) is not None and uniqueness(values) >= UNIQUENESS_THRESHOLD:
            return Kind.CONTINUOUS
        return Kind.CATEGORICAL
    if kind == "f":
        return Kind.CONTINUOUS
    if kind in "iu" and uniqueness(values) >= UNIQUENESS_THRESHOLD:
        return Kind.CONTINUOUS
    return Kind.CATEGORICAL


def to_numeric(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A continuous column as numbers (strings of integers are read as integers)."""
    if values.dtype.kind in "OUS":
        cast = _as_int(values)
        return cast if cast is not None else values.astype(np.float64)
    return values


def _number(value: Any) -> float | int:
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)


def breaks(column_max: Any, thresholds: Sequence[Any]) -> list[float | int]:
    """The break points of Clarify's bins: the thresholds plus the maximum unless ``abs(max)``
    is one of them, sorted."""
    points = [_number(t) for t in thresholds]
    top = _number(column_max)
    if abs(top) not in points:
        points.append(top)
    return sorted(points)


def _point_text(point: float | int, as_float: bool) -> str:
    return repr(float(point)) if as_float else str(point)


def interval_text(points: Sequence[float | int]) -> str:
    """Clarify's string of the bins, e.g. ``(0.5, 0.99]`` (pandas' ``Interval`` format)."""
    as_float = any(isinstance(p, float) for p in points)
    return ",".join(
        f"({_point_text(lo, as_float)}, {_point_text(hi, as_float)}]"
        for lo, hi in itertools.pairwise(points)
    )


def select_continuous(values: npt.NDArray[Any], points: Sequence[float | int]) -> BoolArray:
    """Rows inside any right-closed bin ``(points[i], points[i+1]]``."""
    mask = np.zeros(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        for lo, hi in itertools.pairwise(points):
            mask |= (values > lo) & (values <= hi)
    return mask


def _equal_any(values: npt.NDArray[Any], wanted: Sequence[Any]) -> BoolArray:
    mask = np.zeros(len(values), dtype=bool)
    for w in wanted:
        hit = values == w
        if isinstance(hit, np.ndarray):
            mask |= hit.astype(bool)
    return mask


def _cast_values(values: npt.NDArray[Any], wanted: Sequence[Any]) -> list[Any]:
    """smclarify's ``convert_positive_label_values``: the values cast to the type of the
    column's first element (``int('1.0')`` falls back to float)."""
    if len(values) == 0:
        return list(wanted)
    first = values[0]
    if isinstance(wanted[0], type(first)):
        return list(wanted)
    target = type(first)
    try:
        return [target(w) for w in wanted]
    except ValueError as exc:
        if "invalid literal for int() with base 10" in str(exc):
            return [float(w) for w in wanted]
        raise SelectionError(
            "'label' has not positive elements. Double-check if 'label' and "
            "'positive_label_values'have correct data-types or values."
        ) from None


def select_categorical(values: npt.NDArray[Any], wanted: Sequence[Any]) -> BoolArray:
    """Rows equal to one of ``wanted`` (retried with the values cast to the column's type
    when none matches)."""
    mask = _equal_any(values, wanted)
    if mask.any():
        return mask
    return _equal_any(values, _cast_values(values, wanted))


def column_max(values: npt.NDArray[Any]) -> Any:
    """The maximum of a numeric column, NaN skipped (pandas' ``max``)."""
    valid = _valid(values)
    if len(valid) == 0:
        return float("nan")
    return valid.max()


def select(values: npt.NDArray[Any], given: Sequence[Any], kind: Kind) -> Selection:
    """The rows ``given`` selects in a column of that kind, with Clarify's string for them."""
    if kind is Kind.CATEGORICAL:
        return Selection(",".join(str(v) for v in given), select_categorical(values, given))
    numeric = to_numeric(values)
    points = breaks(column_max(numeric), given)
    return Selection(interval_text(points), select_continuous(numeric, points))


def check_threshold(values: npt.NDArray[Any], given: Sequence[Any]) -> list[float | int]:
    """Clarify's thresholds for a continuous column: exactly one number is read (a string is
    cast to float), as ``ensure_series_data_type`` does; raises ValueError otherwise."""
    if not given:
        raise BiasMetricError("Threshold values must be provided for continuous features")
    out: list[Any] = list(given)
    if not isinstance(out[0], (int, float)) or isinstance(out[0], bool):
        try:
            out[0] = float(out[0])
        except (TypeError, ValueError):
            raise BiasMetricError(
                "Facet/label value provided must be a single numeric threshold for continuous data"
            ) from None
    return [_number(v) for v in out]


def unique_in_order(values: npt.NDArray[Any]) -> list[Any]:
    """Distinct values in order of first appearance (pandas' ``unique``), as Python scalars."""
    if values.dtype.kind == "O":
        seen: dict[Any, None] = {}
        for v in values.tolist():
            seen.setdefault(v, None)
        return list(seen)
    uniq, first = np.unique(values, return_index=True)
    return [uniq[i].item() for i in np.argsort(first, kind="stable")]
