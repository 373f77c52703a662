"""Units of work for a distributed engine: one file, or one Parquet row group, each profiled
with Vigil's own readers so types, bad records and capture decoding are the local engine's.

Nothing here imports Spark: a task calls :func:`profile_unit` on its unit and returns a
:class:`UnitResult` (it pickles), which the driver merges in unit order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vigil.analysis.engines.options import ReadOptions
from vigil.errors import InputError, VigilError
from vigil.io.readers import (
    BATCH_ROWS,
    MAX_ROW_GROUP_ROWS,
    BadRecords,
    check_encoding,
    detect_format,
    iter_tables,
)
from vigil.profile.dataset import DatasetProfile


@dataclass(frozen=True)
class Unit:
    """One task's input: a file (``row_group`` None) or one row group of a Parquet file."""

    index: int
    path: str
    row_group: int | None = None


@dataclass
class UnitResult:
    """A task's answer: its profile and bad records, or the Vigil error it met (class and
    message, since an error's message already carries its code)."""

    index: int
    profile: DatasetProfile | None
    bad: BadRecords
    error: tuple[type[VigilError], str] | None = None

    def unwrap(self) -> tuple[DatasetProfile, BadRecords]:
        """The profile and bad records, or the task's error raised again here."""
        if self.error is not None:
            cls, message = self.error
            raise cls(message)
        assert self.profile is not None
        return self.profile, self.bad


def list_units(files: Sequence[str | os.PathLike[str]], options: ReadOptions) -> list[Unit]:
    """The units of ``files`` (what :func:`vigil.io.readers.resolve_inputs` returns): one per
    file, and one per row group for a local Parquet file whose row groups the local reader
    also reads whole."""
    units: list[Unit] = []
    codec = check_encoding(options.encoding)
    for item in files:
        text = os.fspath(item)
        groups = _row_groups(Path(text), options.format, codec) if "://" not in text else None
        if groups is None:
            units.append(Unit(len(units), text))
        else:
            units.extend(Unit(len(units) + i, text, i) for i in range(groups))
    return units


def _row_groups(path: Path, format: str, codec: str) -> int | None:
    fmt = detect_format(path, codec) if format == "auto" else format
    if fmt != "parquet":
        return None
    try:
        meta = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowInvalid):
        return None  # the task's reader reports it as the local engine does
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    if len(sizes) < 2 or max(sizes) > MAX_ROW_GROUP_ROWS:
        return None
    return len(sizes)


def unit_tables(unit: Unit, options: ReadOptions, bad: BadRecords) -> Iterator[pa.Table]:
    """The tables of one unit, read as the local engine reads them (bad records to ``bad``)."""
    if unit.row_group is None:
        yield from iter_tables(
            unit.path,
            format=options.format,
            header=options.header,
            bad=bad,
            capture_content=options.capture_content,
            delimiter=options.delimiter,
            encoding=options.encoding,
        )
        return
    try:  # as vigil.io.readers reads a row group: text columns dictionary encoded
        schema = pq.read_schema(unit.path)
        text = [
            f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ]
        table = pq.ParquetFile(unit.path, read_dictionary=text).read_row_group(unit.row_group)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"{unit.path}: cannot read as parquet: {exc}") from None
    yield table


def profile_tables(tables: Any, columns: Sequence[str] | None) -> DatasetProfile:
    """One profile of a stream of Arrow tables or record batches (``columns``: those kept)."""
    profile = DatasetProfile()
    for table in tables:
        if columns is not None:
            table = table.select([c for c in columns if c in table.column_names])
        profile.update(table)
    return profile


def coalesce(batches: Iterator[pa.RecordBatch], rows: int = BATCH_ROWS) -> Iterator[pa.Table]:
    """Small record batches (Spark's Arrow batches hold 10,000 rows) gathered into tables of
    about ``rows`` rows, text columns dictionary encoded as the Parquet reader gives them, so
    a chunk's values are classified once per distinct value."""
    held: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        held.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield _encoded(pa.Table.from_batches(held))
            held, count = [], 0
    if held:
        yield _encoded(pa.Table.from_batches(held))


def _encoded(table: pa.Table) -> pa.Table:
    for i, f in enumerate(table.schema):
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            table = table.set_column(i, f.name, pc.dictionary_encode(table.column(i)))
    return table


def profile_unit(unit: Unit, options: ReadOptions) -> UnitResult:
    """Read and profile one unit; a Vigil error comes back in the result, not as a crash."""
    bad = BadRecords()
    try:
        profile = profile_tables(unit_tables(unit, options, bad), options.columns)
    except VigilError as exc:
        return UnitResult(unit.index, None, bad, (type(exc), exc.message))
    return UnitResult(unit.index, profile, bad)


def table_slices(table: pa.Table, n: int) -> list[tuple[int, bytes]]:
    """``table`` cut into ``n`` slices of consecutive rows, each as Arrow IPC bytes."""
    n = max(1, min(n, table.num_rows))
    step = -(-table.num_rows // n) if table.num_rows else 1
    return [(i, _ipc(table.slice(i * step, step))) for i in range(n)]


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def ipc_table(payload: bytes) -> pa.Table:
    """A table from :func:`table_slices`' bytes."""
    return pa.ipc.open_stream(payload).read_all()
