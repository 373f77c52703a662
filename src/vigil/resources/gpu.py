"""GPU figures: which devices ``CUDA_VISIBLE_DEVICES`` lets a process see, and the mapping of
raw NVML readings (plain numbers, see :class:`GpuReading`) to datapoints.

Per device (dimensions ``Host``, ``GPU`` = NVML index, ``GPUUUID``): ``GPUUtilization`` (% of
time a kernel ran), ``GPUMemoryUtilization`` (% of memory **capacity** in use),
``GPUMemoryUsed`` (bytes), ``GPUTemperature`` (°C), ``GPUPower`` (W; NVML gives mW). Per host
(dimension ``Host`` alone) SageMaker's sums over the devices: ``GPUUtilization`` and
``GPUMemoryUtilization`` on the 0-100 × GPUs scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from vigil.metrics.datum import MetricDatum
from vigil.resources.names import HOST_NAMESPACE, HOST_UNITS


@dataclass(frozen=True, slots=True)
class GpuReading:
    """One device's raw NVML figures; ``None`` where the device does not support a query."""

    index: int  # NVML's index (PCI bus order)
    uuid: str
    utilization: float | None = None  # nvmlDeviceGetUtilizationRates(h).gpu, percent
    memory_used: int | None = None  # nvmlDeviceGetMemoryInfo(h).used, bytes
    memory_total: int | None = None  # nvmlDeviceGetMemoryInfo(h).total, bytes
    temperature: float | None = None  # nvmlDeviceGetTemperature(h, NVML_TEMPERATURE_GPU), °C
    power_mw: float | None = None  # nvmlDeviceGetPowerUsage(h), milliwatts


def visible_devices(spec: str | None, uuids: Sequence[str]) -> list[int]:
    """The NVML indices a CUDA process may use, given ``CUDA_VISIBLE_DEVICES`` (``spec``) and
    the UUIDs of the devices in NVML's order.

    As CUDA reads it: unset means every device, an empty value none; entries are indices or
    UUIDs (a unique prefix of ``GPU-...`` is enough), and the list ends at the first entry
    that names no device (``-1`` hides all). A repeated device counts once. Indices are taken
    as NVML's, which is CUDA's order only with ``CUDA_DEVICE_ORDER=PCI_BUS_ID``: prefer UUIDs.

    >>> gpus = ["GPU-aaaa-1111", "GPU-bbbb-2222", "GPU-cccc-3333"]
    >>> visible_devices(None, gpus), visible_devices("", gpus), visible_devices("2,0", gpus)
    ([0, 1, 2], [], [2, 0])
    >>> visible_devices("GPU-bbbb", gpus), visible_devices("1,7,2", gpus)
    ([1], [1])
    >>> visible_devices("-1", gpus)  # names no device: the list ends there
    []
    >>> visible_devices("GPU-", gpus)  # an ambiguous prefix names no device
    []
    """
    if spec is None:
        return list(range(len(uuids)))
    chosen: list[int] = []
    for raw in spec.split(","):
        entry = raw.strip()
        index: int | None = None
        if entry.isdigit():
            number = int(entry)
            index = number if number < len(uuids) else None
        elif entry:
            matches = [i for i, u in enumerate(uuids) if u == entry or u.startswith(entry)]
            index = matches[0] if len(matches) == 1 else None
        if index is None:
            break
        if index not in chosen:
            chosen.append(index)
    return chosen


def _datum(name: str, dims: dict[str, str], at: datetime, value: float) -> MetricDatum:
    return MetricDatum(HOST_NAMESPACE, name, dims, at, float(value), unit=HOST_UNITS[name])


def gpu_datums(readings: Sequence[GpuReading], host: str, at: datetime) -> list[MetricDatum]:
    """Datapoints of the devices read at ``at`` on ``host`` (per device, then the host sums).

    >>> from datetime import timezone
    >>> t = datetime(2024, 5, 1, tzinfo=timezone.utc)
    >>> r = GpuReading(0, "GPU-aa", utilization=87.0, memory_used=20 << 30,
    ...                memory_total=80 << 30, temperature=64, power_mw=312_500)
    >>> [(d.name, d.value, d.unit) for d in gpu_datums([r], "h1", t) if "GPU" in d.dimensions]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('GPUUtilization', 87.0, 'Percent'), ('GPUMemoryUtilization', 25.0, 'Percent'),
     ('GPUMemoryUsed', 21474836480.0, 'Bytes'), ('GPUTemperature', 64.0, 'None'),
     ('GPUPower', 312.5, 'None')]
    """
    data: list[MetricDatum] = []
    utilizations: list[float] = []
    memory_shares: list[float] = []
    for r in readings:
        dims = {"Host": host, "GPU": str(r.index), "GPUUUID": r.uuid}
        if r.utilization is not None:
            data.append(_datum("GPUUtilization", dims, at, r.utilization))
            utilizations.append(r.utilization)
        if r.memory_used is not None and r.memory_total:
            share = 100.0 * r.memory_used / r.memory_total
            data.append(_datum("GPUMemoryUtilization", dims, at, share))
            memory_shares.append(share)
        if r.memory_used is not None:
            data.append(_datum("GPUMemoryUsed", dims, at, r.memory_used))
        if r.temperature is not None:
            data.append(_datum("GPUTemperature", dims, at, r.temperature))
        if r.power_mw is not None:
            data.append(_datum("GPUPower", dims, at, r.power_mw / 1000.0))
    if utilizations:
        data.append(_datum("GPUUtilization", {"Host": host}, at, sum(utilizations)))
    if memory_shares:
        data.append(_datum("GPUMemoryUtilization", {"Host": host}, at, sum(memory_shares)))
    return data
