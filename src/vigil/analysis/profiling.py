"""Stream any input through a DatasetProfile, on the chosen engine, with optional progress."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from vigil.analysis.engines import Engine, ReadOptions, get_engine, is_spark_dataframe
from vigil.errors import EmptyInputError
from vigil.io.readers import BadRecords
from vigil.profile.dataset import DatasetProfile


def profile_input(
    data: Any,
    *,
    format: str = "auto",
    header: bool = True,
    capture_content: str = "input",
    progress: Callable[[int], None] | None = None,
    columns: list[str] | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    on_table: Callable[[pa.Table], None] | None = None,
    engine: str | Engine | None = None,
    spark_master: str | None = None,
) -> tuple[DatasetProfile, BadRecords]:
    """Profile ``data`` (a table, a Spark DataFrame or paths) chunk by chunk.

    ``progress`` is called with the number of rows of each chunk, ``on_table`` with each chunk
    (the anomaly model's fit and scoring read the rows as they stream; local engine only).
    ``engine``: ``local`` or ``spark`` (None: ``spark`` for a Spark DataFrame, else ``local``),
    ``spark_master`` the Spark master URL. Raises EmptyInputError when no row could be read.
    """
    options = ReadOptions(
        format=format,
        header=header,
        capture_content=capture_content,
        delimiter=delimiter,
        encoding=encoding,
        columns=None if columns is None else tuple(columns),
    )
    chosen = get_engine(engine, spark_master=spark_master, data=data)
    profile, bad = chosen.profile(data, options, progress=progress, on_table=on_table)
    if profile.item_count == 0:
        detail = (
            f" ({bad.count} bad record(s) skipped, first: {bad.examples[0]})" if bad.count else ""
        )
        raise EmptyInputError(
            f"{_describe(data)}: no rows to analyse; expected at least one data row{detail}"
        )
    return profile, bad


def _describe(data: Any) -> str:
    if isinstance(data, (list, tuple)):
        return ", ".join(map(str, data))
    if isinstance(data, str) or hasattr(data, "__fspath__"):
        return str(data)
    if is_spark_dataframe(data):
        return "the Spark DataFrame"
    return type(data).__name__
