"""Readers that turn inputs into a stream of Arrow tables, counting bad records.

Inputs are in-memory tables (pyarrow, pandas, Polars) or paths: a file, a directory (every
data file under it) or a glob. Formats: CSV with or without a header (columns then ``_c0``,
``_c1``, ...), Parquet, JSON lines and SageMaker capture files. Files stream in chunks, so
memory stays bounded whatever their size. A malformed CSV row, JSON line or capture record is
skipped and recorded (file, line, reason) in a :class:`BadRecords`; it never stops the run.

Text files are UTF-8 unless an ``encoding`` is given (any Python codec name, such as
``latin-1``); a UTF-8 byte-order mark is dropped. CSV files are comma-separated (``.tsv``:
tab-separated) unless a ``delimiter`` is given: one character, or ``tab``, ``space``,
``semicolon``, ``comma``, ``pipe``. A file that is not text in its encoding is an
:class:`~vigil.errors.InputError` naming the file, the byte and the ``--encoding`` option.
"""

from __future__ import annotations

import codecs
import csv
import glob
import gzip
import io
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from vigil.errors import EmptyInputError, InputError, VigilError
from vigil.locations import is_url, local_path

FORMATS = ("auto", "csv", "parquet", "jsonl", "capture")
BATCH_ROWS = 262_144
MAX_ROW_GROUP_ROWS = 2_000_000
CSV_BLOCK_BYTES = 16 << 20
MAX_EXAMPLES = 10
DELIMITERS = {"tab": "\t", "space": " ", "semicolon": ";", "comma": ",", "pipe": "|"}
_DATA_SUFFIXES = (".csv", ".parquet", ".pq", ".jsonl", ".json", ".ndjson", ".tsv", ".gz")


@dataclass
class BadRecord:
    """One skipped record: where it was and why."""

    source: str
    line: int | None
    reason: str
    text: str = ""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.source, "line": self.line, "reason": self.reason, "text": self.text}


@dataclass
class BadRecords:
    """The count of skipped records and the first few of them."""

    count: int = 0
    examples: list[BadRecord] = field(default_factory=list)

    def add(self, source: str, line: int | None, reason: str, text: str = "") -> None:
        self.count += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(BadRecord(source, line, reason, text[:200]))

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "examples": [e.to_dict() for e in self.examples]}


def error_text(exc: BaseException) -> str:
    """An exception as a bad record's reason: a :class:`VigilError`'s message without its code.

    >>> error_text(InputError("empty CSV payload")), error_text(KeyError("data"))
    ('empty CSV payload', "'data'")
    """
    return exc.message if isinstance(exc, VigilError) else str(exc)


def resolve_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Expand files, directories and globs into a sorted list of files. Object-store URLs
    (``s3://bucket/key``, a prefix, a glob) are fetched into a local cache first (see
    :mod:`vigil.io.remote`), so every reader below reads local files."""
    files: list[Path] = []
    for item in inputs:
        text = os.fspath(item)
        if is_url(text):
            # lazy: fsspec loads only for URLs (vigil.io.remote imports it on use)
            from vigil.io.remote import fetch_inputs

            files.extend(fetch_inputs(text, _DATA_SUFFIXES))
            continue
        p = local_path(text) or Path(text)
        if p.is_dir():
            found = sorted(
                q for q in p.rglob("*") if q.is_file() and q.name.lower().endswith(_DATA_SUFFIXES)
            )
            if not found:
                raise EmptyInputError(
                    f"{p}: directory holds no data file ({', '.join(_DATA_SUFFIXES)})"
                )
            files.extend(found)
        elif p.is_file():
            files.append(p)
        elif any(ch in text for ch in "*?["):
            found = sorted(Path(m) for m in glob.glob(text, recursive=True) if Path(m).is_file())
            if not found:
                raise InputError(f"{text}: the pattern matches no file")
            files.extend(found)
        elif p.exists():
            raise InputError(f"{p}: not a regular file")
        else:
            raise InputError(f"{p}: no such file or directory")
    return files


def resolve_sources(inputs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """As :func:`resolve_inputs`, but object-store URLs stay URLs (each object's own, listed
    without fetching it): the sources a distributed engine hands its tasks, which read them
    where they run (:func:`iter_tables` fetches a URL itself)."""
    sources: list[str] = []
    for item in inputs:
        text = os.fspath(item)
        if is_url(text):
            # lazy: fsspec loads only for URLs
            from vigil.io.remote import list_inputs

            sources.extend(list_inputs(text, _DATA_SUFFIXES))
        else:
            sources.extend(str(p) for p in resolve_inputs([text]))
    return sources


def check_delimiter(delimiter: str | None) -> str | None:
    """A ``delimiter`` option as the one character it names (None: from the file name).

    >>> check_delimiter("tab") == chr(9), check_delimiter(";"), check_delimiter("space")
    (True, ';', ' ')
    """
    if delimiter is None:
        return None
    text = DELIMITERS.get(delimiter.lower(), "\t" if delimiter == "\\t" else delimiter)
    if len(text) != 1 or text in ('"', "\n", "\r"):
        raise InputError(
            f"--delimiter {delimiter!r}: expected one character (such as ';') or one of "
            f"{', '.join(DELIMITERS)}"
        )
    return text


def check_encoding(encoding: str) -> str:
    """An ``encoding`` option as the codec's name; UTF-8 reads drop a byte-order mark."""
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, TypeError, ValueError):
        raise InputError(
            f"--encoding {encoding!r}: not a known text encoding; expected one such as "
            "utf-8, latin-1 or cp1252"
        ) from None
    return "utf-8-sig" if name in ("utf-8", "utf-8-sig") else name


def _not_text(path: Path, exc: UnicodeDecodeError) -> InputError:
    return InputError(
        f"{path}: not {exc.encoding} text (byte {exc.object[exc.start]:#04x} at offset "
        f"{exc.start}); pass --encoding, such as --encoding latin-1"
    )


def detect_format(path: Path, encoding: str = "utf-8-sig") -> str:
    """Guess a file's format from its name, or from its first line for JSON."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        try:
            with _open_text(path, encoding) as fh:
                first = fh.readline()
        except UnicodeDecodeError as exc:
            raise _not_text(path, exc) from None
        return "capture" if '"captureData"' in first else "jsonl"
    raise InputError(f"{path}: cannot tell the format from the name; pass --format")


def _open_text(path: Path, encoding: str = "utf-8-sig") -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding=encoding)
    return open(path, encoding=encoding)


def iter_tables(
    data: Any,
    *,
    format: str = "auto",
    header: bool = True,
    bad: BadRecords | None = None,
    capture_content: str = "input",
    on_bytes: Callable[[int], None] | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8",
) -> Iterator[pa.Table]:
    """Yield the input as a stream of Arrow tables (``delimiter`` and ``encoding``: see the
    module's text)."""
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    if capture_content not in ("input", "output", "both"):
        raise InputError(
            f"--capture-content {capture_content!r}: expected one of input, output, both"
        )
    sep = check_delimiter(delimiter)
    codec = check_encoding(encoding)
    bad = bad if bad is not None else BadRecords()
    table = to_arrow(data)
    if table is not None:
        yield table
        return
    readers: dict[str, Callable[[Path], Iterator[pa.Table]]] = {
        "csv": lambda p: _iter_csv(p, header, bad, sep, codec),
        "parquet": _iter_parquet,
        "jsonl": lambda p: _iter_jsonl(p, bad, codec),
        "capture": lambda p: _iter_capture(p, bad, capture_content, codec),
    }
    inputs = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    for path in resolve_inputs(inputs):
        fmt = detect_format(path, codec) if format == "auto" else format
        try:
            yield from readers[fmt](path)
        except UnicodeDecodeError as exc:
            raise _not_text(path, exc) from None
        except (OSError, pa.ArrowInvalid) as exc:
            hint = "; pass --encoding, such as --encoding latin-1" if "UTF8" in str(exc) else ""
            raise InputError(f"{path}: cannot read as {fmt}: {exc}{hint}") from None
        if on_bytes is not None:
            on_bytes(path.stat().st_size)


def to_arrow(data: Any) -> pa.Table | None:
    """An in-memory table (pyarrow, pandas, Polars) as Arrow, or None for paths."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False)
    if module == "polars":
        return data.to_arrow()
    return None


def _iter_parquet(path: Path) -> Iterator[pa.Table]:
    """Row group by row group (columns decoded in parallel); text columns stay dictionary
    encoded, so their values are classified and counted once per distinct value."""
    schema = pq.read_schema(path)
    text = [
        f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    pf = pq.ParquetFile(path, read_dictionary=text)
    meta = pf.metadata
    groups = meta.num_row_groups
    if all(meta.row_group(i).num_rows <= MAX_ROW_GROUP_ROWS for i in range(groups)):
        # Row group i + 1 is read in a thread while the caller profiles row group i (the
        # decoder releases the GIL): two row groups in memory at most.
        with ThreadPoolExecutor(1, thread_name_prefix="vigil-parquet") as pool:
            ahead = pool.submit(pf.read_row_group, 0) if groups else None
            for i in range(groups):
                assert ahead is not None
                table = ahead.result()
                ahead = pool.submit(pf.read_row_group, i + 1) if i + 1 < groups else None
                yield table
        return
    for batch in pf.iter_batches(batch_size=BATCH_ROWS):
        yield pa.Table.from_batches([batch])


def _csv_names(path: Path, header: bool, delimiter: str, encoding: str) -> list[str]:
    with _open_text(path, encoding) as fh:
        first = next(csv.reader(fh, delimiter=delimiter), None)
    if first is None:
        raise EmptyInputError(f"{path}: file is empty; expected a CSV header or rows")
    if header:
        return [name.strip() for name in first]
    return [f"_c{i}" for i in range(len(first))]


def _iter_csv(
    path: Path, header: bool, bad: BadRecords, sep: str | None = None, encoding: str = "utf-8-sig"
) -> Iterator[pa.Table]:
    tsv = path.name.lower().removesuffix(".gz").endswith(".tsv")
    delimiter = sep or ("\t" if tsv else ",")
    names = _csv_names(path, header, delimiter, encoding)
    source = str(path)

    def on_invalid(row: Any) -> str:
        line = row.number if row.number is not None and row.number >= 0 else None
        bad.add(
            source,
            line,
            f"expected {row.expected_columns} columns, found {row.actual_columns}",
            row.text or "",
        )
        return "skip"

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            column_names=names,
            skip_rows=1 if header else 0,
            block_size=CSV_BLOCK_BYTES,
            use_threads=False,
            encoding="utf8" if encoding == "utf-8-sig" else encoding,
        ),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True
        ),
    )
    for batch in reader:
        yield pa.Table.from_batches([batch])


def _iter_jsonl(path: Path, bad: BadRecords, encoding: str = "utf-8-sig") -> Iterator[pa.Table]:
    rows: list[dict[str, Any]] = []
    with _open_text(path, encoding) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                bad.add(str(path), lineno, f"not valid JSON ({exc})", line)
                continue
            if not isinstance(obj, dict):
                bad.add(str(path), lineno, "expected a JSON object", line)
                continue
            rows.append(obj)
            if len(rows) >= BATCH_ROWS // 4:
                yield _rows_table(rows)
                rows = []
    if rows:
        yield _rows_table(rows)


def _rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows of flat objects as a table; nested values are kept as JSON text."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array(
                [
                    None if v is None else (v if isinstance(v, str) else orjson.dumps(v).decode())
                    for v in values
                ],
                pa.string(),
            )
        if pa.types.is_struct(columns[name].type) or pa.types.is_list(columns[name].type):
            columns[name] = pa.array(
                [None if v is None else orjson.dumps(v).decode() for v in values], pa.string()
            )
    return pa.table(columns)


def _iter_capture(
    path: Path, bad: BadRecords, content: str, encoding: str = "utf-8-sig"
) -> Iterator[pa.Table]:
    # lazy: the capture decoder (JMESPath and six modules, ~12 ms) loads only for capture
    # files, not for every CSV or Parquet baseline
    from vigil.io.capture import capture_rows

    rows: list[dict[str, Any]] = []
    with _open_text(path, encoding) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.extend(capture_rows(line, content))
            except (ValueError, KeyError, TypeError) as exc:
                bad.add(str(path), lineno, f"bad capture record: {error_text(exc)}", line)
            if len(rows) >= BATCH_ROWS // 4:
                yield _rows_table(rows)
                rows = []
    if rows:
        yield _rows_table(rows)
