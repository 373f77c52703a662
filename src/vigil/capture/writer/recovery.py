"""Recovery of the in-progress files a dead writer left (``kill -9``, power loss).

After a kill the lines written before it are safe in the writer's ``.part`` files;
:func:`recover` cuts a torn last line off and publishes them, so a crash loses only the
records that had not reached the file: at most one flush interval.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from vigil.capture.writer.layout import PART_SUFFIX, _split_destination
from vigil.capture.writer.local import _fsync_dir, fcntl

log = logging.getLogger(__name__)


def recover(
    destination: str | Path, endpoint: str | None = None, variant: str | None = None
) -> list[Path]:
    """Publish the in-progress files of writers that died (``kill -9``, power loss).

    Looks under ``{destination}[/{endpoint}[/{variant}]]`` for ``.{name}.jsonl.part`` files that
    no live writer holds (their ``flock`` is free), cuts a torn last line off, and renames each
    to ``{name}.jsonl`` (an empty one is removed). Every new local :class:`CaptureWriter` runs
    this for its endpoint and variant in its background thread. Returns the published paths.
    """
    local, _, _ = _split_destination(destination)
    if local is None:
        return []  # object stores only ever hold complete objects
    top = local
    if endpoint is not None:
        top = top / endpoint
        if variant is not None:
            top = top / variant
    published: list[Path] = []
    if not top.is_dir():
        return published
    for directory, _dirs, names in os.walk(top):
        for name in names:
            if name.startswith(".") and name.endswith(".jsonl" + PART_SUFFIX):
                path = Path(directory) / name
                done = _recover_one(path)
                if done is not None:
                    published.append(done)
    return published


def _recover_one(part: Path) -> Path | None:
    try:
        fd = os.open(part, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None  # published meanwhile
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None  # a live writer holds it
        try:
            if os.stat(part).st_ino != os.fstat(fd).st_ino:
                return None
        except FileNotFoundError:
            return None
        size = os.fstat(fd).st_size
        keep = _complete_length(fd, size)
        if keep != size:
            log.warning("%s: cut a torn last line (%d bytes)", part, size - keep)
            os.ftruncate(fd, keep)
        final = part.with_name(part.name[1 : -len(PART_SUFFIX)])
        if keep == 0:
            os.unlink(part)
            return None
        os.fsync(fd)
        os.rename(part, final)
        _fsync_dir(part.parent)
        return final
    finally:
        os.close(fd)


def _complete_length(fd: int, size: int) -> int:
    """Length of the file up to and including its last newline."""
    end = size
    block = 1 << 16
    while end > 0:
        start = max(0, end - block)
        chunk = os.pread(fd, end - start, start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        end = start
    return 0
