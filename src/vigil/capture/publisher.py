"""Serving telemetry of one endpoint variant, published once a minute by a background thread.

:class:`ServingTelemetry` owns a :class:`~vigil.metrics.serving.ServingAggregator` (what the
middlewares call per request: counting only, no I/O) and a daemon thread that wakes just after
every minute boundary, takes the finished minutes as statistic sets and hands them to a sink:

- :func:`store_sink`: a local :class:`~vigil.store.metrics.MetricStore` (``put``);
- :class:`HttpSink`: a Vigil server, ``POST /api/v1/metrics`` with a bearer token that has
  the ``ingest`` scope.

Durable enough for a serving process: what a sink fails to take stays in memory (up to
``max_pending`` datapoints; beyond that the oldest are dropped and counted) and is sent again
at the next wake-up, oldest first; ``close()`` (also at exit and, with
:func:`~vigil.capture.install_sigterm_flush`, on SIGTERM) publishes the current, unfinished
minute too. A sink that refuses the data itself (``TelemetrySendError(retryable=False)``, say
a 403) drops that batch, counted and logged, so one bad batch cannot wedge the queue. After
``os.fork`` the child starts empty with its own thread (the parent keeps publishing its own).

>>> from vigil.store import Database, MetricStore
>>> db = Database("sqlite://"); db.create_all(); store = MetricStore(db)
>>> telemetry = ServingTelemetry("churn", sink=store_sink(store), clock=lambda: 600.0)
>>> telemetry.record(2_500_000, 30_000, 200); telemetry.record(1_200_000, 30_000, 500)
>>> telemetry.close()
>>> telemetry.stats.published, telemetry.stats.pending
(6, 0)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vigil.capture.errors import TelemetrySendError
from vigil.capture.writer.process import _LIVE
from vigil.errors import ConfigError
from vigil.metrics.datum import MetricDatum
from vigil.metrics.serving import DEFAULT_BITS, DEFAULT_VARIANT, LiveFigures, ServingAggregator

if TYPE_CHECKING:
    import httpx

    from vigil.store.metrics import MetricStore

log = logging.getLogger(__name__)

MetricSink = Callable[[Sequence[MetricDatum]], None]
"""Takes one batch of datapoints, all or none; raises (ideally :class:`TelemetrySendError`)
when it could not."""

METRICS_PATH = "/api/v1/metrics"
BATCH = 5_000  # datapoints per sink call
WAKE_AFTER_MINUTE = 0.25  # seconds past the boundary, so the minute is surely over


def store_sink(store: MetricStore) -> MetricSink:
    """A sink that puts each batch into ``store`` (one transaction per batch)."""

    def put(data: Sequence[MetricDatum]) -> None:
        store.put(data)

    return put


class HttpSink:
    """A sink that posts to a Vigil server: ``POST {url}/api/v1/metrics`` per namespace.

    ``url`` is the server's base URL (``http://vigil:8080``); ``token`` a bearer token with the
    ``ingest`` scope (None for a server without authentication). A connection failure, a
    timeout, a 408, 429 or 5xx is retryable; any other 4xx is not (the server refused the data
    or the token, and will again).
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        path: str = METRICS_PATH,
        client: httpx.Client | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"url: expected an http:// or https:// base URL, got {url!r}")
        import httpx  # lazy: a process that publishes to a local store never loads httpx

        self.url = url.rstrip("/") + path
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=timeout, headers=headers, trust_env=False)
        if client is not None and headers:
            self._client.headers.update(headers)
        self._errors: tuple[type[Exception], ...] = (httpx.HTTPError,)

    def __call__(self, data: Sequence[MetricDatum]) -> None:
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for d in data:
            by_namespace.setdefault(d.namespace, []).append(_json_datum(d))
        for namespace, items in by_namespace.items():
            try:
                response = self._client.post(self.url, json={"namespace": namespace,
                                                             "data": items})  # fmt: skip
            except self._errors as exc:
                raise TelemetrySendError(f"POST {self.url}: {exc}") from exc
            status = response.status_code
            if status >= 300:
                retryable = status in (408, 429) or status >= 500
                raise TelemetrySendError(
                    f"POST {self.url}: HTTP {status}: {response.text[:300]}", retryable=retryable
                )

    def close(self) -> None:
        """Close the HTTP client (when this sink made it)."""
        if self._own_client:
            self._client.close()


def _json_datum(d: MetricDatum) -> dict[str, Any]:
    item: dict[str, Any] = {"name": d.name, "dimensions": dict(d.dimensions),
                            "timestamp": d.timestamp.isoformat(), "unit": d.unit}  # fmt: skip
    if d.value is not None:
        item["value"] = d.value
    else:
        item.update(sample_count=d.sample_count, sum=d.sum, minimum=d.minimum, maximum=d.maximum)
    return item


@dataclass(frozen=True)
class TelemetryStats:
    """Counters of one :class:`ServingTelemetry` (datapoints, not requests, except the first)."""

    requests: int  # requests counted since start (live figure)
    published: int  # datapoints the sink accepted
    pending: int  # datapoints waiting for the sink
    dropped: int  # datapoints given up: over max_pending, or refused by the receiver
    failed_sends: int  # sink calls that raised
    last_error: str | None


class ServingTelemetry:
    """Per-minute serving telemetry of ``endpoint``/``variant``, published to ``sink``.

    Give this object to :class:`~vigil.capture.TelemetryMiddleware` (or its WSGI twin) or to
    the capture middlewares' ``telemetry=``. ``record(model_ns, overhead_ns, status)`` is the
    per-request call. ``flush_interval`` bounds the time between wake-ups (the thread also
    wakes just after each minute boundary of ``clock``); ``bits`` is the latency precision
    (see :mod:`vigil.metrics.serving`: 8 bits = at most 0.39 % relative error).
    """

    def __init__(
        self,
        endpoint: str,
        variant: str = DEFAULT_VARIANT,
        *,
        sink: MetricSink,
        bits: int = DEFAULT_BITS,
        flush_interval: float = 60.0,
        max_pending: int = 1_000_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not callable(sink):
            raise ConfigError(
                f"sink: expected a callable taking a list of datapoints, got {sink!r}"
            )
        if not isinstance(flush_interval, (int, float)) or not 0 < flush_interval <= 60:
            raise ConfigError(
                f"flush_interval: expected seconds in (0, 60], got {flush_interval!r}"
            )
        if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
            raise ConfigError(f"max_pending: expected a positive integer, got {max_pending!r}")
        self.aggregator = ServingAggregator(endpoint, variant, bits=bits, clock=clock)
        self.record: Callable[[int, int, int], None] = self.aggregator.record
        self.endpoint, self.variant = endpoint, variant
        self.sink = sink
        self.flush_interval = float(flush_interval)
        self.max_pending = max_pending
        self.clock = clock
        self._closed = False
        self._start()
        _LIVE.add(self)

    def _start(self) -> None:
        self._pending: deque[MetricDatum] = deque()
        self._send_lock = threading.Lock()  # one sender at a time: the thread, flush, close
        self._wake = threading.Event()
        self._closing = False
        self._published = self._dropped = self._failed = 0
        self._last_error: str | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"vigil-telemetry-{self.endpoint}", daemon=True
        )
        self._thread.start()

    def _after_fork(self) -> None:
        """In a forked child: forget the parent's counts and queue, start a fresh thread."""
        if self._closed:
            return
        bits = self.aggregator.bits
        self.aggregator = ServingAggregator(self.endpoint, self.variant, bits=bits,
                                            clock=self.clock)  # fmt: skip
        self.record = self.aggregator.record
        self._start()

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._closing:
            to_boundary = 60.0 - (self.clock() % 60.0) + WAKE_AFTER_MINUTE
            self._wake.wait(min(self.flush_interval, max(to_boundary, 0.01)))
            self._wake.clear()
            if self._closing:
                break
            try:
                self._publish(final=False)
            except Exception:  # pragma: no cover - the thread must survive anything
                log.exception("serving telemetry of %s: publishing failed", self.endpoint)

    def _publish(self, final: bool) -> int:
        """Drain finished minutes (all with ``final``) into the queue and send it; the number
        of datapoints the sink accepted."""
        with self._send_lock:
            self._pending.extend(self.aggregator.drain(final=final))
            over = len(self._pending) - self.max_pending
            if over > 0:
                for _ in range(over):
                    self._pending.popleft()
                self._dropped += over
                log.warning("serving telemetry of %s: dropped the %d oldest datapoints "
                            "(more than max_pending=%d unsent)", self.endpoint, over,
                            self.max_pending)  # fmt: skip
            sent = 0
            while self._pending:
                batch = [self._pending[i] for i in range(min(BATCH, len(self._pending)))]
                try:
                    self.sink(batch)
                except TelemetrySendError as exc:
                    self._failed += 1
                    self._last_error = str(exc)
                    if exc.retryable:
                        log.warning("serving telemetry of %s: %s (will retry)", self.endpoint, exc)
                        break
                    log.error("serving telemetry of %s: %s (%d datapoints dropped)",
                              self.endpoint, exc, len(batch))  # fmt: skip
                    self._dropped += len(batch)
                except Exception as exc:
                    self._failed += 1
                    self._last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("serving telemetry of %s: sink failed: %s (will retry)",
                                self.endpoint, self._last_error)  # fmt: skip
                    break
                else:
                    self._published += len(batch)
                    sent += len(batch)
                for _ in range(len(batch)):
                    self._pending.popleft()
            return sent

    # -- the caller's side -------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Publish the finished minutes now, in the caller's thread; True when nothing is
        left unsent. (``timeout`` is accepted for the process hooks; a sink has its own.)"""
        if self._closed:
            return not self._pending
        self._publish(final=False)
        return not self._pending

    def close(self, timeout: float | None = None) -> None:
        """Stop the thread and publish everything, the unfinished minute included. What the
        sink still refuses stays counted in ``stats.pending``. Idempotent."""
        if self._closed:
            return
        self._closing = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._publish(final=True)
        self._closed = True
        _LIVE.discard(self)

    def __enter__(self) -> ServingTelemetry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    @property
    def stats(self) -> TelemetryStats:
        """A snapshot of the counters."""
        return TelemetryStats(self.live().requests, self._published, len(self._pending),
                              self._dropped, self._failed, self._last_error)  # fmt: skip

    def live(self) -> LiveFigures:
        """Cumulative counts and latency histograms since start (for a Prometheus face)."""
        return self.aggregator.live()

    def prometheus_text(self) -> str:
        """The live figures in Prometheus' text format (version 0.0.4), named as
        ``../shared/reference/platform.md`` §3.3 suggests; see :func:`prometheus_text`."""
        return prometheus_text([self.live()])

    def __repr__(self) -> str:
        return f"ServingTelemetry({self.endpoint!r}, {self.variant!r})"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(float(value))


def prometheus_text(figures: Sequence[LiveFigures]) -> str:
    """Counters and latency histograms of each variant in Prometheus' text exposition format:
    ``vigil_endpoint_invocations_total``, ``vigil_endpoint_invocation_errors_total{code_class}``,
    ``vigil_endpoint_model_latency_seconds`` and ``vigil_endpoint_overhead_latency_seconds``
    (OpenTelemetry's buckets, 0.005 to 10 s), labelled ``endpoint`` and ``variant``. Bucket
    edges see quantised latencies (within 0.39 % with the default precision)."""
    lines: list[str] = []

    def family(name: str, kind: str, text: str, samples: Iterator[str]) -> None:
        lines.append(f"# HELP {name} {text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(samples)

    def labels(f: LiveFigures, **extra: str) -> str:
        pairs = {"endpoint": f.endpoint, "variant": f.variant, **extra}
        return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in pairs.items()) + "}"

    family("vigil_endpoint_invocations_total", "counter", "Requests to the endpoint variant.",
           (f"vigil_endpoint_invocations_total{labels(f)} {f.requests}" for f in figures))
    family("vigil_endpoint_invocation_errors_total", "counter",
           "Requests answered with a 4xx or 5xx status (an exception counts as 5xx).",
           (f"vigil_endpoint_invocation_errors_total{labels(f, code_class=c)} {n}"
            for f in figures for c, n in (("4xx", f.errors_4xx), ("5xx", f.errors_5xx))))
    for key, name, text in (
        ("model", "vigil_endpoint_model_latency_seconds", "Time spent in the model's app."),
        ("overhead", "vigil_endpoint_overhead_latency_seconds",
         "Time the middleware added (capture, counting)."),
    ):
        samples = []
        for f in figures:
            buckets, total, count = LiveFigures.buckets(getattr(f, key))
            samples += [f"{name}_bucket{labels(f, le=_number(le))} {n}" for le, n in buckets]
            samples += [f"{name}_sum{labels(f)} {_number(total)}",
                        f"{name}_count{labels(f)} {count}"]
        family(name, "histogram", text, iter(samples))
    return "\n".join(lines) + "\n"

