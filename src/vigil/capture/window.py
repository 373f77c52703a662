"""Read one window of captured inferences into an Arrow table.

:func:`read_window` lists the hour folders ``{root}/{endpoint}/{variant}/yyyy/mm/dd/hh/`` that
overlap ``[start, end)``, reads their ``*.jsonl`` files (dot-files, such as a writer's
in-progress ``.part`` files, are skipped) and keeps the records whose ``inferenceTime`` lies in
``[start, end)``. Payloads are decoded by :mod:`vigil.io.capture` (CSV, JSON, BASE64, batches,
JMESPath attributes) or by a SageMaker record preprocessor. Every row also carries the record's
``eventId``, ``inferenceId`` and ``inferenceTime`` in the columns ``__event_id``,
``__inference_id`` and ``__inference_time`` (timestamp[us, UTC]) for joins with ground truth;
:meth:`Window.features` drops them. Bad records are counted and sampled in ``Window.bad``, never
fatal. ``root`` is a local path, a ``file://`` URL or any fsspec URL (``s3://``, ``memory://``).

Speed: a file whose records (in the window) are all single-line CSV payloads without quotes,
whitespace or non-ASCII bytes, with the same number of values, is read with Arrow alone
(``pyarrow.json`` for the records, ``pyarrow.csv`` for the joined payloads), files in parallel;
any other file takes the per-record path, which gives the same table.

>>> import tempfile
>>> from pathlib import Path
>>> root = Path(tempfile.mkdtemp())
>>> hour = root / "churn" / "AllTraffic" / "2024" / "05" / "01" / "10"
>>> hour.mkdir(parents=True)
>>> line = ('{"captureData": {"endpointInput": {"observedContentType": "text/csv", '
...         '"mode": "INPUT", "data": "%s", "encoding": "CSV"}}, "eventMetadata": '
...         '{"eventId": "e%d", "inferenceTime": "2024-05-01T10:%02d:00Z"}, "eventVersion": "0"}')
>>> _ = (hour / "00-00-000-a.jsonl").write_text(
...     "\\n".join(line % (f"{i},{i * 2}", i, i * 10) for i in range(6)) + "\\n")
>>> w = read_window(root, "churn", datetime(2024, 5, 1, 10, 15), datetime(2024, 5, 1, 10, 45))
>>> w.features().to_pydict()
{'_c0': ['2', '3', '4'], '_c1': ['4', '6', '8']}
>>> w.records_read, w.records_in_window, w.event_ids.to_pylist()
(6, 3, ['e2', 'e3', 'e4'])
>>> w.last_record_time.isoformat()
'2024-05-01T10:50:00+00:00'
>>> empty = read_window(root, "churn", datetime(2024, 5, 2), datetime(2024, 5, 2, 1))
>>> reason = empty.empty_reason()
>>> reason.startswith("no capture data in window [2024-05-02T00:00:00Z, 2024-05-02T01:00:00Z)")
True
>>> reason.split(": ", 1)[1]
'no hour folder overlaps the window; last record seen at 2024-05-01T10:50:00Z'
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from vigil.errors import ConfigError
from vigil.io.capture import (
    CONTENTS,
    CaptureDecoder,
    InferenceRecord,
    Preprocessor,
    load_preprocessor,
    parse_record,
    parse_time,
    preprocessed_rows,
)
from vigil.io.readers import BadRecords

__all__ = ["META_COLUMNS", "TIME_TYPE", "Window", "read_window"]

META_COLUMNS = ("__event_id", "__inference_id", "__inference_time")
TIME_TYPE = pa.timestamp("us", tz="UTC")
UTC = timezone.utc
HOUR = timedelta(hours=1)
MAX_WORKERS = 8

# -- times --------------------------------------------------------------------------------------


def _utc(value: datetime | str, name: str) -> datetime:
    if isinstance(value, str):
        try:
            return parse_time(value)
        except ValueError:
            raise ConfigError(f"{name} {value!r} is not an ISO-8601 time") from None
    if not isinstance(value, datetime):
        raise ConfigError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- the result ---------------------------------------------------------------------------------


@dataclass
class Window:
    """The rows of one window and what it took to read them.

    ``table`` holds the decoded columns then ``__event_id``, ``__inference_id`` and
    ``__inference_time``. ``records_read`` counts the records in the files read (the hour
    folders overlapping the window), ``records_in_window`` those whose ``inferenceTime`` is in
    ``[start, end)``, ``records_dropped`` those a preprocessor dropped (returned ``[]``).
    ``last_record_time`` is the latest ``inferenceTime`` under the endpoint and variant, in the
    window or not (the newest hour folder is read for it when the window does not reach it).
    ``fast_files`` counts the files read by the Arrow-only path (the others went record by
    record). Bad records (``bad``) hold the file, line and reason of each skipped record.
    """

    table: pa.Table
    bad: BadRecords
    files: list[str]
    records_read: int
    records_in_window: int
    last_record_time: datetime | None
    path: str = ""
    start: datetime | None = None
    end: datetime | None = None
    records_dropped: int = 0
    hour_folders: int = 0
    exists: bool = True
    fast_files: int = 0

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    @property
    def event_ids(self) -> pa.Array:
        return self.table.column("__event_id").combine_chunks()

    @property
    def inference_ids(self) -> pa.Array:
        return self.table.column("__inference_id").combine_chunks()

    @property
    def inference_times(self) -> pa.Array:
        return self.table.column("__inference_time").combine_chunks()

    def features(self) -> pa.Table:
        """The table without the ``__`` metadata columns: what a profiler should see."""
        return self.table.drop_columns([c for c in META_COLUMNS if c in self.table.column_names])

    def empty_reason(self) -> str:
        """Why the window holds no row ("" when it has rows): path, window, last record seen."""
        if self.table.num_rows:
            return ""
        window = f"[{_iso(self.start)}, {_iso(self.end)})" if self.start and self.end else ""
        head = f"no capture data in window {window} under {self.path}"
        last = (
            f"last record seen at {_iso(self.last_record_time)}"
            if self.last_record_time is not None
            else "no record has ever been captured there"
        )
        if not self.exists:
            return f"{head}: the folder does not exist; {last}"
        if not self.hour_folders:
            return f"{head}: no hour folder overlaps the window; {last}"
        read = (
            f"{self.records_read:,} records read from {len(self.files)} files in "
            f"{self.hour_folders} hour folders"
        )
        if not self.records_in_window:
            return f"{head}: {read}, none with inferenceTime in the window; {last}"
        causes = []
        if self.records_dropped:
            causes.append(f"{self.records_dropped:,} dropped by the preprocessor")
        if self.bad.count:
            first = f" (first: {self.bad.examples[0]})" if self.bad.examples else ""
            causes.append(f"{self.bad.count:,} bad records skipped{first}")
        why = "; ".join(causes) or "their payloads hold no rows"
        return f"{head}: {read}, {self.records_in_window:,} in the window gave no rows: {why}"

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary for an execution record."""
        return {
            "path": self.path,
            "start": _iso(self.start) if self.start else None,
            "end": _iso(self.end) if self.end else None,
            "rows": self.table.num_rows,
            "files": len(self.files),
            "records_read": self.records_read,
            "records_in_window": self.records_in_window,
            "records_dropped": self.records_dropped,
            "last_record_time": _iso(self.last_record_time) if self.last_record_time else None,
            "bad_records": self.bad.to_dict(),
        }


# -- storage: local paths or fsspec -------------------------------------------------------------


class _Store:
    """Lists folders and reads files under a local path or an fsspec URL."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        text = os.fspath(root)
        self.fs: Any = None
        if text.startswith("file://"):
            text = text[len("file://") :]
        elif "://" in text:
            import fsspec

            self.fs, text = fsspec.core.url_to_fs(text)
        self.root = text

    def join(self, *parts: str) -> str:
        if self.fs is None:
            return os.path.join(*parts)
        return "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(parts))

    def display(self, path: str) -> str:
        return path if self.fs is None else self.fs.unstrip_protocol(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path) if self.fs is None else bool(self.fs.isdir(path))

    def entries(self, path: str) -> list[tuple[str, str, bool]]:
        """(name, full path, is a directory) of each entry, sorted by name."""
        if self.fs is None:
            try:
                with os.scandir(path) as it:
                    found = [(e.name, e.path, e.is_dir()) for e in it]
            except (FileNotFoundError, NotADirectoryError):
                return []
        else:
            try:
                listing = self.fs.ls(path, detail=True)
            except (FileNotFoundError, NotADirectoryError):
                return []
            found = [
                (e["name"].rstrip("/").rsplit("/", 1)[-1], e["name"], e["type"] == "directory")
                for e in listing
            ]
        return sorted(found)

    def files(self, folder: str) -> list[str]:
        return [
            p
            for name, p, is_dir in self.entries(folder)
            if not is_dir and not name.startswith(".") and name.endswith((".jsonl", ".jsonl.gz"))
        ]

    def read(self, path: str) -> bytes:
        if self.fs is None:
            with open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = self.fs.cat_file(path)
        return gzip.decompress(raw) if path.endswith(".gz") else raw

    def hours(
        self, base: str, start: datetime, end: datetime, newest_first: bool = False
    ) -> Iterator[tuple[datetime, str]]:
        """(hour, folder) of each ``yyyy/mm/dd/hh`` folder whose hour overlaps [start, end)."""
        return _walk(self, base, (), start, end, newest_first)


def _span(parts: tuple[int, ...]) -> tuple[datetime, datetime] | None:
    try:
        if len(parts) == 1:
            return datetime(parts[0], 1, 1, tzinfo=UTC), datetime(parts[0] + 1, 1, 1, tzinfo=UTC)
        if len(parts) == 2:
            y, m = parts
            nxt = (
                datetime(y + 1, 1, 1, tzinfo=UTC) if m == 12 else datetime(y, m + 1, 1, tzinfo=UTC)
            )
            return datetime(y, m, 1, tzinfo=UTC), nxt
        lo = datetime(*parts, tzinfo=UTC)  # type: ignore[misc]
        return lo, lo + (timedelta(days=1) if len(parts) == 3 else HOUR)
    except (ValueError, OverflowError):
        return None


def _walk(
    store: _Store,
    folder: str,
    parts: tuple[int, ...],
    start: datetime,
    end: datetime,
    newest_first: bool,
) -> Iterator[tuple[datetime, str]]:
    children = []
    for name, path, is_dir in store.entries(folder):
        if is_dir and name.isdigit():
            span = _span((*parts, int(name)))
            if span is not None and span[0] < end and span[1] > start:
                children.append((span[0], path, (*parts, int(name))))
    children.sort(reverse=newest_first)
    for lo, path, sub in children:
        if len(sub) == 4:
            yield lo, path
        else:
            yield from _walk(store, path, sub, start, end, newest_first)


# -- reading one file ---------------------------------------------------------------------------

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
_TIME_SCHEMA = pa.schema([("eventMetadata", pa.struct([("inferenceTime", pa.string())]))])
# bytes after which a CSV payload needs Python's reading: quotes, whitespace (stripped), \r, NUL
_SPECIAL = (b'"', b" ", b"\t", b"\r", b"\x00", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")


@dataclass
class _Part:
    """What one file gave."""

    table: pa.Table | None = None
    records_read: int = 0
    records_in_window: int = 0
    records_dropped: int = 0
    last_time: datetime | None = None
    bad: list[tuple[int | None, str, str]] = field(default_factory=list)
    fast: bool = False


@dataclass
class _Reader:
    store: _Store
    decoder: CaptureDecoder
    handler: Preprocessor | None
    start: datetime
    end: datetime
    fast: bool = True
    threads: bool = False

    def read(self, path: str) -> _Part:
        try:
            raw = self.store.read(path)
        except (OSError, EOFError, zlib.error) as exc:
            return _Part(bad=[(None, f"cannot read the file: {exc}", "")])
        part = self._fast(raw) if self.fast else None
        return part if part is not None else self._slow(raw)

    # The fast path: Arrow only; None when the file needs the per-record path.
    def _fast(self, raw: bytes) -> _Part | None:
        try:
            table = pajson.read_json(
                pa.BufferReader(raw),
                read_options=pajson.ReadOptions(use_threads=self.threads, block_size=1 << 24),
                parse_options=pajson.ParseOptions(
                    explicit_schema=_SCHEMAS[self.decoder.content],
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
            pc.greater_equal(times, pa.scalar(self.start, TIME_TYPE)),
            pc.less(times, pa.scalar(self.end, TIME_TYPE)),
        )
        k = pc.sum(mask).as_py() or 0
        part = _Part(records_read=n, records_in_window=k, last_time=last, fast=True)
        if k == 0:
            return part
        if k < n:
            capture, meta, times = capture.filter(mask), meta.filter(mask), times.filter(mask)
        columns: dict[str, Any] = {}
        content = self.decoder.content
        if content in ("input", "both"):
            found = _csv_columns(
                pc.struct_field(capture, "endpointInput"),
                "_c",
                self.decoder.feature_names,
                self.threads,
            )
            if found is None:
                return None
            columns.update(found)
        if content in ("output", "both"):
            out = pc.struct_field(capture, "endpointOutput")
            if out.null_count == len(out):
                out = pc.struct_field(capture, "batchTransformOutput")
            found = _csv_columns(out, "_o", None, self.threads)
            if found is None:
                return None
            columns.update(found)
        columns["__event_id"] = pc.struct_field(meta, "eventId")
        columns["__inference_id"] = pc.struct_field(meta, "inferenceId")
        columns["__inference_time"] = times
        part.table = pa.table(columns)
        return part

    # The per-record path.
    def _slow(self, raw: bytes) -> _Part:
        part = _Part()
        rows: list[dict[str, Any]] = []
        meta: list[tuple[Any, Any, datetime]] = []
        decoder, handler = self.decoder, self.handler
        for lineno, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            part.records_read += 1
            try:
                record = parse_record(line)
                event = record.get("eventMetadata")
                event = event if isinstance(event, dict) else {}
                if event.get("inferenceTime") is None:
                    raise ValueError("no eventMetadata.inferenceTime")
                time = parse_time(event["inferenceTime"])
            except ValueError as exc:
                part.bad.append((lineno, str(exc), _text(line)))
                continue
            if part.last_time is None or time > part.last_time:
                part.last_time = time
            if not self.start <= time < self.end:
                continue
            part.records_in_window += 1
            try:
                if handler is None:
                    got = decoder.rows(record)
                else:
                    got = self._preprocess(record)
                    if not got:
                        part.records_dropped += 1
                        continue
            except (ValueError, KeyError, TypeError) as exc:
                part.bad.append((lineno, f"bad capture record: {exc}", _text(line)))
                continue
            except _PreprocessorError as exc:
                part.bad.append((lineno, str(exc), _text(line)))
                continue
            rows.extend(got)
            ids = (event.get("eventId"), event.get("inferenceId"), time)
            meta.extend([ids] * len(got))
        if rows:
            part.table = _rows_table(rows, meta)
        return part

    def _preprocess(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        assert self.handler is not None
        try:
            result = self.handler(InferenceRecord.of(record))
        except Exception as exc:
            raise _PreprocessorError(f"preprocessor raised {type(exc).__name__}: {exc}") from None
        try:
            return preprocessed_rows(result)
        except ValueError as exc:
            raise _PreprocessorError(str(exc)) from None


class _PreprocessorError(Exception):
    pass


def _text(line: bytes) -> str:
    return line[:400].decode("utf-8", "replace")


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


# -- the entry point ----------------------------------------------------------------------------


def read_window(
    root: str | os.PathLike[str],
    endpoint: str,
    start: datetime | str,
    end: datetime | str,
    *,
    variant: str = "AllTraffic",
    content: str = "input",
    features_attribute: str | None = None,
    inference_attribute: str | None = None,
    probability_attribute: str | None = None,
    feature_names: Sequence[str] | None = None,
    preprocessor: Callable[..., Any] | str | os.PathLike[str] | None = None,
    fast: bool = True,
) -> Window:
    """Read the captured records of ``endpoint``/``variant`` with ``inferenceTime`` in [start, end).

    ``start``/``end`` are datetimes (naive means UTC) or ISO-8601 strings. ``content``:
    ``input``, ``output`` or ``both``. The attributes and ``feature_names`` are explained in
    :mod:`vigil.io.capture`; ``preprocessor`` is a callable or a ``.py`` file defining
    SageMaker's ``preprocess_handler(inference_record[, logger])``: its rows replace the decoded
    payload. ``fast=False`` forces the per-record path (for tests and comparisons).
    """
    lo, hi = _utc(start, "start"), _utc(end, "end")
    if hi <= lo:
        raise ConfigError(f"the window is empty: end {_iso(hi)} is not after start {_iso(lo)}")
    if content not in CONTENTS:
        raise ConfigError(f"content {content!r} is not one of {', '.join(CONTENTS)}")
    if content == "input" and (inference_attribute or probability_attribute):
        raise ConfigError(
            "inference_attribute/probability_attribute read the output: use content='both' "
            "or content='output'"
        )
    decoder = CaptureDecoder(
        content,
        features_attribute,
        inference_attribute,
        probability_attribute,
        tuple(feature_names) if feature_names is not None else None,
    )
    handler = load_preprocessor(preprocessor) if preprocessor is not None else None
    store = _Store(root)
    base = store.join(store.root, endpoint, variant)
    folders = list(store.hours(base, lo, hi))
    files = [f for _, folder in folders for f in store.files(folder)]
    reader = _Reader(
        store,
        decoder,
        handler,
        lo,
        hi,
        fast=fast and handler is None and not decoder.uses_attributes,
        threads=len(files) == 1,
    )
    if handler is not None or len(files) < 2:
        parts = [reader.read(f) for f in files]
    else:
        with ThreadPoolExecutor(min(len(files), os.cpu_count() or 1, MAX_WORKERS)) as pool:
            parts = list(pool.map(reader.read, files))
    bad = BadRecords()
    for path, part in zip(files, parts):
        for line, reason, text in part.bad:
            bad.add(store.display(path), line, reason, text)
    times = [p.last_time for p in parts if p.last_time is not None]
    last = _latest(store, base, max(times) if times else None, {f for _, f in folders})
    return Window(
        table=_concat([p.table for p in parts if p.table is not None]),
        bad=bad,
        files=[store.display(f) for f in files],
        records_read=sum(p.records_read for p in parts),
        records_in_window=sum(p.records_in_window for p in parts),
        last_record_time=last,
        path=store.display(base),
        start=lo,
        end=hi,
        records_dropped=sum(p.records_dropped for p in parts),
        hour_folders=len(folders),
        exists=store.isdir(base),
        fast_files=sum(p.fast for p in parts),
    )


def _latest(store: _Store, base: str, seen: datetime | None, read: set[str]) -> datetime | None:
    """The latest inferenceTime under ``base``: ``seen`` or newer, from the newest folders."""
    far = (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
    for hour, folder in store.hours(base, *far, newest_first=True):
        if seen is not None and hour + HOUR <= seen:
            break
        if folder in read:
            continue
        found = [t for f in store.files(folder) if (t := _max_time(store, f)) is not None]
        if found:
            return max(found) if seen is None else max(seen, *found)
    return seen


def _max_time(store: _Store, path: str) -> datetime | None:
    try:
        raw = store.read(path)
    except (OSError, EOFError, zlib.error):
        return None
    try:
        table = pajson.read_json(
            pa.BufferReader(raw),
            parse_options=pajson.ParseOptions(
                explicit_schema=_TIME_SCHEMA, unexpected_field_behavior="ignore"
            ),
        )
        times = pc.cast(pc.struct_field(table.column(0), "inferenceTime"), TIME_TYPE)
        latest = pc.max(times).as_py()
        return None if latest is None else latest.astimezone(UTC)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    latest = None
    for line in raw.split(b"\n"):
        try:
            event = parse_record(line).get("eventMetadata") or {}
            time = parse_time(event.get("inferenceTime"))
        except (ValueError, AttributeError):
            continue
        latest = time if latest is None or time > latest else latest
    return latest
