"""The collector's figures against /proc, statvfs and the test's own processes, read here by
hand; GPUs: the absent path on this machine and the mapping of raw NVML numbers."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from vigil.agent.collect import Collector
from vigil.agent.nvml import NvmlSource
from vigil.errors import InputError
from vigil.metrics.datum import MetricDatum
from vigil.resources.cgroup import read_cgroup
from vigil.resources.gpu import GpuReading, gpu_datums
from vigil.resources.selectors import ProcessSelector

HZ = os.sysconf("SC_CLK_TCK")


def _meminfo() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":", 1)
        fields[key] = int(value.split()[0]) * 1024
    return fields


def _proc_stat_cpu() -> tuple[float, float]:
    """(busy, total) ticks of /proc/stat's cpu line: busy excludes idle and iowait, total
    excludes guest time (already in user and nice)."""
    words = Path("/proc/stat").read_text().splitlines()[0].split()
    ticks = [int(w) for w in words[1:]]
    total = sum(ticks[:8])  # user nice system idle iowait irq softirq steal
    return total - ticks[3] - ticks[4], total


def _net_bytes() -> tuple[int, int]:
    received = sent = 0
    for line in Path("/proc/net/dev").read_text().splitlines()[2:]:
        name, data = line.split(":", 1)
        if name.strip() != "lo":
            words = data.split()
            received += int(words[0])
            sent += int(words[8])
    return received, sent


def _process_ticks(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _vm_rss(pid: int | str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _by(data: list[MetricDatum], name: str, **dims: str) -> MetricDatum:
    found = [
        d for d in data if d.name == name and all(d.dimensions.get(k) == v for k, v in dims.items())
    ]
    assert len(found) == 1, (name, dims, found)
    return found[0]


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        p.kill()
        p.wait(10)


def test_memory_and_disk_match_proc_and_statvfs() -> None:
    collector = Collector("test-host", mounts=["/", "/tmp"], gpu=False)
    data = collector.collect()
    info = _meminfo()
    assert {d.namespace for d in data} == {"vigil/Host"}
    limit = _by(data, "MemoryLimit").value
    cgroup = read_cgroup()
    if cgroup is None or cgroup.memory_limit is None or cgroup.memory_limit >= info["MemTotal"]:
        assert limit == info["MemTotal"]
        used = _by(data, "MemoryUsed").value
        assert used == pytest.approx(info["MemTotal"] - info["MemAvailable"], abs=0.03 * limit)
    else:  # a container with a memory limit: its limit
        assert limit == cgroup.memory_limit
    assert _by(data, "MemoryUtilization").value == pytest.approx(
        100 * _by(data, "MemoryUsed").value / limit
    )
    assert (
        _by(data, "MemoryUsed").unit == "Bytes" and _by(data, "MemoryUtilization").unit == "Percent"
    )
    for mount in ("/", "/tmp"):
        st = os.statvfs(mount)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        percent = 100 * used / (used + st.f_bavail * st.f_frsize)
        assert _by(data, "DiskUtilization", Mount=mount).value == pytest.approx(percent, abs=0.2)
    assert all(d.dimensions["Host"] == "test-host" for d in data)


def test_cpu_matches_proc_stat_on_sagemakers_scale() -> None:
    cgroup = read_cgroup()
    if cgroup is not None and cgroup.cpu_limit is not None:
        pytest.skip("a CPU quota here: the figure is the cgroup's")
    busy0, total0 = _proc_stat_cpu()
    collector = Collector(gpu=False)
    _spin(0.6)
    value = _by(collector.collect(), "CPUUtilization").value
    busy1, total1 = _proc_stat_cpu()
    expected = 100 * (busy1 - busy0) / (total1 - total0) * os.cpu_count()  # type: ignore[operator]
    assert 0 <= value <= 100 * os.cpu_count()  # type: ignore[operator]
    assert value == pytest.approx(expected, abs=12 * os.cpu_count())  # type: ignore[operator]
    assert value > 0  # the first figure is over a real span, not psutil's 0.0


def test_network_bytes_are_within_procs_counters_over_the_span() -> None:
    r0, t0 = _net_bytes()
    collector = Collector(gpu=False)
    time.sleep(0.2)
    data = collector.collect()
    r1, t1 = _net_bytes()
    assert 0 <= _by(data, "NetworkReceived").value <= r1 - r0
    assert 0 <= _by(data, "NetworkTransmitted").value <= t1 - t0
    assert _by(data, "NetworkReceived").unit == "Bytes"


def test_own_process_rss_and_a_busy_child_cpu(spawned: list[subprocess.Popen[bytes]]) -> None:
    marker = f"vigil-test-busy-{uuid.uuid4().hex[:8]}"
    busy = subprocess.Popen([sys.executable, "-c", f"# {marker}\nwhile True: pass"])
    spawned.append(busy)
    time.sleep(0.2)
    selectors = [
        ProcessSelector.parse(f"me=pid:{os.getpid()}"),
        ProcessSelector.parse(f"busy=cmdline:{marker}"),
    ]
    ticks0, wall0 = _process_ticks(busy.pid), time.monotonic()
    collector = Collector("h", processes=selectors, gpu=False)
    time.sleep(0.8)
    data = collector.collect()
    ticks1, wall1 = _process_ticks(busy.pid), time.monotonic()
    by_hand = 100 * (ticks1 - ticks0) / HZ / (wall1 - wall0)
    assert {d.namespace for d in data if "Process" in d.dimensions} == {"vigil/Process"}
    rss = _by(data, "ProcessMemoryResident", Process="me")
    assert rss.value == pytest.approx(_vm_rss("self"), rel=0.1) and rss.unit == "Bytes"
    assert _by(data, "ProcessCount", Process="me").value == 1
    assert _by(data, "ProcessCount", Process="busy").value == 1
    cpu = _by(data, "ProcessCPUUtilization", Process="busy")
    assert cpu.value == pytest.approx(by_hand, abs=15) and cpu.unit == "Percent"
    assert _by(data, "ProcessMemoryResident", Process="busy").value == pytest.approx(
        _vm_rss(busy.pid), rel=0.1
    )


def test_name_pidfile_children_and_nothing_matched(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]], caplog: pytest.LogCaptureFixture
) -> None:
    name = f"vs{uuid.uuid4().hex[:8]}"  # a process name no one else runs
    binary = tmp_path / name
    binary.symlink_to(shutil.which("sleep") or "/bin/sleep")
    sleeper = subprocess.Popen([str(binary), "30"])
    parent = subprocess.Popen(["sh", "-c", f"{binary} 30 & {binary} 30 & wait"])
    spawned += [sleeper, parent]
    (tmp_path / "sleeper.pid").write_text(f"{sleeper.pid}\n")
    time.sleep(0.3)
    selectors = [
        ProcessSelector.parse(name),
        ProcessSelector.parse(f"pidfile:{tmp_path / 'sleeper.pid'}"),
        ProcessSelector.parse(f"tree=pid:{parent.pid}"),
        ProcessSelector.parse("nobody=cmdline:no-such-process-" + uuid.uuid4().hex),
    ]
    with caplog.at_level(logging.WARNING):
        with_children = Collector("h", processes=selectors, include_children=True, gpu=False)
        without = Collector("h", processes=selectors[2:3], gpu=False)
        data = with_children.collect()
        data_without = without.collect()
    assert _by(data, "ProcessCount", Process=name).value == 3  # the sleeper and two children
    assert _by(data, "ProcessCount", Process="sleeper").value == 1
    assert _by(data, "ProcessCount", Process="tree").value == 3  # sh and its two sleeps
    assert _by(data_without, "ProcessCount", Process="tree").value == 1
    assert _by(data, "ProcessMemoryResident", Process="sleeper").value == pytest.approx(
        _vm_rss(sleeper.pid), rel=0.2
    )
    assert _by(data, "ProcessCount", Process="nobody").value == 0
    assert not [
        d for d in data if d.dimensions.get("Process") == "nobody" and d.name != "ProcessCount"
    ]
    assert (
        sum("'nobody': no running process matches" in r.getMessage() for r in caplog.records) == 1
    )


def test_bad_selectors_and_mounts_are_named() -> None:
    with pytest.raises(InputError, match="mount '/no/such/dir': not a directory"):
        Collector(mounts=["/no/such/dir"], gpu=False)
    with pytest.raises(InputError, match="'a' twice"):
        Collector(processes=[ProcessSelector.parse("a=x"), ProcessSelector.parse("a=y")], gpu=False)
    with pytest.raises(InputError, match="the regex does not compile"):
        ProcessSelector.parse("cmdline:(")


def _has_nvml() -> bool:
    try:
        import pynvml  # lazy: only to know whether this machine has a GPU
    except ImportError:
        return False
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return False
    pynvml.nvmlShutdown()
    return True


def test_no_gpu_warns_once_and_carries_on(caplog: pytest.LogCaptureFixture) -> None:
    if _has_nvml():
        pytest.skip("this machine has an NVIDIA driver")
    with caplog.at_level(logging.WARNING):
        collector = Collector("h")
        first, second = collector.collect(), collector.collect()
        collector.close()
    warned = [r.getMessage() for r in caplog.records if "GPU figures off" in r.getMessage()]
    assert len(warned) == 1, warned
    assert "NVML" in warned[0] or "nvidia-ml-py" in warned[0]
    assert not [d for d in first + second if d.name.startswith("GPU")]
    assert _by(second, "MemoryLimit").value > 0  # the rest goes on
    assert collector.nvml is not None and collector.nvml.off_reason


def test_cuda_visible_devices_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-1234,1")
    assert NvmlSource().visible == "GPU-1234,1"
    assert NvmlSource("0").visible == "0"
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert NvmlSource().visible is None


def test_gpu_mapping_from_raw_nvml_numbers() -> None:
    rng = np.random.default_rng(7)
    n = 4
    util = rng.integers(0, 101, n).astype(float)
    total = np.array([80, 80, 40, 24]) << 30
    used = (total * rng.random(n)).astype(np.int64)
    temp = rng.integers(30, 90, n).astype(float)
    power_mw = rng.integers(50_000, 700_000, n).astype(float)
    readings = [
        GpuReading(i, f"GPU-{i:04d}", util[i], int(used[i]), int(total[i]), temp[i], power_mw[i])
        for i in range(n)
    ]
    at = datetime(2024, 5, 1, tzinfo=timezone.utc)
    data = gpu_datums(readings, "h", at)
    for i in range(n):
        dims = {"GPU": str(i), "GPUUUID": f"GPU-{i:04d}"}
        assert _by(data, "GPUUtilization", **dims).value == util[i]
        assert _by(data, "GPUMemoryUtilization", **dims).value == pytest.approx(
            100 * used[i] / total[i]
        )
        assert _by(data, "GPUMemoryUsed", **dims).value == used[i]
        assert _by(data, "GPUTemperature", **dims).value == temp[i]
        assert _by(data, "GPUPower", **dims).value == pytest.approx(power_mw[i] / 1000)
    host_level = [d for d in data if "GPU" not in d.dimensions]
    assert {d.name: d.value for d in host_level} == pytest.approx(
        {"GPUUtilization": util.sum(), "GPUMemoryUtilization": (100 * used / total).sum()}
    )
    units = {d.name: d.unit for d in data}
    assert units == {
        "GPUUtilization": "Percent",
        "GPUMemoryUtilization": "Percent",
        "GPUMemoryUsed": "Bytes",
        "GPUTemperature": "None",
        "GPUPower": "None",
    }
    # a device without power or temperature support: those figures are left out
    partial = gpu_datums([GpuReading(0, "GPU-x", 5.0, 1, 2)], "h", at)
    assert {d.name for d in partial} == {"GPUUtilization", "GPUMemoryUtilization", "GPUMemoryUsed"}
