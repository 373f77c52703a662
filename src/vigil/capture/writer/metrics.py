"""The writer's counters: :class:`CaptureStats`, as metric names and as metric-store datapoints.

Metrics (namespace ``vigil/Capture``, dimensions ``Endpoint`` and ``Variant``):
``capture_records_captured``, ``capture_records_sampled_out``, ``capture_records_dropped``,
``capture_records_written``, ``capture_records_failed``, ``capture_files_written``,
``capture_bytes_written`` (unit ``Bytes``; the others ``Count``) and ``capture_buffer_records``.

>>> stats = CaptureStats(captured=3, sampled_out=1, dropped=0, written=3, failed=0, files=1,
...                      bytes=420, buffered=0)
>>> counter_metrics(stats)[:2]
[('capture_records_captured', 3), ('capture_records_sampled_out', 1)]
>>> [(d.name, d.unit) for d in datapoints(counter_metrics(stats), "churn", "AllTraffic")][-2:]
[('capture_bytes_written', 'Bytes'), ('capture_buffer_records', 'Count')]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from vigil.metrics import contract as mc
from vigil.metrics.datum import MetricDatum

NAMESPACE = mc.CAPTURE_NAMESPACE


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


def counter_metrics(s: CaptureStats) -> list[tuple[str, int]]:
    """The counters as ``(metric name, value)``, e.g. ``("capture_records_dropped", 0)``."""
    return [(name, getattr(s, field)) for field, name in mc.CAPTURE_COUNTERS.items()]


def datapoints(
    metrics: Iterable[tuple[str, int]], endpoint: str, variant: str, namespace: str = NAMESPACE
) -> list[MetricDatum]:
    """``(metric name, value)`` pairs as metric-store datapoints of one endpoint variant, now."""
    now = datetime.now(timezone.utc)
    dims = mc.capture_dimensions(endpoint, variant)
    in_bytes = mc.CAPTURE_COUNTERS["bytes"]
    return [MetricDatum(namespace, name, dims, now, float(value),
                        unit="Bytes" if name == in_bytes else "Count")
            for name, value in metrics]
