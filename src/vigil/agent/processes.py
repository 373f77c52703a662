"""Figures of named processes through psutil: CPU % (one core = 100) and resident memory,
summed over the processes a selector matches (and their children, when asked).

A process's CPU share needs two looks at its CPU time, so a process first seen in this
collection counts in ``ProcessCount`` and memory but not yet in CPU. Matching by name or
command line walks the process table, which costs; it is done again only when a selector
has no live process, or every ``rescan_every`` collections (new workers show up then).
The agent's own process is never matched by name or command line (its command line holds
the selectors).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import psutil

from vigil.resources.host import ProcessReading
from vigil.resources.selectors import ProcessSelector

log = logging.getLogger(__name__)


class ProcessTracker:
    """Keeps the matched :class:`psutil.Process` objects between collections."""

    def __init__(
        self,
        selectors: Sequence[ProcessSelector],
        *,
        include_children: bool = False,
        rescan_every: int = 6,
    ) -> None:
        self.selectors = list(selectors)
        self.include_children = include_children
        self.rescan_every = max(1, rescan_every)
        self._own = os.getpid()
        self._matched: dict[str, dict[int, psutil.Process]] = {s.label: {} for s in selectors}
        self._measured: set[tuple[int, float]] = set()  # (pid, create time) CPU-primed
        self._cycle = 0
        self._warned: set[str] = set()

    def read(self) -> list[ProcessReading]:
        """One reading per selector (a selector that matches nothing reads count 0)."""
        self._cycle += 1
        rescan = self._cycle % self.rescan_every == 1 or self.rescan_every == 1
        scan = [s for s in self.selectors if s.kind in ("name", "cmdline")]
        live = {label: {p: q for p, q in procs.items() if q.is_running()}
                for label, procs in self._matched.items()}  # fmt: skip
        if scan and (rescan or any(not live[s.label] for s in scan)):
            self._scan(scan, live)
        readings = []
        seen: set[tuple[int, float]] = set()
        for s in self.selectors:
            if s.kind == "pid":
                live[s.label] = self._by_pid(s, int(s.value), live[s.label])
            elif s.kind == "pidfile":
                live[s.label] = self._by_pid(s, self._pid_in(s), live[s.label])
            if self.include_children:
                live[s.label] = self._with_children(live[s.label], self._matched[s.label])
            readings.append(self._reading(s.label, live[s.label], seen))
        self._matched = live
        self._measured = seen  # primed now; the ended ones forgotten
        return readings

    def _scan(
        self, selectors: Sequence[ProcessSelector], live: dict[str, dict[int, psutil.Process]]
    ) -> None:
        for proc in psutil.process_iter(["name", "cmdline"]):
            if proc.pid == self._own:
                continue
            name = proc.info.get("name") or ""
            cmdline = proc.info.get("cmdline") or []
            for s in selectors:
                if proc.pid not in live[s.label] and s.matches(name, cmdline):
                    live[s.label][proc.pid] = proc
        for s in selectors:
            if not live[s.label] and s.label not in self._warned:
                self._warned.add(s.label)
                log.warning("process %r: no running process matches (yet)", s.label)

    def _pid_in(self, selector: ProcessSelector) -> int | None:
        try:
            text = Path(selector.value).read_text().strip()
        except OSError as exc:
            self._warn_once(selector, f"pid file {selector.value} cannot be read ({exc})")
            return None
        if not text.isdigit():
            self._warn_once(
                selector, f"pid file {selector.value}: expected a pid, got {text[:40]!r}"
            )
            return None
        return int(text)

    def _by_pid(self, selector: ProcessSelector, pid: int | None,
                known: dict[int, psutil.Process]) -> dict[int, psutil.Process]:  # fmt: skip
        if pid is None:
            return {}
        if pid in known:
            return {pid: known[pid]}
        try:
            return {pid: psutil.Process(pid)}
        except psutil.Error:
            self._warn_once(selector, f"no process with pid {pid}")
            return {}

    def _with_children(
        self, procs: dict[int, psutil.Process], previous: dict[int, psutil.Process]
    ) -> dict[int, psutil.Process]:
        """``procs`` and their descendants; a child seen before keeps its object (and with it
        psutil's CPU-time baseline)."""
        found = dict(procs)
        for proc in procs.values():
            try:
                children = proc.children(recursive=True)
            except psutil.Error:
                continue
            for child in children:
                known = previous.get(child.pid)
                found.setdefault(child.pid, known if known == child else child)
        return found

    def _reading(
        self, label: str, procs: dict[int, psutil.Process], seen: set[tuple[int, float]]
    ) -> ProcessReading:
        cpu: float | None = None
        rss = 0
        count = 0
        for proc in list(procs.values()):
            try:
                with proc.oneshot():
                    key = (proc.pid, proc.create_time())
                    percent = proc.cpu_percent(None)
                    rss += proc.memory_info().rss
            except psutil.Error:  # ended since it was matched
                procs.pop(proc.pid, None)
                continue
            count += 1
            seen.add(key)
            if key in self._measured:
                cpu = (cpu or 0.0) + percent
        return ProcessReading(label, count, cpu, rss if count else None)

    def _warn_once(self, selector: ProcessSelector, message: str) -> None:
        if selector.label not in self._warned:
            self._warned.add(selector.label)
            log.warning("process %r: %s", selector.label, message)
