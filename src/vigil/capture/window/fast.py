"""The vectorised fast path: a file of single-line CSV payloads read with Arrow alone.

A file whose records (in the window) are all single-line CSV payloads without quotes,
whitespace or non-ASCII bytes, with the same number of values, is read by ``pyarrow.json``
(the records) and ``pyarrow.csv`` (the joined payloads); :func:`_fast_part` returns None for
any other file, which then takes the per-record path (:mod:`~vigil.capture.window.records`)
and gives the same table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from vigil.capture.window.result import TIME_TYPE, _Part
from vigil.capture.window.times import UTC
from vigil.io.capture import CONTENTS

_CONTENT = pa.struct([("data", pa.string()), ("encoding", pa.string())])
_META = pa.struct(
    [("eventId", pa.string()), ("inferenceId", pa.string()), ("inferenceTime", pa.string())]
)


def _schema(content: str) -> pa.Schema:
    """The fields the fast path reads (the JSON reader skips the rest)."""
    sides = [("endpointInput", _CONTENT)] if content != "output" else []
    if content != "input":
        sides += [("endpointOutput", _CONTENT), ("batchTransformOutput", _CONTENT)]
    return pa.schema([("captureData", pa.struct(sides)), ("eventMetadata", _META)])


_SCHEMAS = {content: _schema(content) for content in CONTENTS}
# bytes after which a CSV payload needs Python's reading: quotes, whitespace (stripped), \r, NUL
_SPECIAL = (b'"', b" ", b"\t", b"\r", b"\x00", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")


def _fast_part(
    raw: bytes,
    content: str,
    feature_names: Sequence[str] | None,
    start: datetime,
    end: datetime,
    threads: bool,
) -> _Part | None:
    """What one file gives, read with Arrow only; None when it needs the per-record path."""
    try:
        table = pajson.read_json(
            pa.BufferReader(raw),
            read_options=pajson.ReadOptions(use_threads=threads, block_size=1 << 24),
            parse_options=pajson.ParseOptions(
                explicit_schema=_SCHEMAS[content],
                unexpected_field_behavior="ignore",
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    n = table.num_rows
    capture, meta = table.column("captureData"), table.column("eventMetadata")
    if n == 0 or capture.null_count or meta.null_count:
        return None
    text = pc.struct_field(meta, "inferenceTime")
    if text.null_count:
        return None
    try:
        times = pc.cast(text, TIME_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    last = pc.max(times).as_py().astimezone(UTC)
    mask = pc.and_(
        pc.greater_equal(times, pa.scalar(start, TIME_TYPE)),
        pc.less(times, pa.scalar(end, TIME_TYPE)),
    )
    k = pc.sum(mask).as_py() or 0
    part = _Part(records_read=n, records_in_window=k, last_time=last, fast=True)
    if k == 0:
        return part
    if k < n:
        capture, meta, times = capture.filter(mask), meta.filter(mask), times.filter(mask)
    columns: dict[str, Any] = {}
    if content in ("input", "both"):
        found = _csv_columns(
            pc.struct_field(capture, "endpointInput"), "_c", feature_names, threads
        )
        if found is None:
            return None
        columns.update(found)
    if content in ("output", "both"):
        out = pc.struct_field(capture, "endpointOutput")
        if out.null_count == len(out):
            out = pc.struct_field(capture, "batchTransformOutput")
        found = _csv_columns(out, "_o", None, threads)
        if found is None:
            return None
        columns.update(found)
    columns["__event_id"] = pc.struct_field(meta, "eventId")
    columns["__inference_id"] = pc.struct_field(meta, "inferenceId")
    columns["__inference_time"] = times
    part.table = pa.table(columns)
    return part


def _csv_columns(
    content: pa.ChunkedArray, prefix: str, names: Sequence[str] | None, threads: bool = False
) -> dict[str, pa.ChunkedArray] | None:
    """Columns of single-line CSV payloads, all read at once; None when Python must read them."""
    if content.null_count:
        return None
    data = pc.struct_field(content, "data")
    encoding = pc.struct_field(content, "encoding")
    if data.null_count or encoding.null_count or not pc.all(pc.equal(encoding, "CSV")).as_py():
        return None
    data = pc.utf8_rtrim(data, characters="\r\n")
    if pc.min(pc.utf8_length(data)).as_py() == 0:
        return None
    joined = pc.binary_join_element_wise(data, "", "\n").combine_chunks()
    offsets = np.frombuffer(joined.buffers()[1], np.int32)
    lo, hi = int(offsets[joined.offset]), int(offsets[joined.offset + len(joined)])
    buffer = joined.buffers()[2].slice(lo, hi - lo)
    text = buffer.to_pybytes()
    if not text.isascii() or any(ch in text for ch in _SPECIAL):
        return None
    width = text[: text.index(b"\n")].count(b",") + 1
    names = list(names) if names is not None else [f"{prefix}{i}" for i in range(width)]
    if len(names) != width:
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(buffer),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=threads),
            parse_options=pacsv.ParseOptions(quote_char=False, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=True,
                null_values=[""],
                check_utf8=False,  # the text is ASCII: checked above
            ),
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows != len(data):
        return None
    return {name: table.column(name) for name in names}
