"""Capture records as SageMaker capture lines: encodings (CSV, JSON, BASE64) and key order.

A buffered item is the tuple ``capture()`` appends; :class:`_Encoder` turns it into one line,
on the writer's background thread only.

>>> encoder = _Encoder("both", ("text/csv",), ("application/json",))
>>> encoder.kind("text/csv; charset=utf-8"), encoder.kind("application/json"), encoder.kind(None)
('CSV', 'JSON', 'BASE64')
>>> line, hour, minute, t = encoder.line(
...     (0.0, "1,2", b"\\x89", "text/csv", "image/png", "7", None, "e1", None))
>>> record = orjson.loads(line)
>>> list(record), record["captureData"]["endpointOutput"]["data"]
(['captureData', 'eventMetadata', 'eventVersion'], 'iQ==')
>>> record["eventMetadata"]
{'eventId': 'e1', 'inferenceId': '7', 'inferenceTime': '1970-01-01T00:00:00Z'}
>>> hour, minute
('1970/01/01/00', 0)
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterable
from datetime import timezone
from typing import Any

import orjson

# item: (time, request, response, content type, accept, inference id, attributes, event id, dt)
_Item = tuple[Any, ...]

_ENCODING_TAIL = {
    "CSV": b',"encoding":"CSV"}',
    "JSON": b',"encoding":"JSON"}',
    "BASE64": b',"encoding":"BASE64"}',
}
_UUID_POOL = 512


class _Encoder:
    """Turns buffered items into capture lines; runs on the background thread only.

    A line is assembled from pre-serialized fragments in SageMaker's key order (captureData,
    eventMetadata, eventVersion), strings escaped by orjson: the same bytes as
    ``orjson.dumps`` of the record, at a third of the cost.
    """

    def __init__(
        self, mode: str, csv_types: Iterable[str], json_types: Iterable[str]
    ) -> None:
        self.want_input = mode in ("input", "both")
        self.want_output = mode in ("output", "both")
        self.csv = {t.split(";", 1)[0].strip().lower() for t in csv_types}
        self.json = {t.split(";", 1)[0].strip().lower() for t in json_types}
        self._heads: dict[tuple[str, str | None], tuple[bytes, str]] = {}
        self._uuids: list[str] = []
        self._sec = -1
        self._iso = b""
        self._hour = ""

    def kind(self, content_type: str | None) -> str:
        """CSV, JSON or BASE64 for a content type (parameters such as charset ignored)."""
        media = (content_type or "").split(";", 1)[0].strip().lower()
        return "CSV" if media in self.csv else "JSON" if media in self.json else "BASE64"

    def content(self, mode: str, body: bytes | str, content_type: str | None) -> bytes:
        """One ``endpointInput`` / ``endpointOutput`` object, serialized."""
        head = self._heads.get((mode, content_type))
        if head is None:
            ctype = b"" if content_type is None else (
                b'"observedContentType":' + orjson.dumps(content_type) + b",")
            head = (b"{" + ctype + b'"mode":"' + mode.encode() + b'","data":',
                    self.kind(content_type))
            if len(self._heads) < 1024:
                self._heads[(mode, content_type)] = head
        prefix, encoding = head
        if encoding != "BASE64":
            if isinstance(body, str):
                return prefix + orjson.dumps(body) + _ENCODING_TAIL[encoding]
            try:
                return prefix + orjson.dumps(body.decode("utf-8")) + _ENCODING_TAIL[encoding]
            except UnicodeDecodeError:  # not text after all: keep it intact as base64
                pass
        raw = body.encode("utf-8") if isinstance(body, str) else body
        return prefix + b'"' + base64.b64encode(raw) + b'"' + _ENCODING_TAIL["BASE64"]

    def stamp(self, t: float) -> tuple[bytes, str, int]:
        """(ISO time with ``Z``, hour folder ``yyyy/mm/dd/hh``, minute number) of a time."""
        sec = int(t // 1)
        if sec != self._sec:
            tm = time.gmtime(sec)
            self._sec = sec
            self._iso = (f"{tm.tm_year:04d}-{tm.tm_mon:02d}-{tm.tm_mday:02d}"
                         f"T{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}Z").encode()
            self._hour = f"{tm.tm_year:04d}/{tm.tm_mon:02d}/{tm.tm_mday:02d}/{tm.tm_hour:02d}"
        return self._iso, self._hour, sec // 60

    def uuid4(self) -> str:
        """A random (version 4) UUID; the random bytes are read from the OS 512 at a time."""
        if not self._uuids:
            raw = os.urandom(16 * _UUID_POOL).hex()
            self._uuids = [
                f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"
                for h in (raw[i : i + 32] for i in range(0, len(raw), 32))
            ]
        return self._uuids.pop()

    def reset(self) -> None:
        """Forget the pooled random bytes (a forked child must not repeat its parent's ids)."""
        self._uuids.clear()

    def line(self, item: _Item) -> tuple[bytes, str, int, float]:
        """(line, hour folder, minute number, time) of one item."""
        t, request, response, ctype, accept, inference_id, attributes, event_id, when = item
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            t = when.timestamp()
        iso, hour, minute = self.stamp(t)
        parts = [b'{"captureData":{']
        if self.want_input:
            parts += (b'"endpointInput":', self.content("INPUT", request, ctype))
        if self.want_output and response is not None:
            if self.want_input:
                parts.append(b",")
            parts += (b'"endpointOutput":',
                      self.content("OUTPUT", response, ctype if accept is None else accept))
        parts += (b'},"eventMetadata":{"eventId":',
                  orjson.dumps(event_id) if event_id else b'"' + self.uuid4().encode() + b'"')
        if inference_id is not None:
            parts += (b',"inferenceId":', orjson.dumps(str(inference_id)))
        parts += (b',"inferenceTime":"', iso, b'"')
        if attributes is not None:
            values = [attributes] if isinstance(attributes, str) else [str(a) for a in attributes]
            parts += (b',"customAttributes":', orjson.dumps(values))
        parts.append(b'},"eventVersion":"0"}\n')
        return b"".join(parts), hour, minute, t
