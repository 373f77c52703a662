"""GPU readings through NVML (``pip install 'vigil[gpu]'``, i.e. nvidia-ml-py's ``pynvml``).

A host without the library, the driver or a GPU logs ONE warning saying GPU figures are off
and reads nothing from then on; a query a device does not support (power on some boards)
leaves that figure out; a device that stops answering is skipped (warned once).
"""

from __future__ import annotations

import contextlib
import logging
import os
from types import ModuleType
from typing import Any

from vigil.resources.gpu import GpuReading, visible_devices

log = logging.getLogger(__name__)


class NvmlSource:
    """Reads the devices ``CUDA_VISIBLE_DEVICES`` (``visible``; the environment's by default)
    lets a CUDA process use; :meth:`read` never raises."""

    def __init__(self, visible: str | None = None, *, use_environment: bool = True) -> None:
        if visible is None and use_environment:
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        self.visible = visible
        self.off_reason: str | None = None  # why GPU figures are off, once known
        self._nvml: ModuleType | None = None
        self._handles: list[tuple[int, str, Any]] = []
        self._lost: set[int] = set()
        self._started = False

    def _start(self) -> None:
        self._started = True
        try:
            # lazy: NVML only on hosts that collect GPU figures
            import pynvml
        except ImportError:
            self._off("nvidia-ml-py is not installed (pip install 'vigil[gpu]')")
            return
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            self._off(f"no NVIDIA driver/NVML ({exc})")
            return
        try:
            count = pynvml.nvmlDeviceGetCount()
            devices = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            uuids = [_text(pynvml.nvmlDeviceGetUUID(h)) for h in devices]
        except pynvml.NVMLError as exc:
            pynvml.nvmlShutdown()
            self._off(f"NVML could not list the devices ({exc})")
            return
        chosen = visible_devices(self.visible, uuids)
        if not chosen:
            pynvml.nvmlShutdown()
            why = "no GPU on this host" if not count else f"CUDA_VISIBLE_DEVICES={self.visible!r}"
            self._off(f"no visible GPU ({why})")
            return
        self._nvml = pynvml
        self._handles = [(i, uuids[i], devices[i]) for i in chosen]
        names = ", ".join(uuids[i] for i in chosen)
        log.info("GPU figures on for %d device(s): %s", len(chosen), names)

    def _off(self, reason: str) -> None:
        self.off_reason = reason
        log.warning("%s: GPU figures off", reason)

    def read(self) -> list[GpuReading]:
        """The visible devices' figures now (an empty list when GPU figures are off)."""
        if not self._started:
            self._start()
        nvml = self._nvml
        if nvml is None:
            return []
        readings = []
        for index, uuid, handle in self._handles:
            try:
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            except nvml.NVMLError as exc:
                if index not in self._lost:
                    self._lost.add(index)
                    log.warning("GPU %d (%s) does not answer (%s): skipped", index, uuid, exc)
                continue
            self._lost.discard(index)
            readings.append(_reading(nvml, index, uuid, handle, memory))
        return readings

    def close(self) -> None:
        """Shut NVML down (when it was started)."""
        if self._nvml is not None:
            with contextlib.suppress(self._nvml.NVMLError):
                self._nvml.nvmlShutdown()
            self._nvml = None


def _reading(nvml: ModuleType, index: int, uuid: str, handle: Any, memory: Any) -> GpuReading:
    sensor = nvml.NVML_TEMPERATURE_GPU
    temperature = _try(lambda: nvml.nvmlDeviceGetTemperature(handle, sensor), nvml)
    return GpuReading(
        index=index,
        uuid=uuid,
        utilization=_try(lambda: nvml.nvmlDeviceGetUtilizationRates(handle).gpu, nvml),
        memory_used=int(memory.used),
        memory_total=int(memory.total),
        temperature=temperature,
        power_mw=_try(lambda: nvml.nvmlDeviceGetPowerUsage(handle), nvml),
    )


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _try(read: Any, nvml: ModuleType) -> float | None:
    try:
        return float(read())
    except nvml.NVMLError:  # not supported on this device, or a transient failure
        return None
