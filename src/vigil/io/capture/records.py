"""Capture lines as records and rows, and their ``inferenceTime``.

Errors are :class:`~vigil.errors.InputError` (a ``ValueError``): callers count the record as
bad.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson

from vigil.errors import InputError
from vigil.io.capture.decoder import CONTENTS, CaptureDecoder, Row

_DECODERS = {content: CaptureDecoder(content) for content in CONTENTS}


def parse_record(line: str | bytes) -> dict[str, Any]:
    """One capture line as a dict; ``ValueError`` when it is not a JSON object."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise InputError("expected a JSON object with 'captureData'")
    return record


def capture_rows(line: str | bytes, content: str = "input") -> list[Row]:
    """Rows of one capture line; ``content`` is ``input``, ``output`` or ``both``."""
    decoder = _DECODERS.get(content) or CaptureDecoder(content)
    return decoder.rows(parse_record(line))


def parse_time(text: Any) -> datetime:
    """An ISO-8601 ``inferenceTime`` as an aware UTC datetime (no offset means UTC).

    >>> parse_time("2022-04-18T00:21:48Z")
    datetime.datetime(2022, 4, 18, 0, 21, 48, tzinfo=datetime.timezone.utc)
    """
    if not isinstance(text, str):
        raise InputError(f"inferenceTime {text!r} is not an ISO-8601 time")
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"inferenceTime {text!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
