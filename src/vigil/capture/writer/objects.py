"""Capture objects in object stores (fsspec URLs: ``s3://``, ``memory://``, ...).

Object stores cannot append, so every flush interval writes one complete object per minute
that received records; objects of one minute are several files in the same hour folder, as
SageMaker's own readers expect.
"""

from __future__ import annotations

import logging
from typing import Any

from vigil.capture.writer.layout import _file_name

log = logging.getLogger(__name__)

OBJECT_FLUSH_BYTES = 8 << 20  # an object store write starts early past this much pending data


class _ObjectSink:
    """Collects lines per minute and stores each batch as one complete object (fsspec)."""

    def __init__(self, fs: Any, base: str) -> None:
        self.fs = fs
        self.base = base
        self.pending: dict[tuple[str, int], tuple[float, list[bytes], int]] = {}
        self.pending_bytes = 0

    def add(self, hour: str, minute: int, first_t: float, data: bytes, records: int) -> None:
        key = (hour, minute)
        entry = self.pending.get(key)
        if entry is None:
            self.pending[key] = (first_t, [data], records)
        else:
            entry[1].append(data)
            self.pending[key] = (entry[0], entry[1], entry[2] + records)
        self.pending_bytes += len(data)

    def sync(self, before_minute: int | None) -> tuple[int, int, int, int]:
        """Store every pending batch as one object: (objects, records, bytes, records failed)."""
        stored = records_ok = size = failed = 0
        for key in list(self.pending):
            first_t, chunks, records = self.pending.pop(key)
            blob = b"".join(chunks)
            self.pending_bytes -= len(blob)
            path = f"{self.base}/{key[0]}/{_file_name(first_t)}"
            try:
                self.fs.pipe_file(path, blob)
            except Exception:
                failed += records
                log.exception("%s: %d capture record(s) not stored", path, records)
                continue
            stored += 1
            records_ok += records
            size += len(blob)
        return stored, records_ok, size, failed

    def forget(self) -> None:
        self.pending.clear()
        self.pending_bytes = 0
