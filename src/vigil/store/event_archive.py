"""The event archive: every stored event, one JSON line (its envelope) per event, in a file
per UTC day of receipt: ``<root>/events/archive/YYYY/MM/DD/events.jsonl``. The root is the
data directory unless ``VIGIL_EVENTS_ARCHIVE_URI`` moves it (``Settings.events_archive_root``).

A batch is appended in one ``write`` of whole lines and fsync'd before the call returns; a
line cut short by a crash is dropped before the next append and skipped by
:func:`read_archive`, so no reader ever sees a partial line as an event.

Under an object-store root (``s3://bucket/vigil``) objects cannot be appended to: each batch is
one whole object in the day's folder, ``HH-MM-SS-mmm-<uuid>.jsonl`` by the time it was
received, and :func:`read_archive` reads the day's objects in name order (oldest first).

>>> import tempfile
>>> from datetime import datetime, timezone
>>> root = Path(tempfile.mkdtemp())
>>> day = datetime(2024, 5, 1, 23, 59, tzinfo=timezone.utc)
>>> append_events(root, [{"id": "a", "detail": {}}, {"id": "b", "detail": {}}], day)
2
>>> archive_path(root, day).relative_to(root).as_posix()
'events/archive/2024/05/01/events.jsonl'
>>> [e["id"] for e in read_archive(root, day)]
['a', 'b']
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from vigil.locations import ObjectPath, is_url

__all__ = ["ARCHIVE_DIR", "append_events", "archive_path", "read_archive"]

ARCHIVE_DIR = Path("events") / "archive"
_lock = threading.Lock()


def archive_path(data_dir: str | Path, day: datetime) -> Path:
    """The archive file of the UTC day of ``day``."""
    t = day.astimezone(timezone.utc)
    return Path(data_dir) / ARCHIVE_DIR / f"{t:%Y}" / f"{t:%m}" / f"{t:%d}" / "events.jsonl"


def _drop_partial_tail(fd: int) -> None:
    """Cut a last line left without its newline (a crash mid-write) off the file."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return
    if os.pread(fd, 1, size - 1) == b"\n":
        return
    start = max(0, size - (1 << 20))
    tail = os.pread(fd, size - start, start)
    cut = tail.rfind(b"\n")
    os.ftruncate(fd, start + cut + 1 if cut >= 0 else start)


def _day_prefix(root: str, day: datetime) -> ObjectPath:
    t = day.astimezone(timezone.utc)
    return ObjectPath.from_url(root) / ARCHIVE_DIR.as_posix() / f"{t:%Y}" / f"{t:%m}" / f"{t:%d}"


def append_events(
    data_dir: str | Path, events: Sequence[Mapping[str, Any]], received: datetime
) -> int:
    """Append ``events`` (envelopes) to the archive of ``received``'s day, durably; returns
    how many lines were written (``data_dir``: the archive's root, a folder or a URL)."""
    if not events:
        return 0
    data = b"".join(orjson.dumps(e) + b"\n" for e in events)
    if is_url(data_dir):
        t = received.astimezone(timezone.utc)
        name = f"{t:%H-%M-%S}-{t.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
        (_day_prefix(str(data_dir), received) / name).write_bytes(data)  # one whole object
        return len(events)
    path = archive_path(data_dir, received)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            _drop_partial_tail(fd)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    return len(events)


def read_archive(data_dir: str | Path, day: datetime) -> Iterator[dict[str, Any]]:
    """The events archived on ``day``, oldest first; an unfinished last line is skipped."""
    if is_url(data_dir):
        folder = _day_prefix(str(data_dir), day)
        if not folder.is_dir():
            return
        for part in folder.iterdir():
            if part.name.endswith(".jsonl") and not part.name.startswith("."):
                for line in part.read_bytes().splitlines(keepends=True):
                    if line.endswith(b"\n"):
                        yield orjson.loads(line)
        return
    path = archive_path(data_dir, day)
    if not path.is_file():
        return
    with path.open("rb") as f:
        for line in f:
            if line.endswith(b"\n"):
                yield orjson.loads(line)
