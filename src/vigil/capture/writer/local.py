"""Local capture files: one minute per file, written as a hidden ``.part`` and published whole.

While its minute is open a file is ``.{name}.jsonl.part``, locked with ``flock``; every drain
of the buffer appends whole lines to it and every flush interval ``fsync`` s it. When the
minute is over it is renamed to ``{name}.jsonl`` (and the folder fsynced): a reader never sees
a torn or growing file.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from vigil.capture.writer.layout import PART_SUFFIX, _file_name

try:  # POSIX only: without it in-progress files are not locked and recover() trusts the caller
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

MAX_OPEN_FILES = 64  # beyond this many open minutes (a backfill), the oldest are published early


class _OpenFile:
    """One in-progress local file (``.{name}.part``) of one minute."""

    __slots__ = ("dirty", "fd", "final", "key", "minute", "part", "records", "size")

    def __init__(self, directory: Path, name: str, key: tuple[str, int]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.final = directory / name
        self.part = directory / f".{name}{PART_SUFFIX}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        self.fd = os.open(self.part, flags, 0o644)
        if fcntl is not None:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.key = key
        self.minute = key[1]
        self.size = 0
        self.records = 0
        self.dirty = False


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class _LocalSink:
    """Appends whole lines to per-minute ``.part`` files and publishes them by rename."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.open: dict[tuple[str, int], _OpenFile] = {}

    def add(self, hour: str, minute: int, first_t: float, data: bytes, records: int) -> None:
        """Append ``data`` (complete lines) to the minute's file; raises OSError on failure."""
        key = (hour, minute)
        f = self.open.get(key)
        if f is None:
            if len(self.open) >= MAX_OPEN_FILES:
                self.publish(self.open[min(self.open, key=lambda k: k[1])])
            f = self.open[key] = _OpenFile(self.base / hour, _file_name(first_t), key)
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(f.fd, view):]
        except OSError:
            os.ftruncate(f.fd, f.size)  # never leave half a batch behind
            raise
        f.size += len(data)
        f.records += records
        f.dirty = True

    def sync(self, before_minute: int | None) -> tuple[int, int, int, int]:
        """fsync every open file; publish those of minutes before ``before_minute`` (None: all).

        Returns (files published, 0, 0, 0): records and bytes are counted when appended.
        """
        published = 0
        for f in list(self.open.values()):
            if f.dirty:
                os.fsync(f.fd)
                f.dirty = False
            if before_minute is None or f.minute < before_minute:
                self.publish(f)
                published += 1
        return published, 0, 0, 0

    def publish(self, f: _OpenFile) -> None:
        """Rename a finished ``.part`` file to its final name (an empty one is removed)."""
        del self.open[f.key]
        try:
            if f.dirty:
                os.fsync(f.fd)
            if f.size:
                os.rename(f.part, f.final)
            else:
                os.unlink(f.part)
            _fsync_dir(f.final.parent)
        finally:
            os.close(f.fd)  # releases the lock only once the name is final

    def forget(self) -> None:
        """Drop open files without publishing them (the child side of a fork)."""
        for f in self.open.values():
            with contextlib.suppress(OSError):
                os.close(f.fd)
        self.open.clear()
