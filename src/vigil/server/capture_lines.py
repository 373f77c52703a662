"""Checking SageMaker capture lines as ingestion receives them: one typed decode for a plain
JSON-lines body (:func:`body_times`), a line at a time otherwise (:func:`line_time`), and
:func:`check_line`, which names the line and field it refuses."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import numpy as np
import orjson

from vigil.server.errors import ApiError

__all__ = ["body_times", "check_line", "line_time"]


class _Part(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    data: str
    encoding: Literal["CSV", "JSON", "BASE64"]
    observedContentType: str | None = None
    mode: str | None = None


class _CaptureData(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    endpointInput: _Part | None = None
    endpointOutput: _Part | None = None
    batchTransformOutput: _Part | None = None


class _EventMetadata(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    eventId: str
    inferenceTime: str | None = None
    inferenceId: str | None = None
    customAttributes: list[str] | str | None = None


class _CaptureLine(msgspec.Struct, forbid_unknown_fields=True, gc=False):  # no cycles
    """A SageMaker capture line with only SageMaker's keys, each holding a string (or a list
    of them): every such line the typed decoder accepts, :func:`check_line` accepts too, and
    it reads no number (which it might let by where orjson refuses one). Any other line gets
    :func:`check_line`'s verdict."""

    captureData: _CaptureData
    eventMetadata: _EventMetadata
    eventVersion: str | None = None


_decode_line = msgspec.json.Decoder(_CaptureLine).decode
_decode_lines = msgspec.json.Decoder(list[_CaptureLine]).decode


def body_times(body: bytes) -> list[str | None] | None:
    """The inferenceTime of every line of a JSON-lines body in one typed decode, when the
    body is plain: each line one object (it starts with ``{``, ends with ``}`` and a newline
    and is not blank), no carriage return. None for any other body, which
    :func:`line_time` then checks line by line (and names the line it refuses).

    The lines are decoded as one JSON array, a newline and a comma between them. A newline
    cannot be inside a JSON string, and a ``}`` followed by ``,{`` can stand only between
    two values of an array: inside an object a key must follow the comma, and no field of a
    capture line holds an array of objects. So the array decodes only when each line is one
    valid capture line, and then its items are the lines, in order.

    >>> line = b'{"captureData":{},"eventMetadata":{"eventId":"e","inferenceTime":"T"}}\\n'
    >>> body_times(line * 2), body_times(b"  " + line), body_times(line[:-1] * 2 + b"\\n")
    (['T', 'T'], None, None)
    """
    if body[:1] != b"{" or body[-2:] != b"}\n" or b"\r" in body:
        return None
    codes = np.frombuffer(body, np.uint8)  # the newlines found at memory speed (bytes.count
    ends = np.flatnonzero(codes == _NEWLINE)  # reads a byte at a time)
    inner = ends[:-1]  # the last one ends the body
    if inner.size and not (
        (codes[inner - 1] == _CLOSE).all() and (codes[inner + 1] == _OPEN).all()
    ):
        return None
    try:
        items = _decode_lines(b"[" + body[:-1].replace(b"\n", b"\n,") + b"]")
    except msgspec.DecodeError:
        return None
    if len(items) != ends.size:
        return None
    return [item.eventMetadata.inferenceTime for item in items]


_NEWLINE, _OPEN, _CLOSE = ord("\n"), ord("{"), ord("}")


def line_time(line: bytes, number: int) -> str | None:
    """The inferenceTime of a valid capture line: :func:`check_line`'s verdict, at half its
    cost for a plain SageMaker line (a typed decoder that builds no objects it does not
    keep); :func:`check_line` names what is wrong with a line it refuses."""
    try:
        return _decode_line(line).eventMetadata.inferenceTime
    except msgspec.DecodeError:  # not plain: extra keys, other types, or not valid at all
        return check_line(line, number)[1]


def check_line(line: bytes, number: int) -> tuple[dict[str, Any], str | None]:
    """Validate one SageMaker capture line cheaply (the hot path of ingestion); return the
    parsed record and its inferenceTime. Raises ApiError naming the line and field."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ApiError(422, "validation_error", f"line {number}: not valid JSON ({exc})") from None
    capture = record.get("captureData") if isinstance(record, dict) else None
    meta = record.get("eventMetadata") if isinstance(record, dict) else None
    if not isinstance(capture, dict) or not isinstance(meta, dict):
        raise ApiError(
            422,
            "validation_error",
            f"line {number}: expected an object with captureData and eventMetadata",
        )
    if not isinstance(meta.get("eventId"), str):
        raise ApiError(
            422, "validation_error", f"line {number}: eventMetadata.eventId: expected a string"
        )
    for key in ("endpointInput", "endpointOutput", "batchTransformOutput"):
        part = capture.get(key)
        if part is None:
            continue
        if (
            not isinstance(part, dict)
            or not isinstance(part.get("data"), str)
            or part.get("encoding") not in ("CSV", "JSON", "BASE64")
        ):
            raise ApiError(
                422,
                "validation_error",
                f"line {number}: captureData.{key}: "
                "expected data (a string) and encoding CSV, JSON or BASE64",
            )
    when = meta.get("inferenceTime")
    if when is not None and not isinstance(when, str):
        raise ApiError(
            422,
            "validation_error",
            f"line {number}: eventMetadata.inferenceTime: expected an ISO-8601 string",
        )
    return record, when
