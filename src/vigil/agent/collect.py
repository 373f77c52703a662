"""One host's figures now: psutil for the host, the cgroup for a container's limits, NVML for
GPUs, :class:`~vigil.agent.processes.ProcessTracker` for named processes.

CPU and network are rates over the span since the previous collection, so the collector
takes a first sample when it is made (psutil's ``cpu_percent()`` would answer a meaningless
0.0 the first time): the first :meth:`Collector.collect` reports them over the span since,
at least :data:`MIN_SPAN` (it waits for the rest).
CPU is computed from ``psutil.cpu_times()`` as ``cpu_percent`` does (busy = all but idle and
iowait), on SageMaker's scale (× the vCPUs). Inside a cgroup with a CPU quota the figure is
the cgroup's own CPU time over the span (0-100 × the quota's vCPUs); with a memory limit
below the host's memory, memory is the cgroup's working set against that limit.
Network counts every interface but loopback.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import psutil

from vigil.agent.nvml import NvmlSource
from vigil.agent.processes import ProcessTracker
from vigil.errors import InputError, VigilError
from vigil.metrics.datum import MetricDatum
from vigil.resources.cgroup import CgroupFigures, read_cgroup
from vigil.resources.gpu import gpu_datums
from vigil.resources.host import (
    HostReading,
    counter_delta,
    cpu_busy_percent,
    host_datums,
    process_datums,
)
from vigil.resources.selectors import ProcessSelector

log = logging.getLogger(__name__)
IDLE_FIELDS = ("idle", "iowait")
LOOPBACK = ("lo",)


def mount_of(path: str | Path) -> str:
    """The mount point holding ``path`` (``/`` for most)."""
    here = Path(os.path.realpath(path))
    while not os.path.ismount(here) and here != here.parent:
        here = here.parent
    return str(here)


#: the shortest span (seconds) a reading's rates (CPU, network) are measured over
MIN_SPAN = 1.0


def _cpu_sample() -> tuple[list[float], list[int]]:
    times = psutil.cpu_times()
    fields = list(times._fields)
    values = [float(v) for v in times]
    # on Linux guest time is already inside user and nice: counting it twice skews the total
    for extra in ("guest", "guest_nice"):
        if extra in fields:
            values[fields.index(extra)] = 0.0
    return values, [fields.index(f) for f in IDLE_FIELDS if f in fields]


def _net_sample() -> dict[str, tuple[int, int]]:
    counters = psutil.net_io_counters(pernic=True)
    return {n: (c.bytes_recv, c.bytes_sent) for n, c in counters.items() if n not in LOOPBACK}


class Collector:
    """Collects a host's figures (and its GPUs', and named processes') as datapoints."""

    def __init__(
        self,
        host: str | None = None,
        *,
        mounts: Sequence[str] = ("/",),
        processes: Sequence[ProcessSelector] = (),
        include_children: bool = False,
        gpu: bool = True,
        cgroup_root: str | Path = "/sys/fs/cgroup",
        nvml: NvmlSource | None = None,
    ) -> None:
        self.host = host or socket.gethostname()
        labels = [p.label for p in processes]
        if len(set(labels)) != len(labels):
            twice = sorted({x for x in labels if labels.count(x) > 1})
            raise InputError(f"process: each label once, got {', '.join(map(repr, twice))} twice")
        for mount in mounts:
            if not os.path.isdir(mount):
                raise InputError(f"mount {mount!r}: not a directory on this host")
        self.mounts = list(dict.fromkeys(mounts))
        self.cgroup_root = Path(cgroup_root)
        self.processes = ProcessTracker(processes, include_children=include_children)
        self.nvml = (nvml or NvmlSource()) if gpu else None
        self.cpu_count = psutil.cpu_count() or 1
        self._cgroup_broken = False
        self._last_cgroup = self._cgroup()
        self._last_cpu = _cpu_sample()
        self._last_net = _net_sample()
        self._last_time = time.monotonic()
        if processes:
            self.processes.read()  # primes each matched process's CPU baseline

    def _cgroup(self) -> CgroupFigures | None:
        if self._cgroup_broken:
            return None
        try:
            return read_cgroup(self.cgroup_root)
        except (VigilError, OSError) as exc:  # an odd cgroup file: host figures instead
            self._cgroup_broken = True
            log.warning("cgroup figures off (%s): host figures instead", exc)
            return None

    def _cpu(self, cgroup: CgroupFigures | None, span: float) -> float:
        before = self._last_cgroup
        sample = _cpu_sample()
        busy = cpu_busy_percent(self._last_cpu[0], sample[0], sample[1])
        self._last_cpu = sample
        if (
            cgroup is not None
            and before is not None
            and cgroup.cpu_limit is not None
            and cgroup.cpu_usage_seconds is not None
            and before.cpu_usage_seconds is not None
            and span > 0
        ):
            used = max(0.0, cgroup.cpu_usage_seconds - before.cpu_usage_seconds)
            return 100.0 * used / span
        return busy * self.cpu_count

    def _memory(self, cgroup: CgroupFigures | None) -> tuple[int, int]:
        memory = psutil.virtual_memory()
        if (
            cgroup is not None
            and cgroup.memory_limit is not None
            and cgroup.memory_used is not None
            and cgroup.memory_limit < memory.total
        ):
            return cgroup.memory_used, cgroup.memory_limit
        return memory.total - memory.available, memory.total

    def _disks(self) -> dict[str, float]:
        disks = {}
        for mount in self.mounts:
            try:
                disks[mount] = float(psutil.disk_usage(mount).percent)
            except OSError as exc:
                log.warning("mount %s: %s (skipped this time)", mount, exc)
        return disks

    def reading(self) -> HostReading:
        """The host's figures over the span since the previous reading, which is at least
        :data:`MIN_SPAN` (a reading sooner, such as ``vigil agent --once``'s first, waits for
        the rest: over a few milliseconds the CPU figure is 0 or 100 % of a core by chance)."""
        short = MIN_SPAN - (time.monotonic() - self._last_time)
        if short > 0:
            time.sleep(short)
        now = time.monotonic()
        span = now - self._last_time
        cgroup = self._cgroup()
        cpu = self._cpu(cgroup, span)
        used, limit = self._memory(cgroup)
        net = _net_sample()
        received = counter_delta(
            {k: v[0] for k, v in self._last_net.items()}, {k: v[0] for k, v in net.items()}
        )
        sent = counter_delta(
            {k: v[1] for k, v in self._last_net.items()}, {k: v[1] for k, v in net.items()}
        )
        self._last_cgroup, self._last_net, self._last_time = cgroup, net, now
        return HostReading(
            memory_used=used,
            memory_limit=limit,
            cpu_utilization=cpu,
            disks=self._disks(),
            network_received=received,
            network_transmitted=sent,
        )

    def collect(self, at: datetime | None = None) -> list[MetricDatum]:
        """Every figure now, stamped ``at`` (now by default)."""
        at = at or datetime.now(timezone.utc)
        data = host_datums(self.reading(), self.host, at)
        if self.nvml is not None:
            data += gpu_datums(self.nvml.read(), self.host, at)
        if self.processes.selectors:
            data += process_datums(self.processes.read(), self.host, at)
        return data

    def close(self) -> None:
        """Release NVML."""
        if self.nvml is not None:
            self.nvml.close()
