"""Arrow tables of a window: rows into typed columns, and the files' tables concatenated.

A column whose values Arrow cannot type (mixed, nested) is kept as JSON text; tables of
different files whose column types differ are unified (numbers widen, anything else becomes
text) and the metadata columns always come last.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from vigil.capture.window.result import META_COLUMNS, TIME_TYPE


def _column(values: list[Any]) -> pa.Array:
    if all(v is None or isinstance(v, str) for v in values):
        return pa.array(values, pa.string())
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        array = None
    if array is None or pa.types.is_nested(array.type):
        return pa.array(
            [
                None if v is None else v if isinstance(v, str) else orjson.dumps(v).decode()
                for v in values
            ],
            pa.string(),
        )
    return array


def _rows_table(rows: list[dict[str, Any]], meta: list[tuple[Any, Any, datetime]]) -> pa.Table:
    names = dict.fromkeys(k for row in rows for k in row)
    columns = {n: _column([row.get(n) for row in rows]) for n in names if n not in META_COLUMNS}
    event_ids, inference_ids, times = zip(*meta)
    columns["__event_id"] = _column([None if v is None else str(v) for v in event_ids])
    columns["__inference_id"] = _column([None if v is None else str(v) for v in inference_ids])
    columns["__inference_time"] = pa.array(times, TIME_TYPE)
    return pa.table(columns)


def _concat(tables: list[pa.Table]) -> pa.Table:
    if not tables:
        return pa.table(
            {
                "__event_id": pa.array([], pa.string()),
                "__inference_id": pa.array([], pa.string()),
                "__inference_time": pa.array([], TIME_TYPE),
            }
        )
    if len(tables) > 1:
        types: dict[str, set[pa.DataType]] = {}
        for t in tables:
            for f in t.schema:
                if not pa.types.is_null(f.type):
                    types.setdefault(f.name, set()).add(f.type)
        mixed = {n for n, ts in types.items() if len(ts) > 1 and not _numeric(ts)}
        if mixed:
            tables = [
                t.cast(
                    pa.schema(
                        [pa.field(f.name, pa.string()) if f.name in mixed else f for f in t.schema]
                    )
                )
                for t in tables
            ]
    table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    order = [c for c in table.column_names if c not in META_COLUMNS] + list(META_COLUMNS)
    return table.select(order)


def _numeric(types: set[pa.DataType]) -> bool:
    return all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types)
