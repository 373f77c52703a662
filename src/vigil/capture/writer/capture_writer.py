"""The capture SDK: :class:`CaptureWriter`, its bounded buffer and its background thread.

The caller only samples, timestamps and appends a tuple to the buffer; the thread encodes the
records (:mod:`~vigil.capture.writer.encoder`) and hands them to a sink: local minute files
(:mod:`~vigil.capture.writer.local`) or objects (:mod:`~vigil.capture.writer.objects`).
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from vigil.capture.errors import CaptureBodyTypeError
from vigil.capture.inference_time import utc_inference_time
from vigil.capture.writer.encoder import _Encoder, _Item
from vigil.capture.writer.layout import _split_destination
from vigil.capture.writer.local import _LocalSink
from vigil.capture.writer.metrics import (
    NAMESPACE,
    CaptureStats,
    _count,
    counter_metrics,
    datapoints,
)
from vigil.capture.writer.objects import OBJECT_FLUSH_BYTES, _ObjectSink
from vigil.capture.writer.process import _LIVE, install_sigterm_flush
from vigil.capture.writer.recovery import recover
from vigil.errors import ConfigError
from vigil.metrics.datum import MetricDatum

log = logging.getLogger(__name__)

CAPTURE_MODES = ("input", "output", "both")
WHEN_FULL = ("block", "drop")
_BODY_TYPES = (bytes, str)


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
        datetime is taken as UTC, an aware one is filed under its UTC hour); a time before
        1970 or from year 9999 on raises ``InputError``. ``event_id`` defaults to a new UUID4.
        """
        if inference_time is not None:
            inference_time = utc_inference_time(inference_time, "inference_time")
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
        raise CaptureBodyTypeError(f"{name} must be bytes or str, got {type(body).__name__}")

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
        return counter_metrics(self.stats)

    def metric_data(self, namespace: str = NAMESPACE) -> list[MetricDatum]:
        """The counters as metric-store datapoints (dimensions ``Endpoint`` and ``Variant``),
        ready for ``MetricStore.put`` or ``POST /api/v1/metrics``."""
        return datapoints(self.metrics(), self.endpoint, self.variant, namespace)

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
