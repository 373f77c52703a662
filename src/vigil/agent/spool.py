"""The agent's disk queue: request bodies kept while the server cannot take them.

One file per batch, ``NNNNNNNNNNNN.json`` (a sequence number, so sorting the names is the
order they were written in), written whole: into a temporary file, fsynced, renamed into
place, the directory fsynced; a crash leaves either the whole batch or nothing (stray
temporaries are removed when the spool is opened). The spool survives the agent: a new
agent over the same directory sends what the last one left, in order. One agent at a time:
the spool holds an exclusive lock on ``.lock`` while open.

Bounded: when the files pass ``max_bytes`` the oldest are dropped, with a warning, and
counted (:attr:`Spool.dropped_batches`, :attr:`Spool.dropped_datapoints`). A batch the
server refuses for good (a 4xx but 429) goes to ``dead/`` with a ``.reason`` file beside it
and is not sent again.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

import orjson

from vigil.errors import InputError, VigilError

log = logging.getLogger(__name__)
SUFFIX = ".json"
DEFAULT_MAX_BYTES = 256 << 20


class SpoolBusyError(VigilError, RuntimeError):
    """Another agent holds the spool directory."""

    code = "spool_busy"


def datapoints_in(body: bytes) -> int:
    """How many datapoints a request body holds (0 when it is not one).

    >>> datapoints_in(b'{"namespace": "ns", "data": [{"name": "x", "value": 1}]}')
    1
    """
    try:
        data = orjson.loads(body).get("data")
    except (orjson.JSONDecodeError, AttributeError):
        return 0
    return len(data) if isinstance(data, list) else 0


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """The batches under ``directory``, oldest first; at most ``max_bytes`` of them."""

    def __init__(self, directory: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise InputError(f"spool max_bytes: expected a positive number, got {max_bytes}")
        self.directory = Path(directory)
        self.dead_dir = self.directory / "dead"
        self.max_bytes = max_bytes
        self.dead_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.directory / ".lock", "a+b")  # noqa: SIM115 (held while open)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise SpoolBusyError(
                f"spool {self.directory}: another agent is using it (one agent per spool)"
            ) from None
        for stray in self.directory.glob(".tmp-*"):
            stray.unlink(missing_ok=True)
        self.dropped_batches = 0
        self.dropped_datapoints = 0
        self._sizes = {p: p.stat().st_size for p in self._files()}
        self._next = 1 + max((int(p.stem) for p in self._sizes), default=0)

    def _files(self) -> list[Path]:
        return sorted(
            p for p in self.directory.iterdir() if p.suffix == SUFFIX and p.stem.isdigit()
        )

    def __len__(self) -> int:
        return len(self._sizes)

    @property
    def size(self) -> int:
        """Bytes the waiting batches take."""
        return sum(self._sizes.values())

    def pending(self) -> list[Path]:
        """The waiting batches, oldest first."""
        return sorted(self._sizes)

    def put(self, body: bytes) -> Path:
        """Keep ``body`` on disk (durably, whole) after the others; drop the oldest past the cap."""
        path = self.directory / f"{self._next:012d}{SUFFIX}"
        self._next += 1
        temporary = self.directory / f".tmp-{path.name}"
        with open(temporary, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _fsync_dir(self.directory)
        self._sizes[path] = len(body)
        self._enforce_cap()
        return path

    def _enforce_cap(self) -> None:
        while self.size > self.max_bytes and len(self._sizes) > 1:
            oldest = min(self._sizes)
            points = datapoints_in(oldest.read_bytes())
            self.remove(oldest)
            self.dropped_batches += 1
            self.dropped_datapoints += points
            log.warning(
                "spool %s is over %d bytes: dropped its oldest batch %s (%d datapoints; "
                "%d batches, %d datapoints dropped so far)",
                self.directory, self.max_bytes, oldest.name, points,
                self.dropped_batches, self.dropped_datapoints,
            )  # fmt: skip

    def read(self, path: Path) -> bytes:
        """The body of a waiting batch."""
        return path.read_bytes()

    def remove(self, path: Path) -> None:
        """Forget a batch (sent, or dropped)."""
        path.unlink(missing_ok=True)
        self._sizes.pop(path, None)

    def bury(self, path: Path, reason: str) -> Path:
        """Move a batch the server refused to ``dead/``, with the reason beside it."""
        target = self.dead_dir / path.name
        (self.dead_dir / f"{path.stem}.reason").write_text(reason + "\n")
        os.replace(path, target)
        self._sizes.pop(path, None)
        return target

    def bury_body(self, body: bytes, reason: str) -> Path:
        """Write a refused batch that never was in the spool straight to ``dead/``."""
        name = f"{self._next:012d}"
        self._next += 1
        (self.dead_dir / f"{name}.reason").write_text(reason + "\n")
        target = self.dead_dir / f"{name}{SUFFIX}"
        target.write_bytes(body)
        return target

    def close(self) -> None:
        """Release the lock (the files stay)."""
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
