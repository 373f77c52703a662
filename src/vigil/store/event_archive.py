"""The event archive: every stored event, one JSON line (its envelope) per event, in a file
per UTC day of receipt: ``<data_dir>/events/archive/YYYY/MM/DD/events.jsonl``.

A batch is appended in one ``write`` of whole lines and fsync'd before the call returns; a
line cut short by a crash is dropped before the next append and skipped by
:func:`read_archive`, so no reader ever sees a partial line as an event.

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
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

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


def append_events(
    data_dir: str | Path, events: Sequence[Mapping[str, Any]], received: datetime
) -> int:
    """Append ``events`` (envelopes) to the archive of ``received``'s day, durably; returns
    how many lines were written."""
    if not events:
        return 0
    path = archive_path(data_dir, received)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(orjson.dumps(e) + b"\n" for e in events)
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
    path = archive_path(data_dir, day)
    if not path.is_file():
        return
    with path.open("rb") as f:
        for line in f:
            if line.endswith(b"\n"):
                yield orjson.loads(line)
