"""Resource figures of a host, its containers, GPUs and named processes, as metric datapoints.

Pure code (no psutil, no NVML, no network): the names and units (:mod:`.names`), the cgroup
reader over a ``/sys/fs/cgroup`` tree given as a path (:mod:`.cgroup`), ``CUDA_VISIBLE_DEVICES``
and the mapping of raw GPU readings (:mod:`.gpu`), the mapping of host and process readings
(:mod:`.host`) and process selectors (:mod:`.selectors`). :mod:`vigil.agent` reads the live
numbers (psutil, pynvml) and ships them.
"""

from __future__ import annotations

from vigil.resources.cgroup import CgroupFigures, read_cgroup
from vigil.resources.gpu import GpuReading, gpu_datums, visible_devices
from vigil.resources.host import HostReading, ProcessReading, host_datums, process_datums
from vigil.resources.names import HOST_NAMESPACE, PROCESS_NAMESPACE
from vigil.resources.selectors import ProcessSelector

__all__ = [
    "HOST_NAMESPACE",
    "PROCESS_NAMESPACE",
    "CgroupFigures",
    "GpuReading",
    "HostReading",
    "ProcessReading",
    "ProcessSelector",
    "gpu_datums",
    "host_datums",
    "process_datums",
    "read_cgroup",
    "visible_devices",
]
