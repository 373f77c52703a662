"""Write SageMaker data-capture files from a serving process.

:class:`CaptureWriter` takes one record per inference: the caller only samples, timestamps and
appends a tuple to a bounded buffer; a background thread turns records into SageMaker capture
lines (orjson, SageMaker's key order) and writes them under
``{destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/{MM}-{SS}-{mmm}-{uuid}.jsonl``, the hour
folder being the UTC hour of the inference and the name the time of the file's first record.

Local destinations (a path or ``file://``): each file holds one minute of records. While its
minute is open the file is an in-progress ``.{name}.jsonl.part`` beside its final name, locked
with ``flock``; every drain of the buffer appends whole lines to it and every flush interval
``fsync`` s it. When the minute is over (or at :meth:`CaptureWriter.flush` and
:meth:`CaptureWriter.close`) it is renamed to ``{name}.jsonl``: a reader never sees a torn or
growing file. After a ``kill -9`` the lines written before the kill are safe in the ``.part``
file; :func:`recover` (run by every new writer for its endpoint and variant, in the background)
cuts a torn last line off and publishes it, so a crash loses only the records that had not
reached the file: at most one flush interval. (Appending straight to the visible file cannot
give that guarantee: the kernel applies a large ``write`` page by page and a ``SIGKILL`` between
two pages leaves half a line.)

Other fsspec URLs (``s3://``, ``memory://``, ...): object stores cannot append, so every flush
interval writes one complete object per minute that received records; objects of one minute
are several files in the same hour folder, as SageMaker's own readers expect.

>>> import pathlib, tempfile
>>> from vigil.formats import CaptureRecord
>>> root = tempfile.mkdtemp()
>>> with CaptureWriter("churn", destination=root) as writer:
...     writer.capture("132,10,182.9", "0.036", inference_id="58")
True
>>> [path] = pathlib.Path(root).rglob("*.jsonl")
>>> path.relative_to(root).parts[:2]
('churn', 'AllTraffic')
>>> record = CaptureRecord.loads(path.read_text().splitlines()[0])
>>> record.event_metadata.inference_id, record.capture_data.endpoint_input.data
('58', '132,10,182.9')
>>> writer.stats.written, writer.stats.dropped
(1, 0)
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import itertools
import logging
import os
import random
import signal
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from vigil.errors import ConfigError

try:  # POSIX only: without it in-progress files are not locked and recover() trusts the caller
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

CAPTURE_MODES = ("input", "output", "both")
WHEN_FULL = ("block", "drop")
PART_SUFFIX = ".part"
MAX_OPEN_FILES = 64  # beyond this many open minutes (a backfill), the oldest are published early
OBJECT_FLUSH_BYTES = 8 << 20  # an object store write starts early past this much pending data
_BODY_TYPES = (bytes, str)

# item: (time, request, response, content type, accept, inference id, attributes, event id, dt)
_Item = tuple[Any, ...]


@dataclass(frozen=True)
class CaptureStats:
    """Counters of one writer since it started (or since the process forked)."""

    captured: int  #: ``capture()`` calls that returned True (accepted into the buffer)
    sampled_out: int  #: calls skipped by sampling (or with nothing to capture in the mode)
    dropped: int  #: records lost to a full buffer (``drop``, or ``block`` past its timeout)
    written: int  #: records in files (local: appended; object stores: stored)
    failed: int  #: records the destination refused (I/O errors; logged)
    files: int  #: files published (local) or objects stored
    bytes: int  #: bytes written
    buffered: int  #: records waiting in the buffer now


def _count(counter: Any) -> int:
    """The next value of an ``itertools.count`` (its repr is ``count(n)``)."""
    return int(repr(counter)[6:-1])


def _split_destination(destination: str | Path) -> tuple[Path | None, Any, str]:
    """(local root, None, "") for local destinations, else (None, filesystem, root path)."""
    if isinstance(destination, Path) or "://" not in str(destination):
        return Path(destination).expanduser(), None, ""
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    fs, root = fsspec.core.url_to_fs(str(destination))
    if isinstance(fs, LocalFileSystem):
        return Path(root), None, ""
    return None, fs, root.rstrip("/")


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


def _file_name(t: float) -> str:
    """``{MM}-{SS}-{mmm}-{uuid}.jsonl`` for a file whose first record is at time ``t``."""
    tm = time.gmtime(int(t // 1))
    millis = min(int((t % 1) * 1000 + 1e-3), 999)  # 1e-3 ms: binary fractions like .1229999
    return f"{tm.tm_min:02d}-{tm.tm_sec:02d}-{millis:03d}-{uuid.uuid4()}.jsonl"


class _OpenFile:
    """One in-progress local file (``.{name}.part``) of one minute."""

    __slots__ = ("dirty", "fd", "final", "minute", "part", "records", "size")

    def __init__(self, directory: Path, name: str, minute: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.final = directory / name
        self.part = directory / f".{name}{PART_SUFFIX}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        self.fd = os.open(self.part, flags, 0o644)
        if fcntl is not None:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.minute = minute
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
            f = self.open[key] = _OpenFile(self.base / hour, _file_name(first_t), minute)
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
        self.open.pop(next(k for k, v in self.open.items() if v is f))
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


_LIVE: weakref.WeakSet[CaptureWriter] = weakref.WeakSet()


class CaptureWriter:
    """Capture an endpoint variant's requests and responses as SageMaker capture files.

    ``capture()`` costs the caller about a microsecond: it samples, timestamps and appends to a
    bounded buffer that a background thread drains every ``flush_interval`` seconds (sooner when
    the buffer is half full). When the buffer is full, ``when_full="block"`` waits up to
    ``block_timeout`` seconds for room and ``"drop"`` returns at once; a record that does not fit
    is counted in ``stats.dropped`` (metric ``capture_records_dropped``). ``close()`` (also on
    exit, through ``atexit``, and on SIGTERM with ``install_signal_handlers=True``) writes
    everything. Thread-safe; the buffer may exceed ``buffer_size`` by the number of threads
    capturing at the same instant. After ``os.fork`` the child starts its own empty buffer and
    thread.

    ``clock`` gives the inference time of records captured without ``inference_time`` and the
    minute that decides when a file is over; ``seed`` makes sampling reproducible. With
    ``recover_on_start`` (the default) the thread first publishes the in-progress files that
    dead writers left under this endpoint and variant (see :func:`recover`).
    """

    def __init__(
        self,
        endpoint: str,
        variant: str = "AllTraffic",
        destination: str | Path = "./vigil-data/capture",
        *,
        sampling_percentage: float = 100.0,
        capture_mode: str = "both",
        csv_content_types: Sequence[str] = ("text/csv",),
        json_content_types: Sequence[str] = ("application/json",),
        flush_interval: float = 1.0,
        buffer_size: int = 10_000,
        when_full: str = "block",
        block_timeout: float = 1.0,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
        install_signal_handlers: bool = False,
        recover_on_start: bool = True,
    ) -> None:
        for name, value in (("endpoint", endpoint), ("variant", variant)):
            if not value or "/" in value:
                raise ConfigError(f"{name} must be a non-empty name without '/', got {value!r}")
        if not 0.0 <= float(sampling_percentage) <= 100.0:
            raise ConfigError(
                f"sampling_percentage must be within 0-100, got {sampling_percentage}")
        if capture_mode not in CAPTURE_MODES:
            raise ConfigError(f"capture_mode must be one of {CAPTURE_MODES}, got {capture_mode!r}")
        if when_full not in WHEN_FULL:
            raise ConfigError(f"when_full must be one of {WHEN_FULL}, got {when_full!r}")
        if not flush_interval > 0:
            raise ConfigError(f"flush_interval must be > 0 seconds, got {flush_interval}")
        if int(buffer_size) < 1:
            raise ConfigError(f"buffer_size must be >= 1, got {buffer_size}")
        if block_timeout < 0:
            raise ConfigError(f"block_timeout must be >= 0 seconds, got {block_timeout}")
        self.endpoint = endpoint
        self.variant = variant
        self.destination = destination
        self.sampling_percentage = float(sampling_percentage)
        self.capture_mode = capture_mode
        self.flush_interval = float(flush_interval)
        self.buffer_size = int(buffer_size)
        self.when_full = when_full
        self.block_timeout = float(block_timeout)
        self._clock = clock
        self._random = random.Random(seed).random
        self._sample_all = self.sampling_percentage >= 100.0
        self._output_only = capture_mode == "output"
        self._encoder = _Encoder(capture_mode, csv_content_types, json_content_types)
        local, fs, root = _split_destination(destination)
        self._local_root = local
        if local is not None:
            self._sink: _LocalSink | _ObjectSink = _LocalSink(local / endpoint / variant)
        else:
            self._sink = _ObjectSink(fs, f"{root}/{endpoint}/{variant}")
        self._recover = recover_on_start and local is not None
        if install_signal_handlers:
            install_sigterm_flush()
        self._start()
        _LIVE.add(self)

    # -- state (re)initialisation ------------------------------------------------------------

    def _start(self) -> None:
        self._buf: deque[_Item] = deque()
        self._high = max(0, self.buffer_size // 2 - 1)
        self._wake = threading.Event()
        self._space = threading.Condition(threading.RLock())
        self._done = threading.Condition(threading.Lock())
        self._close_lock = threading.RLock()
        self._sampled = itertools.count()
        self._dropped = 0
        self._dequeued = 0
        self._written = 0
        self._failed = 0
        self._files = 0
        self._bytes = 0
        self._flush_asked = 0
        self._flush_done = 0
        self._closing = False
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name=f"vigil-capture-{self.endpoint}", daemon=True
        )
        self._thread.start()

    def _after_fork(self) -> None:
        """In a forked child: forget the parent's buffer and files, start a fresh thread."""
        self._sink.forget()
        self._encoder.reset()
        self._recover = False
        if not self._closed:
            self._start()

    # -- the caller's side ---------------------------------------------------------------------

    def capture(
        self,
        request_body: bytes | str,
        response_body: bytes | str | None = None,
        *,
        content_type: str = "text/csv",
        accept: str | None = None,
        inference_id: str | None = None,
        custom_attributes: str | Sequence[str] | None = None,
        event_id: str | None = None,
        inference_time: datetime | None = None,
    ) -> bool:
        """Capture one inference; False when sampled out, dropped or the writer is closed.

        ``accept`` is the response's content type (default: ``content_type``). Bytes of a CSV
        or JSON content type are stored as UTF-8 text (base64 if they are not UTF-8), any other
        content type as base64. ``inference_time`` defaults to the clock at the call (a naive
        datetime is taken as UTC); ``event_id`` defaults to a new UUID4.
        """
        if self._closing:
            return self._put_full(None)
        if not self._sample_all and self._random() * 100.0 >= self.sampling_percentage:
            next(self._sampled)
            return False
        if not isinstance(request_body, _BODY_TYPES):
            request_body = self._bytes_of(request_body, "request_body")
        if response_body is None:
            if self._output_only:
                next(self._sampled)
                return False
        elif not isinstance(response_body, _BODY_TYPES):
            response_body = self._bytes_of(response_body, "response_body")
        item = (self._clock(), request_body, response_body, content_type, accept,
                inference_id, custom_attributes, event_id, inference_time)
        buf = self._buf
        n = len(buf)
        if n >= self._high:  # half full after this one: wake the thread now
            if n >= self.buffer_size:
                return self._put_full(item)
            buf.append(item)
            if not self._wake.is_set():
                self._wake.set()
            return True
        buf.append(item)
        return True

    @staticmethod
    def _bytes_of(body: Any, name: str) -> bytes:
        if isinstance(body, (bytearray, memoryview)):
            return bytes(body)  # a copy: the caller may reuse its buffer
        raise TypeError(f"{name} must be bytes or str, got {type(body).__name__}")

    def _put_full(self, item: _Item | None) -> bool:
        """Slow path: the buffer is full (or the writer is closing: ``item`` None)."""
        if self._closing:
            with self._space:
                self._dropped += 1
            if self._closed:
                log.warning("capture after close of %s/%s: record dropped",
                            self.endpoint, self.variant)
            return False
        self._wake.set()
        with self._space:
            if self.when_full == "block":
                deadline = time.monotonic() + self.block_timeout
                while len(self._buf) >= self.buffer_size and not self._closing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not self._thread.is_alive():
                        break
                    self._space.wait(remaining)
            if len(self._buf) >= self.buffer_size or self._closing or item is None:
                self._dropped += 1
                return False
            self._buf.append(item)
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Write, fsync and publish everything captured so far; False if ``timeout`` ran out.

        The minutes' in-progress files are published, so records captured afterwards start
        new files.
        """
        if self._closed or not self._thread.is_alive():
            return not self._buf
        with self._done:
            self._flush_asked += 1
            ticket = self._flush_asked
        self._wake.set()
        with self._done:
            return self._done.wait_for(lambda: self._flush_done >= ticket or self._closed,
                                       timeout)

    def close(self, timeout: float | None = None) -> None:
        """Write everything captured, publish every file and stop the thread (idempotent)."""
        with self._close_lock:
            self._close(timeout)

    def _close(self, timeout: float | None) -> None:
        if self._closed:
            return
        self._closing = True
        self._wake.set()
        with self._space:
            self._space.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("capture writer %s/%s: background thread still busy after close",
                        self.endpoint, self.variant)
            return
        try:  # records appended while the thread was finishing, or a thread that died
            self._drain()
            self._sync(None)
        except Exception:
            log.exception("capture writer %s/%s: final write failed", self.endpoint, self.variant)
        self._closed = True
        with self._done:
            self._done.notify_all()
        _LIVE.discard(self)

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has written everything."""
        return self._closed

    @property
    def stats(self) -> CaptureStats:
        """A snapshot of the counters."""
        buffered = len(self._buf)
        return CaptureStats(
            captured=self._dequeued + buffered,
            sampled_out=_count(self._sampled),
            dropped=self._dropped,
            written=self._written,
            failed=self._failed,
            files=self._files,
            bytes=self._bytes,
            buffered=buffered,
        )

    def metrics(self) -> list[tuple[str, int]]:
        """The counters as ``(metric name, value)``, e.g. ``("capture_records_dropped", 0)``."""
        s = self.stats
        return [
            ("capture_records_captured", s.captured),
            ("capture_records_sampled_out", s.sampled_out),
            ("capture_records_dropped", s.dropped),
            ("capture_records_written", s.written),
            ("capture_records_failed", s.failed),
            ("capture_files_written", s.files),
            ("capture_bytes_written", s.bytes),
            ("capture_buffer_records", s.buffered),
        ]

    def metric_data(self, namespace: str = "vigil/Capture") -> list[Any]:
        """The counters as metric-store datapoints (dimensions ``Endpoint`` and ``Variant``),
        ready for ``MetricStore.put`` or ``POST /api/v1/metrics``."""
        from datetime import datetime, timezone

        from vigil.store.datum import MetricDatum

        now = datetime.now(timezone.utc)
        dims = {"Endpoint": self.endpoint, "Variant": self.variant}
        return [MetricDatum(namespace, name, dims, now, float(value),
                            unit="Bytes" if name.endswith("bytes_written") else "Count")
                for name, value in self.metrics()]

    def __repr__(self) -> str:
        return (f"CaptureWriter({self.endpoint!r}, {self.variant!r}, "
                f"destination={str(self.destination)!r})")

    # -- the background thread ---------------------------------------------------------------

    def _run(self) -> None:
        if self._recover and self._local_root is not None:
            try:
                recover(self._local_root, self.endpoint, self.variant)
            except Exception:  # never let recovery stop capture
                log.exception("recovering orphaned capture files failed")
        next_sync = time.monotonic() + self.flush_interval
        while True:
            remaining = next_sync - time.monotonic()
            if remaining > 0 and not self._closing and self._flush_asked == self._flush_done:
                self._wake.wait(remaining)
            self._wake.clear()
            closing = self._closing
            asked = self._flush_asked
            try:
                self._drain()
                now = time.monotonic()
                if closing or asked > self._flush_done or now >= next_sync:
                    everything = closing or asked > self._flush_done
                    self._sync(None if everything else int(self._clock() // 60))
                    next_sync = now + self.flush_interval
            except Exception:
                log.exception("capture writer %s/%s: write failed", self.endpoint, self.variant)
            if asked > self._flush_done:
                with self._done:
                    self._flush_done = asked
                    self._done.notify_all()
            if closing and not self._buf:
                return

    def _drain(self) -> None:
        """Move everything buffered into the sink, whole lines per minute."""
        buf = self._buf
        encode = self._encoder.line
        while buf:
            items = [buf.popleft() for _ in range(min(len(buf), self.buffer_size))]
            self._dequeued += len(items)
            with self._space:
                self._space.notify_all()
            groups: dict[tuple[str, int], tuple[float, list[bytes]]] = {}
            for item in items:
                try:
                    encoded = encode(item)
                except Exception:
                    self._failed += 1
                    log.exception("capture record could not be encoded")
                    continue
                line, hour, minute, t = encoded
                group = groups.get((hour, minute))
                if group is None:
                    groups[(hour, minute)] = (t, [line])
                else:
                    group[1].append(line)
            for (hour, minute), (first_t, lines) in groups.items():
                data = b"".join(lines)
                try:
                    self._sink.add(hour, minute, first_t, data, len(lines))
                except OSError:
                    self._failed += len(lines)
                    log.exception("capture writer %s/%s: %d record(s) not written",
                                  self.endpoint, self.variant, len(lines))
                    continue
                if isinstance(self._sink, _LocalSink):
                    self._written += len(lines)
                    self._bytes += len(data)
            sink = self._sink
            if isinstance(sink, _ObjectSink) and sink.pending_bytes >= OBJECT_FLUSH_BYTES:
                self._sync(int(self._clock() // 60))

    def _sync(self, before_minute: int | None) -> None:
        """fsync / store and publish; ``before_minute`` None publishes everything."""
        files, records, size, failed = self._sink.sync(before_minute)
        self._files += files
        self._written += records
        self._bytes += size
        self._failed += failed


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


def close_all(timeout: float | None = None) -> None:
    """Close every open writer of this process (what the ``atexit`` hook does)."""
    for writer in list(_LIVE):
        try:
            writer.close(timeout)
        except Exception:  # pragma: no cover - keep closing the others
            log.exception("closing %r failed", writer)


def flush_all(timeout: float | None = None) -> None:
    """Flush every open writer of this process."""
    for writer in list(_LIVE):
        try:
            writer.flush(timeout)
        except Exception:  # pragma: no cover
            log.exception("flushing %r failed", writer)


SIGNAL_TIMEOUT = 10.0  # seconds a SIGTERM handler waits for each writer


_sigterm_installed = False


def install_sigterm_flush() -> None:
    """On SIGTERM, write every capture writer's records, then do what SIGTERM did before.

    A previous Python handler (a server's graceful shutdown) is called after a flush, and the
    writers are closed at exit; with the default action the writers are closed and the process
    then dies of SIGTERM as it would have; an ignored SIGTERM stays ignored (after the flush).
    Idempotent; call it from the main thread.
    """
    global _sigterm_installed
    if _sigterm_installed:
        return
    if threading.current_thread() is not threading.main_thread():
        raise ConfigError("install_sigterm_flush() must be called from the main thread")
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: FrameType | None) -> None:
        if callable(previous):
            flush_all(SIGNAL_TIMEOUT)
            previous(signum, frame)
            return
        if previous == signal.SIG_IGN:
            flush_all(SIGNAL_TIMEOUT)
            return
        close_all(SIGNAL_TIMEOUT)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, handler)
    _sigterm_installed = True


def _after_fork_in_child() -> None:
    for writer in list(_LIVE):
        writer._after_fork()


atexit.register(close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
