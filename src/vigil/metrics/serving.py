"""Serving telemetry as SageMaker publishes it: per-minute statistic sets of one endpoint variant.

:class:`ServingAggregator` counts each request of an endpoint variant into the epoch-aligned
minute it ends in and turns every finished minute into :class:`~vigil.metrics.datum.MetricDatum`
statistic sets (never one datapoint per request), with SageMaker's names, units and dimensions
(namespace ``AWS/SageMaker``, dimensions ``EndpointName`` and ``VariantName``):

- ``Invocations`` (unit None): one set per minute, ``sample_count = sum = requests``,
  ``minimum = maximum = 1``, so Sum and SampleCount are the number of requests.
- ``Invocation4XXErrors`` and ``Invocation5XXErrors`` (unit None): one set per minute in which
  each request counts 1 or 0, ``sample_count = requests``, ``sum = errors``, minimum and maximum
  0 or 1 as observed, so **Average is the error rate** and Sum the number of errors.
- ``ModelLatency`` and ``OverheadLatency`` (unit ``Microseconds``): a value histogram, as
  CloudWatch's "values and counts": each latency is quantised (:func:`quantise`) and every
  distinct quantised value of the minute becomes one statistic set with
  ``minimum = maximum = value``, ``sample_count = count``, ``sum = count * value``. The metric
  store computes nearest-rank percentiles from sets with ``minimum == maximum`` only, so
  ``p50``, ``p90``, ``p99`` (any ``pNN``) are queryable and alarmable.

**Precision.** A latency of ``v`` nanoseconds is kept exactly when ``v < 2**bits``; above, it
is replaced by the midpoint of its bucket of ``2**shift`` nanoseconds (``shift =
v.bit_length() - bits``), so the quantised value ``q`` satisfies ``|q - v| <= v * 2**-bits``:
with the default ``bits = 8`` the relative error is at most 1/256 = 0.39 % (between 0.20 % and
0.39 % depending on where ``v`` falls in its octave, as three significant decimal digits give
0.05 %..0.5 %). Quantisation is monotone, so a nearest-rank percentile of the quantised values
is the quantised nearest-rank percentile of the raw values: every ``pNN``, Minimum and Maximum
is within that relative bound of the exact figure of the raw latencies, and so are Sum and
Average; SampleCount is exact. A minute holds at most ``2**(bits-1)`` distinct values per
octave of latency (128 with the default; about 425 per decade), which bounds both the memory
of a minute and the rows it adds to the store.

Several processes (workers) serving one variant each publish their own sets for a minute; the
store combines them exactly (counts and sums add, percentiles weigh every set).

>>> agg = ServingAggregator("churn", clock=lambda: 120.5)
>>> for model_ns, status in [(1_000_000, 200), (3_000_000, 200), (2_000_000, 503)]:
...     agg.record(model_ns, 40_000, status)
>>> data = agg.drain(final=True)
>>> [(d.name, d.sample_count, d.sum, d.minimum, d.maximum) for d in data][:3]
[('Invocations', 3.0, 3.0, 1.0, 1.0), ('Invocation4XXErrors', 3.0, 0.0, 0.0, 0.0), \
('Invocation5XXErrors', 3.0, 1.0, 0.0, 1.0)]
>>> sorted(d.minimum for d in data if d.name == "ModelLatency")
[1001.472, 2002.944, 3006.464]
>>> dict(data[0].dimensions), data[0].timestamp.isoformat(), data[-1].unit
({'EndpointName': 'churn', 'VariantName': 'AllTraffic'}, '1970-01-01T00:02:00+00:00', \
'Microseconds')
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from vigil.errors import ConfigError
from vigil.metrics.datum import MetricDatum

NAMESPACE = "AWS/SageMaker"
DEFAULT_VARIANT = "AllTraffic"
DEFAULT_BITS = 8
INVOCATIONS = "Invocations"
ERRORS_4XX = "Invocation4XXErrors"
ERRORS_5XX = "Invocation5XXErrors"
MODEL_LATENCY = "ModelLatency"
OVERHEAD_LATENCY = "OverheadLatency"
MICROSECONDS = "Microseconds"
#: OpenTelemetry's default buckets for ``http.server.request.duration`` (seconds).
PROMETHEUS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
                      7.5, 10.0)  # fmt: skip
UTC = timezone.utc


def quantise(ns: int, bits: int = DEFAULT_BITS) -> int:
    """``ns`` kept to ``bits`` significant bits: the midpoint of its bucket, in nanoseconds.

    Exact below ``2**bits``; above, ``|quantise(v) - v| <= v * 2**-bits``.

    >>> quantise(200), quantise(255), quantise(1_000_000), quantise(1_003_000)
    (200, 255, 1001472, 1001472)
    >>> all(abs(quantise(v) - v) <= v / 256 for v in range(1, 200_000, 7))
    True
    """
    shift = ns.bit_length() - bits
    if shift <= 0:
        return ns
    return ((ns >> shift) << shift) | (1 << (shift - 1))


@dataclass
class MinuteCounts:
    """What one minute of one variant holds: request and error counts, latency histograms
    (quantised nanoseconds to count)."""

    requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    model: dict[int, int] = field(default_factory=dict)
    overhead: dict[int, int] = field(default_factory=dict)

    def merge(self, other: MinuteCounts) -> None:
        """Add ``other``'s counts into this minute."""
        self.requests += other.requests
        self.errors_4xx += other.errors_4xx
        self.errors_5xx += other.errors_5xx
        for mine, theirs in ((self.model, other.model), (self.overhead, other.overhead)):
            for value, count in theirs.items():
                mine[value] = mine.get(value, 0) + count


def _error_set(
    name: str, dims: Mapping[str, str], ts: datetime, requests: int, errors: int
) -> MetricDatum:
    return MetricDatum(NAMESPACE, name, dims, ts, sample_count=requests, sum=errors,
                       minimum=0.0 if errors < requests else 1.0,
                       maximum=1.0 if errors else 0.0)  # fmt: skip


def _histogram_sets(
    name: str, dims: Mapping[str, str], ts: datetime, histogram: Mapping[int, int]
) -> list[MetricDatum]:
    out = []
    for ns in sorted(histogram):
        count = histogram[ns]
        micros = ns / 1000.0
        out.append(MetricDatum(NAMESPACE, name, dims, ts, sample_count=count, sum=count * micros,
                               minimum=micros, maximum=micros, unit=MICROSECONDS))  # fmt: skip
    return out


def minute_data(
    dimensions: Mapping[str, str], minute: int, counts: MinuteCounts
) -> list[MetricDatum]:
    """The statistic sets of one minute (``minute`` = epoch seconds // 60).

    >>> c = MinuteCounts(requests=4, errors_4xx=1, model={1000: 3, 2000: 1})
    >>> [(d.name, d.sample_count, d.sum) for d in minute_data({"EndpointName": "e"}, 1, c)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('Invocations', 4.0, 4.0), ('Invocation4XXErrors', 4.0, 1.0),
     ('Invocation5XXErrors', 4.0, 0.0), ('ModelLatency', 3.0, 3.0), ('ModelLatency', 1.0, 2.0)]
    """
    if counts.requests == 0:
        return []
    ts = datetime.fromtimestamp(minute * 60, UTC)
    data = [
        MetricDatum(NAMESPACE, INVOCATIONS, dimensions, ts, sample_count=counts.requests,
                    sum=counts.requests, minimum=1.0, maximum=1.0),
        _error_set(ERRORS_4XX, dimensions, ts, counts.requests, counts.errors_4xx),
        _error_set(ERRORS_5XX, dimensions, ts, counts.requests, counts.errors_5xx),
    ]  # fmt: skip
    data += _histogram_sets(MODEL_LATENCY, dimensions, ts, counts.model)
    data += _histogram_sets(OVERHEAD_LATENCY, dimensions, ts, counts.overhead)
    return data


@dataclass(frozen=True)
class LiveFigures:
    """Everything one aggregator has counted since it started (drained minutes included):
    cumulative, as Prometheus counters and histograms want them. Latencies are histograms of
    quantised nanoseconds to counts."""

    endpoint: str
    variant: str
    requests: int
    errors_4xx: int
    errors_5xx: int
    model: dict[int, int]
    overhead: dict[int, int]

    @staticmethod
    def buckets(
        histogram: Mapping[int, int], bounds_seconds: Iterable[float] = PROMETHEUS_BUCKETS
    ) -> tuple[list[tuple[float, int]], float, int]:
        """Cumulative ``(le, count)`` pairs ending in ``+Inf``, the sum (seconds) and count.

        >>> LiveFigures.buckets({4_000_000: 2, 20_000_000: 1}, (0.005, 0.01))
        ([(0.005, 2), (0.01, 2), (inf, 3)], 0.028, 3)
        """
        items = sorted(histogram.items())
        out: list[tuple[float, int]] = []
        running = i = 0
        for le in bounds_seconds:
            limit = le * 1e9
            while i < len(items) and items[i][0] <= limit:
                running += items[i][1]
                i += 1
            out.append((float(le), running))
        total = sum(c for _, c in items)
        out.append((float("inf"), total))
        return out, sum(ns * c for ns, c in items) / 1e9, total


class ServingAggregator:
    """Per-minute counts of one endpoint variant; :meth:`record` is the request path.

    ``record`` takes the lock, finds the current minute (``clock()``, epoch seconds) and adds
    to its counts: no I/O, no allocation beyond a new dictionary entry. :meth:`drain` hands
    the finished minutes (all of them with ``final=True``) over as statistic sets and forgets
    them. Thread-safe.
    """

    def __init__(
        self,
        endpoint: str,
        variant: str = DEFAULT_VARIANT,
        *,
        bits: int = DEFAULT_BITS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        for value, what in ((endpoint, "endpoint"), (variant, "variant")):
            if not isinstance(value, str) or not 0 < len(value) <= 255:
                raise ConfigError(f"{what}: expected a name of 1 to 255 characters, got {value!r}")
        if isinstance(bits, bool) or not isinstance(bits, int) or not 4 <= bits <= 20:
            raise ConfigError(f"bits: expected an integer from 4 to 20, got {bits!r}")
        self.endpoint = endpoint
        self.variant = variant
        self.bits = bits
        self.clock = clock
        self.dimensions = {"EndpointName": endpoint, "VariantName": variant}
        self._lock = threading.Lock()
        self._minute = -1
        self._current = MinuteCounts()
        self._finished: dict[int, MinuteCounts] = {}
        self._totals = MinuteCounts()  # every drained minute, for live figures

    def record(self, model_ns: int, overhead_ns: int, status: int) -> None:
        """Count one request: its model and overhead latency (ns) and its HTTP status."""
        bits = self.bits
        shift = model_ns.bit_length() - bits
        if shift > 0:
            model_ns = ((model_ns >> shift) << shift) | (1 << (shift - 1))
        shift = overhead_ns.bit_length() - bits
        if shift > 0:
            overhead_ns = ((overhead_ns >> shift) << shift) | (1 << (shift - 1))
        minute = int(self.clock() // 60)
        with self._lock:
            current = self._current
            if minute != self._minute:
                current = self._roll(minute)
            current.requests += 1
            if status >= 400:
                if status >= 500:
                    current.errors_5xx += 1
                else:
                    current.errors_4xx += 1
            model = current.model
            model[model_ns] = model.get(model_ns, 0) + 1
            overhead = current.overhead
            overhead[overhead_ns] = overhead.get(overhead_ns, 0) + 1

    def _roll(self, minute: int) -> MinuteCounts:
        """Under the lock: file the current minute and start (or resume) ``minute``."""
        if self._current.requests:
            self._finished.setdefault(self._minute, MinuteCounts()).merge(self._current)
        # A clock that steps back resumes a minute already filed rather than losing it.
        self._current = self._finished.pop(minute, MinuteCounts())
        self._minute = minute
        return self._current

    def drain(self, final: bool = False) -> list[MetricDatum]:
        """Statistic sets of every finished minute (and the current one when ``final``),
        oldest first; the minutes drained are forgotten."""
        now_minute = int(self.clock() // 60)
        with self._lock:
            if self._current.requests:  # file it; later requests of the minute merge in
                self._finished.setdefault(self._minute, MinuteCounts()).merge(self._current)
                self._current = MinuteCounts()
            ready = sorted(m for m in self._finished if final or m < now_minute)
            minutes = [(m, self._finished.pop(m)) for m in ready]
            for _, counts in minutes:
                self._totals.merge(counts)
        data: list[MetricDatum] = []
        for minute, counts in minutes:
            data += minute_data(self.dimensions, minute, counts)
        return data

    def live(self) -> LiveFigures:
        """Cumulative figures since start: drained minutes plus those not yet drained."""
        total = MinuteCounts()
        with self._lock:
            for counts in (self._totals, self._current, *self._finished.values()):
                total.merge(counts)
        return LiveFigures(self.endpoint, self.variant, total.requests, total.errors_4xx,
                           total.errors_5xx, total.model, total.overhead)  # fmt: skip
