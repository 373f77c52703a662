"""The per-record path: each capture line decoded in Python, bad records counted, never fatal.

Payloads are decoded by :class:`~vigil.io.capture.CaptureDecoder` or, with a preprocessor, by
SageMaker's ``preprocess_handler`` contract; a record that cannot be used is kept as
``(line, reason, text)`` in the part's ``bad`` list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vigil.capture.window.result import _Part
from vigil.capture.window.tables import _rows_table
from vigil.errors import InputError
from vigil.io.capture import (
    CaptureDecoder,
    InferenceRecord,
    Preprocessor,
    PreprocessorError,
    parse_record,
    parse_time,
    preprocessed_rows,
)
from vigil.io.readers import error_text


def _records_part(
    raw: bytes,
    decoder: CaptureDecoder,
    handler: Preprocessor | None,
    start: datetime,
    end: datetime,
) -> _Part:
    """What one file gives, read record by record."""
    part = _Part()
    rows: list[dict[str, Any]] = []
    meta: list[tuple[Any, Any, datetime]] = []
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        part.records_read += 1
        try:
            record = parse_record(line)
            event = record.get("eventMetadata")
            event = event if isinstance(event, dict) else {}
            if event.get("inferenceTime") is None:
                raise InputError("no eventMetadata.inferenceTime")
            time = parse_time(event["inferenceTime"])
        except ValueError as exc:
            part.bad.append((lineno, error_text(exc), _text(line)))
            continue
        if part.last_time is None or time > part.last_time:
            part.last_time = time
        if not start <= time < end:
            continue
        part.records_in_window += 1
        try:
            if handler is None:
                got = decoder.rows(record)
            else:
                got = _preprocess(handler, record)
                if not got:
                    part.records_dropped += 1
                    continue
        except PreprocessorError as exc:
            part.bad.append((lineno, exc.message, _text(line)))
            continue
        except (ValueError, KeyError, TypeError) as exc:
            part.bad.append((lineno, f"bad capture record: {error_text(exc)}", _text(line)))
            continue
        rows.extend(got)
        ids = (event.get("eventId"), event.get("inferenceId"), time)
        meta.extend([ids] * len(got))
    if rows:
        part.table = _rows_table(rows, meta)
    return part


def _preprocess(handler: Preprocessor, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows a preprocessor makes of one record; :class:`PreprocessorError` if it fails."""
    try:
        result = handler(InferenceRecord.of(record))
    except Exception as exc:
        raise PreprocessorError(f"preprocessor raised {type(exc).__name__}: {exc}") from None
    return preprocessed_rows(result)


def _text(line: bytes) -> str:
    return line[:400].decode("utf-8", "replace")
