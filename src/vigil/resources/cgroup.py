"""Container limits and usage from a cgroup tree (v1 or v2), read from files under a root path.

psutil reads ``/proc``, which shows the whole host; inside a container the figures that
matter are the cgroup's. :func:`read_cgroup` takes the cgroup filesystem's root (normally
``/sys/fs/cgroup``) and the text of ``/proc/self/cgroup``, so a test can hand it a tree of
its own.

- **v2** (``cgroup.controllers`` at the root): memory in use ``memory.current`` minus the
  ``inactive_file`` page cache of ``memory.stat`` (the working set, as ``docker stats`` and
  cAdvisor count it), limit ``memory.max``; CPU quota ``cpu.max`` (``"$QUOTA $PERIOD"`` or
  ``"max $PERIOD"``), CPU time ``usage_usec`` of ``cpu.stat``.
- **v1** (one hierarchy per controller, e.g. ``memory/`` and ``cpu,cpuacct/``):
  ``memory.usage_in_bytes`` minus ``total_inactive_file``, ``memory.limit_in_bytes``;
  ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (quota ``-1``: none), ``cpuacct.usage`` (ns).

The process's cgroup is the path ``/proc/self/cgroup`` names under the root; when that path
is not there (a container without its own cgroup namespace sees its cgroup at the root) the
root itself is read. Limits are the tightest along the way up to the root, as the kernel
enforces them. A limit of "max", or one at or above 2**60 bytes (v1 writes 2**63 rounded
down to a page for "none"), is no limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vigil.errors import FormatError

UNLIMITED = 1 << 60


class CgroupFormatError(FormatError):
    """A cgroup file that does not hold what the kernel writes there."""

    code = "cgroup_format"


@dataclass(frozen=True, slots=True)
class CgroupFigures:
    """What one cgroup says: ``None`` where a controller is absent or sets no limit."""

    version: int  # 1 or 2
    path: str  # the cgroup's path under the root, as /proc/self/cgroup names it
    memory_used: int | None  # bytes: usage minus inactive page cache (the working set)
    memory_limit: int | None  # bytes; None: no limit
    cpu_limit: float | None  # vCPUs the quota allows (quota / period); None: no quota
    cpu_usage_seconds: float | None  # CPU time the cgroup has used, cumulative


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """``/proc/self/cgroup`` as ``{controller: path}``; the v2 line is under ``""``.

    >>> parse_proc_cgroup("4:memory:/docker/ab\\n3:cpu,cpuacct:/docker/ab\\n0::/init.scope\\n")
    {'memory': '/docker/ab', 'cpu': '/docker/ab', 'cpuacct': '/docker/ab', '': '/init.scope'}
    >>> parse_proc_cgroup("junk")
    Traceback (most recent call last):
    ...
    vigil.resources.cgroup.CgroupFormatError: [cgroup_format] /proc/self/cgroup line 1: \
expected ID:CONTROLLERS:PATH, got 'junk'
    """
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[0].isdigit():
            raise CgroupFormatError(
                f"/proc/self/cgroup line {number}: expected ID:CONTROLLERS:PATH, got {line!r}"
            )
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            found[controller.removeprefix("name=")] = path
    return found


def parse_limit(text: str, where: str = "limit") -> int | None:
    """A byte limit: a number, ``max`` or a v1 "no limit" (2**63 page-rounded) as ``None``.

    >>> parse_limit("536870912\\n"), parse_limit("max"), parse_limit("9223372036854771712")
    (536870912, None, None)
    >>> parse_limit("-1"), parse_limit("lots", "memory.max")
    Traceback (most recent call last):
    ...
    vigil.resources.cgroup.CgroupFormatError: [cgroup_format] memory.max: expected a number \
of bytes or max, got 'lots'
    """
    word = text.strip()
    if word == "max" or word == "-1":
        return None
    value = _int(word, where, "a number of bytes or max")
    return None if value >= UNLIMITED else value


def parse_cpu_max(text: str, where: str = "cpu.max") -> float | None:
    """v2 ``cpu.max`` as vCPUs: ``"150000 100000"`` is 1.5; ``"max 100000"`` is no quota.

    >>> parse_cpu_max("150000 100000\\n"), parse_cpu_max("max 100000")
    (1.5, None)
    >>> parse_cpu_max("50000")
    Traceback (most recent call last):
    ...
    vigil.resources.cgroup.CgroupFormatError: [cgroup_format] cpu.max: expected \
'QUOTA PERIOD' or 'max PERIOD', got '50000'
    """
    words = text.split()
    if len(words) != 2:
        raise CgroupFormatError(
            f"{where}: expected 'QUOTA PERIOD' or 'max PERIOD', got {text.strip()!r}"
        )
    period = _int(words[1], where, "a period in microseconds")
    return None if words[0] == "max" else quota_cpus(_int(words[0], where, "a quota"), period)


def quota_cpus(quota_us: int, period_us: int) -> float | None:
    """vCPUs a CFS quota allows: ``quota / period``; a quota of -1 (or any negative) is none.

    >>> quota_cpus(200000, 100000), quota_cpus(-1, 100000)
    (2.0, None)
    """
    if quota_us < 0:
        return None
    if period_us <= 0:
        raise CgroupFormatError(f"CPU period: expected a positive number, got {period_us}")
    return quota_us / period_us


def parse_flat_keyed(text: str, where: str = "memory.stat") -> dict[str, int]:
    """A ``KEY VALUE`` per line file (``memory.stat``, ``cpu.stat``) as integers.

    >>> parse_flat_keyed("cache 10\\ninactive_file 4096\\n")
    {'cache': 10, 'inactive_file': 4096}
    """
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words:
            continue
        if len(words) != 2:
            raise CgroupFormatError(f"{where} line {number}: expected KEY VALUE, got {line!r}")
        found[words[0]] = _int(words[1], f"{where} line {number}", "an integer")
    return found


def _int(word: str, where: str, expected: str) -> int:
    try:
        return int(word)
    except ValueError:
        raise CgroupFormatError(f"{where}: expected {expected}, got {word!r}") from None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None


def _own_dir(hierarchy: Path, path: str) -> Path:
    """The cgroup's directory in one hierarchy; the hierarchy's root when the path is absent
    (a container's own cgroup mounted at the root)."""
    inside = hierarchy / path.lstrip("/")
    return inside if path and inside.is_dir() else hierarchy


def _up_to(start: Path, root: Path) -> Iterator[Path]:
    """``start``, its parents, ..., ``root`` (the tightest limit can be set anywhere)."""
    here = start
    while True:
        yield here
        if here == root or root not in here.parents:
            return
        here = here.parent


def _tightest_bytes(start: Path, root: Path, name: str) -> int | None:
    limits = [
        limit
        for d in _up_to(start, root)
        if (text := _read(d / name)) is not None
        and (limit := parse_limit(text, f"{d / name}")) is not None
    ]
    return min(limits) if limits else None


def _working_set(
    usage_text: str | None, stat_text: str | None, where: Path, key: str
) -> int | None:
    if usage_text is None:
        return None
    usage = _int(usage_text.strip(), str(where), "a number of bytes")
    stat = parse_flat_keyed(stat_text, str(where.parent / "memory.stat")) if stat_text else {}
    return max(0, usage - stat.get(key, 0))


def _v1_hierarchy(root: Path, controller: str) -> Path | None:
    """v1's directory for ``controller``: ``memory/``, or ``cpu,cpuacct/`` for ``cpu``."""
    direct = root / controller
    if direct.is_dir():
        return direct
    try:
        for entry in sorted(root.iterdir()):
            if entry.is_dir() and controller in entry.name.split(","):
                return entry
    except OSError:
        return None
    return None


def _read_v2(root: Path, path: str) -> CgroupFigures:
    own = _own_dir(root, path)
    memory_used = _working_set(
        _read(own / "memory.current"), _read(own / "memory.stat"), own / "memory.current",
        "inactive_file",
    )  # fmt: skip
    cpus = [
        c
        for d in _up_to(own, root)
        if (text := _read(d / "cpu.max")) is not None
        and (c := parse_cpu_max(text, str(d / "cpu.max"))) is not None
    ]
    stat = _read(own / "cpu.stat")
    usage = parse_flat_keyed(stat, str(own / "cpu.stat")).get("usage_usec") if stat else None
    return CgroupFigures(
        version=2,
        path=path,
        memory_used=memory_used,
        memory_limit=_tightest_bytes(own, root, "memory.max"),
        cpu_limit=min(cpus) if cpus else None,
        cpu_usage_seconds=usage / 1e6 if usage is not None else None,
    )


def _read_v1(root: Path, paths: dict[str, str]) -> CgroupFigures:
    memory_used = memory_limit = None
    memory = _v1_hierarchy(root, "memory")
    if memory is not None:
        own = _own_dir(memory, paths.get("memory", "/"))
        memory_used = _working_set(
            _read(own / "memory.usage_in_bytes"), _read(own / "memory.stat"),
            own / "memory.usage_in_bytes", "total_inactive_file",
        )  # fmt: skip
        memory_limit = _tightest_bytes(own, memory, "memory.limit_in_bytes")
    cpu_limit = None
    cpu = _v1_hierarchy(root, "cpu")
    if cpu is not None:
        cpus = []
        for d in _up_to(_own_dir(cpu, paths.get("cpu", "/")), cpu):
            quota, period = _read(d / "cpu.cfs_quota_us"), _read(d / "cpu.cfs_period_us")
            if quota is not None and period is not None:
                limit = quota_cpus(
                    _int(quota.strip(), str(d / "cpu.cfs_quota_us"), "an integer"),
                    _int(period.strip(), str(d / "cpu.cfs_period_us"), "an integer"),
                )
                if limit is not None:
                    cpus.append(limit)
        cpu_limit = min(cpus) if cpus else None
    usage = None
    acct = _v1_hierarchy(root, "cpuacct")
    if acct is not None:
        own = _own_dir(acct, paths.get("cpuacct", "/"))
        text = _read(own / "cpuacct.usage")
        if text is not None:
            usage = _int(text.strip(), str(own / "cpuacct.usage"), "nanoseconds") / 1e9
    return CgroupFigures(
        version=1,
        path=paths.get("memory", paths.get("cpu", "/")),
        memory_used=memory_used,
        memory_limit=memory_limit,
        cpu_limit=cpu_limit,
        cpu_usage_seconds=usage,
    )


def read_cgroup(
    root: Path | str = "/sys/fs/cgroup", proc_cgroup: str | None = None
) -> CgroupFigures | None:
    """The figures of this process's cgroup under ``root``; ``None`` where there is no cgroup
    filesystem. ``proc_cgroup`` is the text of ``/proc/self/cgroup`` (read when not given).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "cgroup.controllers").write_text("cpu memory\\n")
    >>> (root / "app").mkdir()
    >>> for name, text in {"memory.max": "1073741824", "memory.current": "300000000",
    ...                    "memory.stat": "inactive_file 100000000\\n", "cpu.max": "50000 100000",
    ...                    "cpu.stat": "usage_usec 2500000\\n"}.items():
    ...     _ = (root / "app" / name).write_text(text)
    >>> read_cgroup(root, "0::/app\\n")
    CgroupFigures(version=2, path='/app', memory_used=200000000, memory_limit=1073741824, \
cpu_limit=0.5, cpu_usage_seconds=2.5)
    """
    root = Path(root)
    if not root.is_dir():
        return None
    if proc_cgroup is None:
        proc_cgroup = _read(Path("/proc/self/cgroup")) or ""
    paths = parse_proc_cgroup(proc_cgroup)
    if (root / "cgroup.controllers").is_file():
        return _read_v2(root, paths.get("", "/"))
    if _v1_hierarchy(root, "memory") is not None or _v1_hierarchy(root, "cpu") is not None:
        return _read_v1(root, paths)
    return None
