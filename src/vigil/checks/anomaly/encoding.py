"""The preprocessing of an outlier model: table columns into one float matrix.

Numeric columns (the baseline's ``Integral`` / ``Fractional`` features) are read as floats;
text that does not parse as a number counts as missing, and a missing value is imputed with
the training median. Categorical columns (``String``) are encoded by their *surprisal*: a
value becomes ``-ln(share)``, its share of the training rows, so a common category sits near 0
and a rare one far out; an unseen value counts as one record in ``n + 1`` (rarer than any
category seen), which every method sees as extreme; a missing value is a category of its own.
Categorical columns with more than :data:`MAX_CATEGORIES` distinct training values
(identifiers, free text) are left out of the model, and listed as such.

>>> import pyarrow as pa
>>> enc = Encoding.fit(pa.table({"x": [1.0, None, 3.0, 5.0], "c": ["a", "a", "b", None]}),
...                    numeric=["x"], categorical=["c"])
>>> enc.transform(pa.table({"x": ["7", "oops"], "c": ["b", "zzz"]})).matrix.round(3).tolist()
[[7.0, 1.386], [3.0, 1.609]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from vigil.errors import FormatError

__all__ = ["MAX_CATEGORIES", "Column", "Encoded", "Encoding"]

#: a categorical column with more distinct training values is left out of the model
MAX_CATEGORIES = 1000
NUMERIC = "numeric"
CATEGORICAL = "categorical"


@dataclass
class Column:
    """How one column becomes one feature of the matrix."""

    name: str
    kind: str  # NUMERIC or CATEGORICAL
    impute: float = 0.0  # numeric: the training median
    categories: dict[str, float] = field(default_factory=dict)  # categorical: value -> share
    missing_share: float = 0.0  # categorical: the share of missing values in training
    unseen_share: float = 1.0  # categorical: the share given to a value never seen, 1 / (n + 1)
    typical: float = 0.0  # the encoded value of a typical record (median, or the mode's share)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "typical": self.typical}
        if self.kind == NUMERIC:
            d["impute"] = self.impute
        else:
            d["categories"] = self.categories
            d["missing_share"] = self.missing_share
            d["unseen_share"] = self.unseen_share
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str) -> Column:
        if not isinstance(d, dict) or d.get("kind") not in (NUMERIC, CATEGORICAL):
            raise FormatError(f"{where}: expected an object with kind numeric|categorical")
        try:
            return cls(
                name=str(d["name"]),
                kind=str(d["kind"]),
                impute=float(d.get("impute", 0.0)),
                categories={str(k): float(v) for k, v in dict(d.get("categories", {})).items()},
                missing_share=float(d.get("missing_share", 0.0)),
                unseen_share=float(d.get("unseen_share", 1.0)),
                typical=float(d["typical"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"{where}: bad column entry ({exc!r})") from None


@dataclass
class Encoded:
    """A table encoded: the matrix (rows x model columns) and the model columns it lacked."""

    matrix: npt.NDArray[np.float64]
    missing_columns: list[str]


def _floats(col: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.float64]:
    """A column as floats, NaN where missing or not a number."""
    if pa.types.is_boolean(col.type) or pa.types.is_integer(col.type) or pa.types.is_floating(
        col.type
    ):
        arr = pc.cast(col, pa.float64())
    else:
        text = pc.utf8_trim_whitespace(pc.cast(col, pa.string()))
        try:
            arr = pc.cast(text, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = [_parse(v) for v in text.to_pylist()]
            return np.asarray(values, dtype=np.float64)
    return np.array(arr.to_numpy(zero_copy_only=False), dtype=np.float64)  # a writable copy


def _parse(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _strings(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return pc.cast(arr, pa.string())


@dataclass
class Encoding:
    """The columns of a model, in matrix order, and the columns left out (with why)."""

    columns: list[Column]
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @classmethod
    def fit(
        cls, table: pa.Table, *, numeric: Sequence[str], categorical: Sequence[str]
    ) -> Encoding:
        """Learn medians and category shares from the training ``table``."""
        columns: list[Column] = []
        excluded: dict[str, str] = {}
        n = max(table.num_rows, 1)
        for name in numeric:
            x = _floats(table.column(name))
            finite = x[np.isfinite(x)]
            if finite.size == 0:
                excluded[name] = "no numeric value in the training data"
                continue
            med = float(np.median(finite))
            columns.append(Column(name, NUMERIC, impute=med, typical=med))
        for name in categorical:
            s = _strings(table.column(name))
            counts = pc.value_counts(s.drop_null())
            if len(counts) > MAX_CATEGORIES:
                excluded[name] = (
                    f"{len(counts)} distinct values (more than {MAX_CATEGORIES}): "
                    "an identifier or free text"
                )
                continue
            shares = {
                str(v): c / n
                for v, c in zip(
                    counts.field("values").to_pylist(), counts.field("counts").to_pylist()
                )
            }
            missing = s.null_count / n
            typical = -float(np.log(max([*shares.values(), missing])))
            columns.append(
                Column(
                    name,
                    CATEGORICAL,
                    categories=shares,
                    missing_share=missing,
                    unseen_share=1.0 / (n + 1),
                    typical=typical,
                )
            )
        order = {name: i for i, name in enumerate(table.column_names)}
        columns.sort(key=lambda c: order[c.name])
        return cls(columns=columns, excluded=excluded)

    def transform(self, table: pa.Table) -> Encoded:
        """Encode ``table``: one row per record, one column per model column. A model column
        the table lacks is imputed with its typical value and named in ``missing_columns``."""
        n = table.num_rows
        out = np.empty((n, len(self.columns)), dtype=np.float64)
        have = set(table.column_names)
        missing: list[str] = []
        for j, c in enumerate(self.columns):
            if c.name not in have:
                missing.append(c.name)
                out[:, j] = c.typical
                continue
            col = table.column(c.name)
            if c.kind == NUMERIC:
                x = _floats(col)
                x[~np.isfinite(x)] = c.impute
                out[:, j] = x
            else:
                s = _strings(col)
                keys = pa.array(list(c.categories), pa.string())
                shares = np.append(np.fromiter(c.categories.values(), float), c.unseen_share)
                idx = pc.fill_null(pc.index_in(s, value_set=keys), len(shares) - 1)
                enc = shares[np.asarray(idx.to_numpy(zero_copy_only=False), dtype=np.int64)]
                valid = np.asarray(s.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
                enc[~valid] = c.missing_share or c.unseen_share
                enc = -np.log(enc)
                out[:, j] = enc
        return Encoded(matrix=out, missing_columns=missing)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.to_dict() for c in self.columns], "excluded": self.excluded}

    @classmethod
    def from_dict(cls, d: Any, where: str) -> Encoding:
        if not isinstance(d, dict) or not isinstance(d.get("columns"), list):
            raise FormatError(f"{where}: field 'preprocessing.columns': expected a list")
        cols = [
            Column.from_dict(c, f"{where}: preprocessing.columns[{i}]")
            for i, c in enumerate(d["columns"])
        ]
        if not cols:
            raise FormatError(f"{where}: field 'preprocessing.columns': expected a column")
        excluded = {str(k): str(v) for k, v in dict(d.get("excluded", {})).items()}
        return cls(columns=cols, excluded=excluded)
