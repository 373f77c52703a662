"""Arrow tables (and pandas / Polars frames) as :class:`BiasData` NumPy columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.types as pat

from vigil.checks.bias.report import BiasData
from vigil.errors import InputError


def _column(array: pa.ChunkedArray) -> npt.NDArray[Any]:
    t = array.type
    if pat.is_dictionary(t):
        array = array.cast(t.value_type)
        t = t.value_type
    if pat.is_boolean(t) and array.null_count == 0:
        return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)
    if (pat.is_integer(t) or pat.is_floating(t)) and array.null_count == 0:
        return np.asarray(array.to_numpy())
    if pat.is_integer(t) or pat.is_floating(t):
        return np.asarray(array.cast(pa.float64()).to_numpy(zero_copy_only=False))
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=object)


def from_arrow(table: pa.Table) -> BiasData:
    """The table's columns as NumPy arrays: numbers as numbers (integers with nulls as float,
    as pandas reads them), strings as object arrays; dictionary columns are decoded and
    marked categorical, as pandas' ``category`` dtype is by Clarify.

    >>> d = from_arrow(pa.table({"x": [1, 2], "s": pa.array(["a", "b"]).dictionary_encode()}))
    >>> d.columns["x"].dtype.kind, sorted(d.categorical)
    ('i', ['s'])
    """
    columns = {name: _column(table.column(name)) for name in table.column_names}
    categorical = frozenset(
        name for name in table.column_names if pat.is_dictionary(table.schema.field(name).type)
    )
    return BiasData(columns, categorical)


def to_bias_data(data: Any) -> BiasData:
    """A pyarrow table, pandas or Polars frame, or :class:`BiasData` as BiasData."""
    if isinstance(data, BiasData):
        return data
    if isinstance(data, pa.Table):
        return from_arrow(data)
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return from_arrow(pa.Table.from_pandas(data, preserve_index=False))
    if module == "polars":
        return from_arrow(data.to_arrow())
    if isinstance(data, dict):
        return BiasData({k: np.asarray(v) for k, v in data.items()})
    raise InputError(f"expected a table (pyarrow, pandas, Polars) or BiasData, got {type(data)}")
