"""Worker processes that run claimed executions off the API's event loop and its GIL.

An :class:`ExecutionPool` is a :class:`~concurrent.futures.ProcessPoolExecutor` of ``size``
processes started with the *spawn* method (a fresh interpreter each: no copy of the server's
threads, sockets or database connections), each opening the installation once
(:func:`~vigil.app.bootstrap.open_database`) and running executions by id
(:func:`~vigil.monitor.runner.execute_claimed`) under the lease owner of the process that
claimed them. A slow execution (a big window, a heavy analysis) thus takes a CPU of its own
and never holds up ingestion or the dashboard.

What the owning process keeps:

* the **leases**: a thread renews the lease of every execution handed to the pool (queued or
  running) every third of ``lease_seconds``, so a long execution is never taken for a dead
  one; once the owner dies, renewal stops and its leases run out, and another worker reruns
  them (:func:`~vigil.store.executions.recover_interrupted`);
* the **stop**: :meth:`ExecutionPool.stop` lets the running executions finish for ``grace``
  seconds, then kills the processes and hands their claims back
  (:func:`~vigil.store.executions.release_lease`), so that any worker reruns them at once.

The processes ignore SIGINT and SIGTERM (a terminal's Ctrl-C or a service manager reaches the
whole process group; the owner decides how to stop) and exit on their own within a second
when their owner is gone, even killed with SIGKILL. A process that dies mid-execution (the
OOM killer) breaks the pool: its executions' claims are handed back and a new pool serves the
next ones.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from vigil.app.bootstrap import open_database
from vigil.app.logging_setup import configure_logging
from vigil.errors import ConfigError, VigilError
from vigil.monitor.runner import execute_claimed
from vigil.monitor.runtime import Runtime
from vigil.store.db import Database
from vigil.store.errors import LeaseLostError
from vigil.store.executions import release_lease, renew_lease
from vigil.store.metrics import MetricStore
from vigil.store.settings import Settings

__all__ = ["ExecutionPool", "PoolStoppedError"]

log = logging.getLogger(__name__)
_OWNER_POLL = 0.5  # seconds between a worker process's checks that its owner lives


class PoolStoppedError(VigilError, RuntimeError):
    """The pool is stopping (or its processes cannot start): it takes no execution."""

    code = "pool_stopped"


class ExecutionPool:
    """``size`` worker processes running executions claimed under ``owner``."""

    def __init__(self, settings: Settings, db: Database, owner: str, size: int) -> None:
        if size < 1:
            raise ConfigError(f"workers: expected 1 or more worker processes, got {size}")
        self.settings, self.db, self.owner, self.size = settings, db, owner, size
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._leased: dict[str, Future[str]] = {}  # execution id -> its run, queued or running
        self._stopping = threading.Event()
        self._renewer = threading.Thread(target=self._renew_loop, name="vigil-leases", daemon=True)
        self._renewer.start()

    # -- handing executions over -------------------------------------------------------------

    def free(self) -> int:
        """How many more executions would start at once (``size`` minus those handed over)."""
        with self._lock:
            return max(0, self.size - len(self._leased))

    def busy(self) -> list[str]:
        """The ids of the executions handed over and not finished yet."""
        with self._lock:
            return list(self._leased)

    def submit(self, execution_id: str) -> Future[str]:
        """Run the claimed execution ``execution_id`` in a worker process; the future's
        result is its final status."""
        if self._stopping.is_set():
            raise PoolStoppedError("the execution pool is stopping: no new executions")
        with self._lock:
            future = self._submit_locked(execution_id)
            self._leased[execution_id] = future
        future.add_done_callback(lambda f: self._done(execution_id, f))
        return future

    def run(self, execution_id: str) -> str:
        """Run the claimed execution in a worker process and wait for its final status
        (the caller's thread waits; the GIL stays free for the API)."""
        return self.submit(execution_id).result()

    def _submit_locked(self, execution_id: str) -> Future[str]:
        for _ in range(2):
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.size,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(self.settings, self.owner, os.getpid()),
                )
            try:
                return self._executor.submit(_run_execution, execution_id)
            except BrokenProcessPool:  # a process died: a new pool for what comes next
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
        raise PoolStoppedError("the worker processes cannot be started")  # pragma: no cover

    def _done(self, execution_id: str, future: Future[str]) -> None:
        with self._lock:
            if self._leased.get(execution_id) is future:
                del self._leased[execution_id]
        if future.cancelled():
            return
        exc = future.exception()
        if exc is None:
            log.debug("execution %s ended %s", execution_id, future.result())
            return
        if isinstance(exc, BrokenProcessPool):
            log.error("the worker process of execution %s died: its claim is handed back",
                      execution_id)
            self._release(execution_id)
        else:  # its lease runs out and a worker reruns it
            log.error("execution %s raised in its worker process: %s", execution_id, exc)

    # -- leases ------------------------------------------------------------------------------

    def renew(self) -> int:
        """Renew the lease of every execution handed over; how many were renewed. One that
        was stopped or recovered meanwhile is dropped from the renewal."""
        renewed = 0
        for execution_id in self.busy():
            try:
                renew_lease(self.db, execution_id, self.owner, self.settings.lease_seconds)
                renewed += 1
            except LeaseLostError as exc:
                log.info("not renewing the lease of %s: %s", execution_id, exc)
                with self._lock:
                    self._leased.pop(execution_id, None)
            except Exception:  # the database is away: try again at the next round
                log.exception("renewing the lease of execution %s failed", execution_id)
        return renewed

    def _renew_loop(self) -> None:
        every = max(0.2, self.settings.lease_seconds / 3)
        while not self._stopping.wait(every):
            self.renew()

    def _release(self, execution_id: str) -> None:
        try:
            if release_lease(self.db, execution_id, self.owner):
                log.info("handed back the claim of execution %s", execution_id)
        except Exception:  # its lease runs out instead
            log.exception("handing back the claim of execution %s failed", execution_id)

    # -- stopping ----------------------------------------------------------------------------

    def stop(self, grace: float = 30.0) -> list[str]:
        """Stop: wait up to ``grace`` seconds for the executions handed over to finish, then
        kill the worker processes and hand back the claims of those left unfinished (their
        ids, returned), for any worker to rerun at once."""
        self._stopping.set()
        deadline = time.monotonic() + max(0.0, grace)
        while self.busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            executor, self._executor = self._executor, None
            left = list(self._leased)
            self._leased.clear()
        if executor is not None:
            if left:
                # ProcessPoolExecutor cannot kill its processes before Python 3.14
                # (terminate_workers): reach its table of them
                processes = list(getattr(executor, "_processes", {}).values())
                for process in processes:
                    if process.is_alive():
                        process.kill()
                for process in processes:
                    process.join(5)
            # idle workers exit on their own; joining them (and the executor's thread) frees
            # its queues' semaphores, which a killed or abandoned pool leaves to the resource
            # tracker's warning at exit
            closer = threading.Thread(
                target=executor.shutdown, kwargs={"wait": True, "cancel_futures": True},
                name="vigil-pool-close", daemon=True,
            )
            closer.start()
            closer.join(10)
        for execution_id in left:
            self._release(execution_id)
        self._renewer.join(5)
        return left


# -- inside a worker process ------------------------------------------------------------------

_RUNTIME: Runtime | None = None  # the worker process's Runtime, opened once by _start_worker


def _start_worker(settings: Settings, owner: str, parent: int) -> None:
    """Initializer of a worker process: signals, logging, the watch on its owner, the
    installation opened once."""
    global _RUNTIME
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the owner decides how to stop
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_watch_owner, args=(parent,), name="vigil-owner", daemon=True).start()
    configure_logging(settings.log_format, settings.log_level)
    db = open_database(settings)
    _RUNTIME = Runtime(settings=settings, db=db, metrics=MetricStore(db), owner=owner)


def _watch_owner(parent: int) -> None:
    """Exit at once when the owning process is gone (its leases then run out)."""
    while os.getppid() == parent:
        time.sleep(_OWNER_POLL)
    os._exit(1)


def _run_execution(execution_id: str) -> str:
    """Run one claimed execution in this worker process; its final status."""
    if _RUNTIME is None:  # pragma: no cover - the initializer always ran
        raise PoolStoppedError("this worker process was not started by an ExecutionPool")
    return str(execute_claimed(_RUNTIME, execution_id).status)
