"""Capture folders under a local path or an fsspec URL: listing, reading, the hour folders.

Captures live in ``{root}/{endpoint}/{variant}/yyyy/mm/dd/hh/``; :meth:`_Store.hours` walks
only the year, month, day and hour folders that overlap a window. Dot-files (a writer's
in-progress ``.part`` files) are never read.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from vigil.capture.location import local_path
from vigil.capture.window.times import HOUR, UTC
from vigil.locations import filesystem, read_object


class _Store:
    """Lists folders and reads files under a local path or an fsspec URL."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        text = os.fspath(root)
        self.fs: Any = None
        local = local_path(text)
        if local is not None:
            text = str(local)
        else:
            # fsspec (30-50 ms to import) loads only for non-local roots
            self.fs, text = filesystem(text)
        self.root = text

    def join(self, *parts: str) -> str:
        if self.fs is None:
            return os.path.join(*parts)
        return "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(parts))

    def display(self, path: str) -> str:
        return path if self.fs is None else self.fs.unstrip_protocol(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path) if self.fs is None else bool(self.fs.isdir(path))

    def entries(self, path: str) -> list[tuple[str, str, bool]]:
        """(name, full path, is a directory) of each entry, sorted by name."""
        if self.fs is None:
            try:
                with os.scandir(path) as it:
                    found = [(e.name, e.path, e.is_dir()) for e in it]
            except (FileNotFoundError, NotADirectoryError):
                return []
        else:
            try:
                listing = self.fs.ls(path, detail=True)
            except (FileNotFoundError, NotADirectoryError):
                return []
            found = [
                (e["name"].rstrip("/").rsplit("/", 1)[-1], e["name"], e["type"] == "directory")
                for e in listing
            ]
        return sorted(found)

    def files(self, folder: str) -> list[str]:
        return [
            p
            for name, p, is_dir in self.entries(folder)
            if not is_dir and not name.startswith(".") and name.endswith((".jsonl", ".jsonl.gz"))
        ]

    def read(self, path: str) -> bytes:
        if self.fs is None:
            with open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = read_object(self.fs, path)
        return gzip.decompress(raw) if path.endswith(".gz") else raw

    def hours(
        self, base: str, start: datetime, end: datetime, newest_first: bool = False
    ) -> Iterator[tuple[datetime, str]]:
        """(hour, folder) of each ``yyyy/mm/dd/hh`` folder whose hour overlaps [start, end)."""
        return _walk(self, base, (), start, end, newest_first)


def _span(parts: tuple[int, ...]) -> tuple[datetime, datetime] | None:
    try:
        if len(parts) == 1:
            return datetime(parts[0], 1, 1, tzinfo=UTC), datetime(parts[0] + 1, 1, 1, tzinfo=UTC)
        if len(parts) == 2:
            y, m = parts
            nxt = (
                datetime(y + 1, 1, 1, tzinfo=UTC) if m == 12 else datetime(y, m + 1, 1, tzinfo=UTC)
            )
            return datetime(y, m, 1, tzinfo=UTC), nxt
        hour = parts[3] if len(parts) > 3 else 0
        lo = datetime(parts[0], parts[1], parts[2], hour, tzinfo=UTC)
        return lo, lo + (timedelta(days=1) if len(parts) == 3 else HOUR)
    except (ValueError, OverflowError):
        return None


def _walk(
    store: _Store,
    folder: str,
    parts: tuple[int, ...],
    start: datetime,
    end: datetime,
    newest_first: bool,
) -> Iterator[tuple[datetime, str]]:
    children = []
    for name, path, is_dir in store.entries(folder):
        if is_dir and name.isdigit():
            span = _span((*parts, int(name)))
            if span is not None and span[0] < end and span[1] > start:
                children.append((span[0], path, (*parts, int(name))))
    children.sort(reverse=newest_first)
    for lo, path, sub in children:
        if len(sub) == 4:
            yield lo, path
        else:
            yield from _walk(store, path, sub, start, end, newest_first)
