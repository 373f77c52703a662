"""Stream any input through a DatasetProfile, with optional progress reporting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from vigil.errors import EmptyInputError
from vigil.io.readers import BadRecords, iter_tables
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
) -> tuple[DatasetProfile, BadRecords]:
    """Profile ``data`` (a table or paths) chunk by chunk.

    ``progress`` is called with the number of rows of each chunk, ``on_table`` with each chunk
    (the anomaly model's fit and scoring read the rows as they stream). Raises EmptyInputError when
    no row could be read.
    """
    bad = BadRecords()
    profile = DatasetProfile()
    for table in iter_tables(
        data,
        format=format,
        header=header,
        bad=bad,
        capture_content=capture_content,
        delimiter=delimiter,
        encoding=encoding,
    ):
        if columns is not None:
            table = table.select([c for c in columns if c in table.column_names])
        profile.update(table)
        if on_table is not None:
            on_table(table)
        if progress is not None:
            progress(table.num_rows)
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
    return type(data).__name__
