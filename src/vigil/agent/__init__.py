"""``vigil agent``: resource figures collected on a host and pushed to the server.

:class:`~vigil.agent.collect.Collector` reads the host (psutil; cgroup limits inside a
container), its GPUs (:mod:`~vigil.agent.nvml`) and named processes
(:mod:`~vigil.agent.processes`) into datapoints (names in :mod:`vigil.resources`);
:class:`~vigil.agent.loop.Agent` pushes them (:mod:`~vigil.agent.push`) and keeps them on disk
(:class:`~vigil.agent.spool.Spool`) while the server cannot take them;
:class:`~vigil.agent.selfcollect.SelfCollector` (imported from there: it needs the store) is
the server collecting its own.
"""

from __future__ import annotations

from vigil.agent.collect import Collector
from vigil.agent.loop import Agent, Tally
from vigil.agent.nvml import NvmlSource
from vigil.agent.push import Outcome, Pusher, Verdict, encode
from vigil.agent.spool import Spool, SpoolBusyError

__all__ = [
    "Agent",
    "Collector",
    "NvmlSource",
    "Outcome",
    "Pusher",
    "Spool",
    "SpoolBusyError",
    "Tally",
    "Verdict",
    "encode",
]
