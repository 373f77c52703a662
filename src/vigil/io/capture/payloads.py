"""Captured payloads decoded by their ``encoding``: CSV text, JSON text (or JSON lines), BASE64.

A BASE64 payload is decoded and read as CSV or JSON by its ``observedContentType``; any other
content type is not tabular. Errors are :class:`~vigil.errors.InputError` (a ``ValueError``).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Mapping
from typing import Any

import orjson

from vigil.errors import InputError


def decode_payload(content: Mapping[str, Any]) -> tuple[str, Any]:
    """``("CSV", text)`` or ``("JSON", object)`` for one captured payload.

    >>> decode_payload({"data": "eyJhIjogMX0=", "encoding": "BASE64",
    ...                 "observedContentType": "application/json"})
    ('JSON', {'a': 1})
    """
    data = content.get("data")
    encoding = content.get("encoding")
    if not isinstance(data, str):
        raise InputError("'data' must be a string")
    if encoding == "CSV":
        return "CSV", data
    if encoding == "JSON":
        return "JSON", _load_json(data)
    if encoding != "BASE64":
        raise InputError(f"encoding {encoding!r} is not one of CSV, JSON, BASE64")
    ctype = str(content.get("observedContentType") or "").lower()
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"BASE64 payload is not tabular: invalid base64 ({exc})") from None
    kind = "CSV" if "csv" in ctype else "JSON" if "json" in ctype else None
    if kind is None:
        raise InputError(
            f"BASE64 payload of content type {ctype or 'unknown'!r} is not tabular "
            "(expected a CSV or JSON content type)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("BASE64 payload is not tabular: not UTF-8 text") from None
    return kind, (text if kind == "CSV" else _load_json(text))


def _load_json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1:  # JSON lines: one item per line
            try:
                return [orjson.loads(line) for line in lines]
            except orjson.JSONDecodeError:
                pass
        raise InputError(f"JSON payload does not parse ({exc})") from None


def csv_lines(text: str) -> list[list[str | None]]:
    """The rows of a CSV payload; values stripped, empty values null.

    >>> csv_lines("1, 2,,x\\n\\n3,4,5,6\\n")
    [['1', '2', None, 'x'], ['3', '4', '5', '6']]
    """
    if not text.strip():
        raise InputError("empty CSV payload")
    rows = []
    for values in csv.reader(io.StringIO(text)):
        if values:
            rows.append([v.strip() or None for v in values])
    return rows
