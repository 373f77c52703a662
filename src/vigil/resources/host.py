"""Host and process readings (plain numbers) as datapoints, and the arithmetic behind them:
CPU busy share from two ``/proc/stat``-style samples, counter deltas that survive a reset.

Host figures (namespace ``vigil/Host``, dimension ``Host``; disks add ``Mount``):
``CPUUtilization`` (0-100 × vCPUs), ``MemoryUtilization``, ``MemoryUsed``, ``MemoryLimit``,
``DiskUtilization``, ``NetworkReceived`` and ``NetworkTransmitted`` (bytes over the interval).
Process figures (namespace ``vigil/Process``, dimensions ``Host``, ``Process``):
``ProcessCPUUtilization`` (one busy core = 100), ``ProcessMemoryResident`` (bytes) and
``ProcessCount`` (how many processes matched; 0 when none did, so an alarm sees it gone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from vigil.metrics.datum import MetricDatum
from vigil.resources.names import HOST_NAMESPACE, HOST_UNITS, PROCESS_NAMESPACE, PROCESS_UNITS


@dataclass(frozen=True, slots=True)
class HostReading:
    """One collection's host figures; ``None`` where not known yet (the first interval)."""

    memory_used: int  # bytes in use (host: total - available; container: its working set)
    memory_limit: int  # bytes (host: total; container: its limit, at most the host's total)
    cpu_utilization: float | None = None  # SageMaker scale: 0-100 × vCPUs
    disks: Mapping[str, float] = field(default_factory=dict)  # mount -> percent used
    network_received: int | None = None  # bytes over the interval
    network_transmitted: int | None = None


@dataclass(frozen=True, slots=True)
class ProcessReading:
    """The processes one selector matched, summed: CPU ``None`` until measured over a span."""

    label: str
    count: int
    cpu_percent: float | None = None
    rss: int | None = None


def cpu_busy_percent(before: Sequence[float], after: Sequence[float], idle: Sequence[int]) -> float:
    """Busy share (0-100) of the CPU time between two cumulative samples of the same fields;
    ``idle`` are the positions of the idle fields (idle and iowait, as psutil counts them).

    >>> cpu_busy_percent([10, 0, 90, 0], [40, 0, 150, 10], idle=[2, 3])  # 30 busy of 100
    30.0
    >>> cpu_busy_percent([1, 1], [1, 1], idle=[1])  # no time passed
    0.0
    """
    total = sum(after) - sum(before)
    idle_time = sum(after[i] - before[i] for i in idle)
    if total <= 0:
        return 0.0
    return max(0.0, min(100.0, 100.0 * (total - idle_time) / total))


def counter_delta(before: Mapping[str, int], after: Mapping[str, int]) -> int:
    """Sum of the increases of named counters (network bytes per interface): a counter that
    went down (reset, wrap, interface re-created) or appeared since ``before`` adds nothing.

    >>> counter_delta({"eth0": 100, "eth1": 50}, {"eth0": 160, "eth1": 10, "eth2": 99})
    60
    """
    return sum(after[k] - before[k] for k in after.keys() & before.keys() if after[k] >= before[k])


def _put(data: list[MetricDatum], ns: str, name: str, dims: dict[str, str], at: datetime,
         value: float, units: Mapping[str, str]) -> None:  # fmt: skip
    data.append(MetricDatum(ns, name, dims, at, float(value), unit=units[name]))


def host_datums(reading: HostReading, host: str, at: datetime) -> list[MetricDatum]:
    """Datapoints of one host reading.

    >>> from datetime import timezone
    >>> t = datetime(2024, 5, 1, tzinfo=timezone.utc)
    >>> r = HostReading(memory_used=3 << 30, memory_limit=4 << 30, cpu_utilization=150.0,
    ...                 disks={"/": 41.5}, network_received=2048, network_transmitted=512)
    >>> [(d.name, d.value) for d in host_datums(r, "h1", t)]  # doctest: +NORMALIZE_WHITESPACE
    [('CPUUtilization', 150.0), ('MemoryUtilization', 75.0), ('MemoryUsed', 3221225472.0),
     ('MemoryLimit', 4294967296.0), ('DiskUtilization', 41.5), ('NetworkReceived', 2048.0),
     ('NetworkTransmitted', 512.0)]
    """
    data: list[MetricDatum] = []
    dims = {"Host": host}
    ns, units = HOST_NAMESPACE, HOST_UNITS
    if reading.cpu_utilization is not None:
        _put(data, ns, "CPUUtilization", dims, at, reading.cpu_utilization, units)
    if reading.memory_limit > 0:
        share = 100.0 * reading.memory_used / reading.memory_limit
        _put(data, ns, "MemoryUtilization", dims, at, share, units)
    _put(data, ns, "MemoryUsed", dims, at, reading.memory_used, units)
    _put(data, ns, "MemoryLimit", dims, at, reading.memory_limit, units)
    for mount, percent in reading.disks.items():
        _put(data, ns, "DiskUtilization", {"Host": host, "Mount": mount}, at, percent, units)
    if reading.network_received is not None:
        _put(data, ns, "NetworkReceived", dims, at, reading.network_received, units)
    if reading.network_transmitted is not None:
        _put(data, ns, "NetworkTransmitted", dims, at, reading.network_transmitted, units)
    return data


def process_datums(
    readings: Sequence[ProcessReading], host: str, at: datetime
) -> list[MetricDatum]:
    """Datapoints of the named processes (``ProcessCount`` always, the rest when known).

    >>> from datetime import timezone
    >>> t = datetime(2024, 5, 1, tzinfo=timezone.utc)
    >>> [(d.name, d.dimensions["Process"], d.value) for d in process_datums(
    ...     [ProcessReading("api", 2, 130.0, 1 << 20), ProcessReading("gone", 0)], "h1", t)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('ProcessCount', 'api', 2.0), ('ProcessCPUUtilization', 'api', 130.0),
     ('ProcessMemoryResident', 'api', 1048576.0), ('ProcessCount', 'gone', 0.0)]
    """
    data: list[MetricDatum] = []
    ns, units = PROCESS_NAMESPACE, PROCESS_UNITS
    for r in readings:
        dims = {"Host": host, "Process": r.label}
        _put(data, ns, "ProcessCount", dims, at, r.count, units)
        if r.cpu_percent is not None:
            _put(data, ns, "ProcessCPUUtilization", dims, at, r.cpu_percent, units)
        if r.rss is not None:
            _put(data, ns, "ProcessMemoryResident", dims, at, r.rss, units)
    return data
