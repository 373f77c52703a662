"""Group commit of ingested capture lines: requests that arrive together share one write and
one ``fsync``.

A request awaits :meth:`GroupCommitter.store` with its lines by hour folder. While no commit
runs, the first request starts one; requests that arrive while it runs queue up and go
together into the next. A commit writes, for each capture root and hour folder, the lines of
all its requests as one new file: a hidden ``.{name}.jsonl.part`` (``flock`` ed), written
whole, ``fsync`` ed, then renamed to ``{name}.jsonl``. Only then is every request of the
group answered: an acknowledged record is on disk, and a reader (which skips hidden files)
never sees part of a file. The more requests arrive together, the fewer ``fsync`` s each costs.

The files are written (into the page cache: microseconds) and renamed on the event loop;
the ``fsync`` runs in a worker thread, while the event loop goes on taking (and checking)
the requests of the next group: one hand-over a group, none a request. (A thread that made
every system call of a commit would wait for the interpreter lock after each one, up to the
switch interval each time, while the event loop is busy.) Creating a file costs more than
writing it (the journal), so the worker, in the same hand-over, also creates the *next*
file of each hour folder of the group: a spare ``.part``, empty and locked, that the next
group writing there takes instead of creating one on the event loop. Spares of folders the
last group did not write are removed; :meth:`GroupCommitter.close` removes the rest, and
:func:`recover` removes the empty ones a crash left.

A crash (``kill -9``, power loss) leaves at most ``.part`` files; :func:`recover` publishes
them (a torn last line cut off), and the committer runs it once for every capture root it is
first given, in its worker thread, before its first file there.

>>> import asyncio, tempfile
>>> from pathlib import Path
>>> root = Path(tempfile.mkdtemp())
>>> committer = GroupCommitter()
>>> async def two_requests():
...     return await asyncio.gather(
...         committer.store(root, {"2024/05/01/10": b'{"a": 1}\\n'}),
...         committer.store(root, {"2024/05/01/10": b'{"a": 2}\\n', "2024/05/01/11": b'{}\\n'}))
>>> asyncio.run(two_requests())
[1, 2]
>>> committer.close()
>>> sorted(len(p.read_text().splitlines()) for p in root.rglob("*.jsonl"))
[1, 2]
>>> committer.requests, committer.commits, committer.fsyncs  # one group, a file per hour
(2, 1, 2)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vigil.capture.errors import CommitterClosedError
from vigil.capture.writer.layout import PART_SUFFIX, _file_name
from vigil.capture.writer.local import fcntl
from vigil.capture.writer.recovery import recover

log = logging.getLogger(__name__)

_MAX_FOLDERS = 4096  # hour folders remembered as existing (past that, asked again)
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


class _Request:
    """One request of a group: its lines by hour folder and the future it waits on."""

    __slots__ = ("future", "hours", "root")

    def __init__(self, root: Path, hours: dict[str, bytes], future: asyncio.Future[int]) -> None:
        self.root = root
        self.hours = hours
        self.future = future


class _Queue:
    """What waits on one event loop for the next commit, and whether one runs."""

    __slots__ = ("busy", "pending", "task")

    def __init__(self) -> None:
        self.pending: list[_Request] = []
        self.busy = False
        self.task: asyncio.Task[None] | None = None


class _File:
    """One file being committed: its requests and their lines, its descriptor and names."""

    __slots__ = ("at", "chunks", "error", "fd", "final", "folder", "part", "requests")

    def __init__(self, requests: list[_Request], folder: Path, chunks: list[bytes]) -> None:
        self.requests = requests
        self.folder = folder
        self.chunks = chunks
        self.fd = -1
        self.part = self.final = folder
        self.at = 0.0  # when its lines were written (its name's time)
        self.error: OSError | None = None


class GroupCommitter:
    """Stores ingested capture lines a group of requests at a time: one file and one
    ``fsync`` per (capture root, hour folder) and group, however many requests it holds.

    :attr:`requests`, :attr:`commits` and :attr:`fsyncs` count what it did (the tests and the
    benchmark read them). :meth:`close` waits for what runs and stops the ``fsync`` thread.
    """

    def __init__(self) -> None:
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )
        self._sync = ThreadPoolExecutor(1, thread_name_prefix="vigil-ingest-fsync")
        self._folders: set[Path] = set()  # hour folders known to exist
        self._recovered: set[Path] = set()
        self._spares: dict[Path, tuple[int, Path]] = {}  # hour folder -> (fd, .part path)
        self._spares_lock = threading.Lock()
        self._closed = False
        self.requests = 0
        self.commits = 0
        self.fsyncs = 0

    async def store(self, root: Path, hours: dict[str, bytes]) -> int:
        """Store ``hours`` (hour folder ``yyyy/mm/dd/hh`` -> complete JSON lines, each ending
        in a newline) under the local capture root ``root``; return how many files they went
        into, once they are durable. Raises the ``OSError`` that stopped them."""
        if self._closed:
            raise CommitterClosedError("the capture committer is closed: the server is stopping")
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        future: asyncio.Future[int] = loop.create_future()
        queue.pending.append(_Request(root, hours, future))
        if not queue.busy:
            queue.busy = True
            queue.task = loop.create_task(self._drain(queue))
        return await future

    async def _drain(self, queue: _Queue) -> None:
        try:
            while queue.pending:
                group, queue.pending = queue.pending, []
                try:
                    await self._commit(group)
                except BaseException as exc:  # never leave a request waiting
                    for request in group:
                        if not request.future.done():
                            request.future.set_exception(exc)
                    raise
        finally:
            queue.busy = False
            queue.task = None

    async def _commit(self, group: list[_Request]) -> None:
        """One file per (root, hour folder) of ``group``, synced together; then the answers."""
        self.commits += 1
        self.requests += len(group)
        loop = asyncio.get_running_loop()
        by_file: dict[tuple[Path, str], list[_Request]] = {}
        for request in group:
            if request.root not in self._recovered:  # before this committer's own files
                self._recovered.add(request.root)
                await loop.run_in_executor(self._sync, _recover_quietly, request.root)
            for hour in request.hours:
                by_file.setdefault((request.root, hour), []).append(request)
        files = [
            _File(requests, root / hour, [r.hours[hour] for r in requests])
            for (root, hour), requests in by_file.items()
        ]
        for f in files:  # into the page cache, on the event loop: microseconds
            try:
                self._write(f)
            except OSError as exc:
                f.error = exc
        if any(f.error is None for f in files):  # the wait, in the worker: one hand-over
            await loop.run_in_executor(self._sync, self._sync_files, files)
        self._publish(files)
        failed: dict[int, OSError] = {}
        for f in files:
            if f.error is not None:
                log.error("%s: %d request(s) not stored: %s", f.final, len(f.requests), f.error)
                for r in f.requests:
                    failed[id(r)] = f.error
        for request in group:
            error = failed.get(id(request))
            if request.future.done():  # the client went away (the request was cancelled)
                continue
            if error is not None:
                request.future.set_exception(error)
            else:
                request.future.set_result(len(request.hours))

    def _sync_files(self, files: list[_File]) -> None:
        """``fsync`` the written ``files`` (in the worker thread: one hand-over a group); each
        failure is kept in its file's ``error``. First the spares for the next group: a new
        file for each folder written, none kept for the others."""
        try:
            self._renew_spares({f.folder for f in files if f.error is None})
        except Exception:  # a spare is an optimisation: never the group's failure
            log.exception("spare capture files not renewed")
        for f in files:
            if f.error is None:
                f.final = f.folder / _file_name(f.at)
                try:
                    os.fsync(f.fd)
                    self.fsyncs += 1
                except OSError as exc:
                    f.error = exc

    def _renew_spares(self, folders: set[Path]) -> None:
        """A spare ``.part`` in each of ``folders`` (worker thread); the others' removed."""
        with self._spares_lock:
            stale = [(k, self._spares.pop(k)) for k in list(self._spares) if k not in folders]
            wanted = [k for k in folders if k not in self._spares]
        for _, spare in stale:
            _discard(spare)
        for folder in wanted:
            try:
                spare = _create_part(folder / f".{_file_name(time.time())}{PART_SUFFIX}")
            except OSError as exc:  # the event loop creates the file itself then
                log.debug("%s: no spare capture file: %s", folder, exc)
                continue
            with self._spares_lock:
                if self._closed or folder in self._spares:
                    _discard(spare)
                else:
                    self._spares[folder] = spare

    def _take_spare(self, folder: Path) -> tuple[int, Path] | None:
        """The spare ``.part`` of ``folder`` when there is one still in place."""
        with self._spares_lock:
            spare = self._spares.pop(folder, None)
        if spare is not None and os.fstat(spare[0]).st_nlink == 0:  # its folder was removed
            os.close(spare[0])
            return None
        return spare

    @staticmethod
    def _publish(files: list[_File]) -> None:
        """Rename each synced file to its final name; remove the ``.part`` of each failure."""
        for f in files:
            if f.error is None:
                try:
                    os.rename(f.part, f.final)
                except OSError as exc:
                    f.error = exc
            if f.fd >= 0:
                os.close(f.fd)
            if f.error is not None:
                with contextlib.suppress(OSError):
                    os.unlink(f.part)

    def _write(self, f: _File) -> None:
        """Take the spare ``.part`` of ``f``'s folder, or create one (locked), and write
        ``f``'s lines into it whole."""
        folder = f.folder
        spare = self._take_spare(folder)
        if spare is not None:
            f.fd, f.part = spare
        else:
            if folder not in self._folders:
                folder.mkdir(parents=True, exist_ok=True)
                if len(self._folders) >= _MAX_FOLDERS:
                    self._folders.clear()
                self._folders.add(folder)
            f.part = folder / f".{_file_name(time.time())}{PART_SUFFIX}"
            try:
                f.fd, _ = _create_part(f.part)
            except FileNotFoundError:  # the folder went away meanwhile
                self._folders.discard(folder)
                folder.mkdir(parents=True, exist_ok=True)
                f.fd, _ = _create_part(f.part)
        f.at = time.time()
        chunks = f.chunks
        view = memoryview(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        while view:
            view = view[os.write(f.fd, view) :]

    def close(self) -> None:
        """Refuse new requests and stop the ``fsync`` thread once what runs is done (call it
        after the event loop's requests are answered, e.g. when the server stops)."""
        self._closed = True
        self._sync.shutdown(wait=True)
        with self._spares_lock:
            spares, self._spares = list(self._spares.values()), {}
        for spare in spares:
            _discard(spare)

    async def aclose(self) -> None:
        """:meth:`close` from the event loop, after the commits it runs are done."""
        queue = self._queues.get(asyncio.get_running_loop())
        while queue is not None and queue.task is not None:
            await asyncio.shield(queue.task)
        await asyncio.get_running_loop().run_in_executor(None, self.close)


def _create_part(part: Path) -> tuple[int, Path]:
    """A new empty ``.part`` file, locked: recovery (by any process) leaves it alone."""
    fd = os.open(part, _FLAGS, 0o644)
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd, part


def _discard(spare: tuple[int, Path]) -> None:
    """Remove an unused spare ``.part`` (empty)."""
    fd, part = spare
    with contextlib.suppress(OSError):
        os.unlink(part)
    os.close(fd)


def _recover_quietly(root: Path) -> None:
    """:func:`recover` ``root`` (a crashed server's ``.part`` files), logging any failure."""
    try:
        done = recover(root)
    except Exception:
        log.exception("%s: recovery of in-progress capture files failed", root)
        return
    if done:
        log.warning("%s: published %d capture file(s) a crashed writer left", root, len(done))
