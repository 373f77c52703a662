"""The server's own figures: its host and its own process, straight into its metric store.

:class:`SelfCollector` is a daemon thread started by the server's lifespan (``vigil server``;
``VIGIL_SELF_METRICS_INTERVAL`` seconds apart, 60 by default, 0 turns it off). It collects
as ``vigil agent`` does (namespace ``vigil/Host``, the disks of ``/`` and of the data
directory; namespace ``vigil/Process`` with ``Process=vigil-server``), without GPUs, and a
failing collection is logged and the next one tried: it never stops the server.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from vigil.agent.collect import Collector, mount_of
from vigil.errors import InputError
from vigil.resources.selectors import ProcessSelector
from vigil.store.metrics import MetricStore

log = logging.getLogger(__name__)
PROCESS_LABEL = "vigil-server"


class SelfCollector:
    """Collects this process's host and itself every ``interval`` seconds into ``metrics``."""

    def __init__(
        self,
        metrics: MetricStore,
        interval: float,
        *,
        paths: Sequence[str | Path] = (),
        host: str | None = None,
    ) -> None:
        if interval <= 0:
            raise InputError(f"self-metrics interval: expected seconds > 0, got {interval}")
        self.metrics = metrics
        self.interval = interval
        self.mounts = list(dict.fromkeys(["/", *(mount_of(p) for p in paths if os.path.exists(p))]))
        self.host = host
        self.stored = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vigil-self-metrics", daemon=True)

    def start(self) -> None:
        """Start the thread (its first figures come one interval later)."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        selector = ProcessSelector(PROCESS_LABEL, "pid", str(os.getpid()))
        try:  # made in this thread: its CPU baselines are this thread's
            collector = Collector(self.host, mounts=self.mounts, processes=[selector], gpu=False)
        except Exception:
            log.exception("server self-metrics off: the collector could not start")
            return
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.stored += self.metrics.put(collector.collect())
                except Exception:  # never let a collection take the server down
                    log.exception("server self-metrics: a collection failed")
        finally:
            collector.close()
