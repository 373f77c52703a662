"""The local engine: the input streamed through one :class:`DatasetProfile` in this process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from vigil.analysis.engines.options import ReadOptions
from vigil.io.readers import BadRecords, iter_tables
from vigil.profile.dataset import DatasetProfile


class LocalEngine:
    """Arrow + NumPy + DataSketches in process, chunk by chunk (the default engine)."""

    name = "local"

    def profile(
        self,
        data: Any,
        options: ReadOptions,
        *,
        progress: Callable[[int], None] | None = None,
        on_table: Callable[[pa.Table], None] | None = None,
    ) -> tuple[DatasetProfile, BadRecords]:
        """Profile ``data`` (a table or paths); ``progress`` gets each chunk's row count and
        ``on_table`` each chunk."""
        bad = BadRecords()
        profile = DatasetProfile()
        for table in iter_tables(
            data,
            format=options.format,
            header=options.header,
            bad=bad,
            capture_content=options.capture_content,
            delimiter=options.delimiter,
            encoding=options.encoding,
        ):
            if options.columns is not None:
                table = table.select([c for c in options.columns if c in table.column_names])
            profile.update(table)
            if on_table is not None:
                on_table(table)
            if progress is not None:
                progress(table.num_rows)
        return profile, bad
