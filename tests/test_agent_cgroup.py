"""The cgroup reader over trees written here (v1 and v2, as the kernel lays them out) and over
this machine's own cgroup filesystem."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.resources.cgroup import CgroupFormatError, read_cgroup

GiB = 1 << 30


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_v2_container_with_limits(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "cgroup.controllers": "cpuset cpu io memory pids\n",
            "memory.max": "max\n",  # the root sets none
            "kubepods/pod1/ctr/memory.max": str(2 * GiB) + "\n",
            "kubepods/pod1/ctr/memory.current": "1500000000\n",
            "kubepods/pod1/ctr/memory.stat": "anon 900000000\nfile 600000000\n"
            "inactive_file 250000000\nactive_file 350000000\n",
            "kubepods/pod1/ctr/cpu.max": "250000 100000\n",
            "kubepods/pod1/ctr/cpu.stat": "usage_usec 123456789\nuser_usec 100000000\n"
            "system_usec 23456789\n",
        },
    )
    got = read_cgroup(tmp_path, "0::/kubepods/pod1/ctr\n")
    assert got is not None
    assert (got.version, got.path) == (2, "/kubepods/pod1/ctr")
    assert got.memory_limit == 2 * GiB
    assert got.memory_used == 1500000000 - 250000000  # the working set, as docker stats
    assert got.cpu_limit == 2.5
    assert got.cpu_usage_seconds == pytest.approx(123.456789)


def test_v2_the_tightest_limit_up_the_tree_wins(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "cgroup.controllers": "cpu memory\n",
            "slice/memory.max": str(GiB),
            "slice/cpu.max": "100000 100000",
            "slice/job/memory.max": "max",
            "slice/job/memory.current": "1000",
            "slice/job/cpu.max": "max 100000",
        },
    )
    got = read_cgroup(tmp_path, "0::/slice/job\n")
    assert got is not None
    assert (got.memory_limit, got.cpu_limit, got.memory_used) == (GiB, 1.0, 1000)
    assert got.cpu_usage_seconds is None  # no cpu.stat there


def test_v2_without_limits_and_a_namespaced_root(tmp_path: Path) -> None:
    # a container with its own cgroup namespace: /proc/self/cgroup names a path it cannot see
    _write(
        tmp_path,
        {"cgroup.controllers": "memory\n", "memory.max": "max\n", "memory.current": "4096\n"},
    )
    got = read_cgroup(tmp_path, "0::/docker/0123abcd\n")
    assert got is not None
    assert (got.memory_limit, got.cpu_limit, got.memory_used) == (None, None, 4096)


def test_v1_hierarchies(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "memory/docker/abc/memory.limit_in_bytes": str(512 << 20) + "\n",
            "memory/docker/abc/memory.usage_in_bytes": "300000000\n",
            "memory/docker/abc/memory.stat": "cache 1000\ntotal_inactive_file 100000000\n",
            "memory/memory.limit_in_bytes": "9223372036854771712\n",
            "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "150000\n",
            "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
            "cpu,cpuacct/docker/abc/cpuacct.usage": "7500000000\n",
            "cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
            "cpu,cpuacct/cpu.cfs_period_us": "100000\n",
        },
    )
    text = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"
    got = read_cgroup(tmp_path, text)
    assert got is not None
    assert got.version == 1
    assert got.memory_limit == 512 << 20
    assert got.memory_used == 200000000
    assert got.cpu_limit == 1.5
    assert got.cpu_usage_seconds == 7.5


def test_v1_no_limit_reads_as_none(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "memory/memory.limit_in_bytes": "9223372036854771712\n",
            "memory/memory.usage_in_bytes": "123\n",
            "cpu/cpu.cfs_quota_us": "-1\n",
            "cpu/cpu.cfs_period_us": "100000\n",
        },
    )
    got = read_cgroup(tmp_path, "5:memory:/\n3:cpu:/\n")
    assert got is not None
    assert (got.memory_limit, got.cpu_limit, got.memory_used) == (None, None, 123)


def test_no_cgroup_filesystem(tmp_path: Path) -> None:
    assert read_cgroup(tmp_path / "absent", "") is None
    assert read_cgroup(tmp_path, "") is None  # a directory holding no controller


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("memory.max", "lots\n", "memory.max: expected a number of bytes or max, got 'lots'"),
        ("cpu.max", "50000\n", "cpu.max: expected 'QUOTA PERIOD' or 'max PERIOD'"),
        ("memory.stat", "inactive_file\n", "memory.stat line 1: expected KEY VALUE"),
    ],
)
def test_a_damaged_file_is_named(tmp_path: Path, name: str, text: str, expected: str) -> None:
    _write(tmp_path, {"cgroup.controllers": "memory cpu\n", "memory.current": "1\n", name: text})
    with pytest.raises(CgroupFormatError, match="cgroup_format") as caught:
        read_cgroup(tmp_path, "0::/\n")
    assert expected in str(caught.value)
    assert str(tmp_path) in str(caught.value) or name == "memory.stat"


def _limit(path: Path) -> int | None:
    raw = path.read_text().strip() if path.is_file() else "max"
    return None if raw in ("max", "-1") or int(raw) >= 1 << 60 else int(raw)


def test_this_machine() -> None:
    """Whatever this machine runs (v1 or v2), the reader agrees with its files read here by
    hand: the tightest memory limit from the process's own cgroup up to the hierarchy's root."""
    root = Path("/sys/fs/cgroup")
    if not root.is_dir():
        pytest.skip("no cgroup filesystem here")
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    if (root / "cgroup.controllers").is_file():
        top = root
        rel = next(line.split(":", 2)[2] for line in lines if line.startswith("0::"))
        name, version = "memory.max", 2
    else:
        top = root / "memory"
        rel = next((line.split(":", 2)[2] for line in lines if ":memory:" in line), "/")
        name, version = "memory.limit_in_bytes", 1
        if not top.is_dir():
            pytest.skip("no v1 memory controller here")
    own = top / rel.lstrip("/")
    own = own if own.is_dir() else top
    limits = [_limit(d / name) for d in [own, *own.parents] if d == top or top in d.parents]
    expected = min((x for x in limits if x is not None), default=None)
    got = read_cgroup(root)
    assert got is not None and got.version == version
    assert got.memory_limit == expected
    assert got.memory_used is None or got.memory_used >= 0
