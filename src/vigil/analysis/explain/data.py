"""The records to explain, as a float matrix of the feature columns.

Data is what Clarify reads: CSV without a header row (names from ``headers``: a file whose
first row is not ``headers`` is taken as header-less) or with one, Parquet, JSON Lines (the
``features`` JMESPath gives each record's feature list; names from ``headers``), or an
in-memory table (pyarrow, pandas, Polars). Features are every column but the ``label``,
``predicted_label`` and ``excluded_columns``. Values must be numbers; an empty cell is a
missing value (NaN, passed to the model as it is).

>>> import pyarrow as pa
>>> from vigil.formats.clarify_explain import parse_explain_config
>>> cfg = parse_explain_config({"label": "y", "methods": {"shap": {}}})
>>> x, names = read_features(pa.table({"a": ["1", "2"], "y": [0, 1]}), cfg)
>>> names, x.tolist()
(['a'], [[1.0], [2.0]])
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from vigil.errors import EmptyInputError, InputError
from vigil.formats.clarify_explain import ExplainConfig
from vigil.io.readers import detect_format, iter_tables, resolve_inputs, to_arrow

__all__ = ["read_features"]

Array = npt.NDArray[np.float64]


def _has_header(path: Path, headers: list[str] | None) -> bool:
    if headers is None:
        return True
    with open(path, encoding="utf-8-sig", newline="") as fh:
        first = next(csv.reader(fh), None)
    if first is None:
        raise EmptyInputError(f"{path}: file is empty")
    if [c.strip() for c in first] == headers:
        return True
    if len(first) != len(headers):
        raise InputError(
            f"{path}: the first row has {len(first)} column(s) but analysis_config headers name "
            f"{len(headers)}; expected a header-less CSV in the order of headers"
        )
    return False


def _jsonl_table(path: Path, features: str, headers: list[str] | None) -> pa.Table:
    # lazy: JMESPath loads only for JSON Lines with a features expression
    import jmespath

    expr = jmespath.compile(features)
    rows: list[list[Any]] = []
    with open(path, encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                found = expr.search(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: not valid JSON ({exc})") from None
            if not isinstance(found, list):
                raise InputError(
                    f"{path}:{lineno}: features {features!r} gives {found!r}, expected a list"
                )
            rows.append(found)
    if not rows:
        raise EmptyInputError(f"{path}: no records")
    width = len(rows[0])
    names = headers[:width] if headers is not None and len(headers) >= width else [
        f"column_{i}" for i in range(width)
    ]
    for i, row in enumerate(rows):
        if len(row) != width:
            raise InputError(f"{path}: record {i}: {len(row)} feature(s), expected {width}")
    return pa.table({n: [r[j] for r in rows] for j, n in enumerate(names)})


def _read(data: Any, config: ExplainConfig, format: str) -> pa.Table:
    table = to_arrow(data)
    if table is not None:
        return table
    tables: list[pa.Table] = []
    inputs = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    for path in resolve_inputs(inputs):
        fmt = detect_format(path) if format == "auto" else format
        if fmt == "jsonl" and config.features is not None:
            tables.append(_jsonl_table(path, config.features, config.headers))
            continue
        header = _has_header(path, config.headers) if fmt == "csv" else True
        part = pa.concat_tables(list(iter_tables(path, format=fmt, header=header)))
        if not header and config.headers is not None:
            part = part.rename_columns(config.headers)
        tables.append(part)
    if not tables:
        raise EmptyInputError("no input files")
    return pa.concat_tables(tables, promote_options="permissive")


def _column_name(column: int | str, config: ExplainConfig, names: list[str]) -> str:
    if isinstance(column, int):
        source = config.headers or names
        if column >= len(source):
            raise InputError(f"column index {column}: the data has {len(source)} column(s)")
        return source[column]
    return column


def _as_float(table: pa.Table, name: str) -> Array:
    column = table.column(name)
    try:
        values = pc.cast(column, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        for i, v in enumerate(column.to_pylist()):
            try:
                float(v) if v is not None and v != "" else None
            except (TypeError, ValueError):
                raise InputError(
                    f"column {name!r}, record {i}: {v!r} is not a number; explanations need "
                    "numeric features (encode categories first)"
                ) from None
        values = pc.cast(pc.if_else(pc.equal(column, ""), None, column), pa.float64())
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def read_features(
    data: Any, config: ExplainConfig, *, format: str = "auto"
) -> tuple[Array, list[str]]:
    """The feature matrix (records, features) and the feature names of ``data``."""
    table = _read(data, config, format)
    if table.num_rows == 0:
        raise EmptyInputError("the data holds no records to explain")
    columns = list(table.column_names)
    drop = {
        _column_name(c, config, columns)
        for c in (config.label, config.predicted_label, *config.excluded_columns)
        if c is not None
    }
    wanted = config.feature_names
    if wanted is None:
        names = [c for c in columns if c not in drop]
    else:
        names = [c for c in wanted if c not in drop]
        missing = [c for c in names if c not in columns]
        if missing:
            raise InputError(
                f"feature column {missing[0]!r} (from analysis_config headers) is not in the "
                f"data (columns: {', '.join(columns[:20])})"
            )
    if not names:
        raise InputError("no feature columns: every column is the label or excluded")
    return np.column_stack([_as_float(table, n) for n in names]), names
