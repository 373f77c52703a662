"""The process's writers: close at exit, flush on SIGTERM, a fresh start in a forked child.

Every open :class:`CaptureWriter` is in a weak set; :func:`close_all` runs at exit (``atexit``),
:func:`install_sigterm_flush` makes SIGTERM write everything first, and after ``os.fork`` the
child's writers forget their parent's buffer and files and start their own thread.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
import weakref
from types import FrameType
from typing import Protocol

from vigil.errors import ConfigError

log = logging.getLogger(__name__)

SIGNAL_TIMEOUT = 10.0  # seconds a SIGTERM handler waits for each writer


class LiveWriter(Protocol):
    """What the process hooks need of a writer (:class:`~vigil.capture.CaptureWriter`)."""

    def close(self, timeout: float | None = None) -> None: ...
    def flush(self, timeout: float | None = None) -> bool: ...
    def _after_fork(self) -> None: ...


_LIVE: weakref.WeakSet[LiveWriter] = weakref.WeakSet()
_sigterm_installed = False


def close_all(timeout: float | None = None) -> None:
    """Close every open writer of this process (what the ``atexit`` hook does)."""
    for writer in list(_LIVE):
        try:
            writer.close(timeout)
        except Exception:  # pragma: no cover - keep closing the others
            log.exception("closing %r failed", writer)


def flush_all(timeout: float | None = None) -> None:
    """Flush every open writer of this process."""
    for writer in list(_LIVE):
        try:
            writer.flush(timeout)
        except Exception:  # pragma: no cover
            log.exception("flushing %r failed", writer)


def install_sigterm_flush() -> None:
    """On SIGTERM, write every capture writer's records, then do what SIGTERM did before.

    A previous Python handler (a server's graceful shutdown) is called after a flush, and the
    writers are closed at exit; with the default action the writers are closed and the process
    then dies of SIGTERM as it would have; an ignored SIGTERM stays ignored (after the flush).
    Idempotent; call it from the main thread.
    """
    global _sigterm_installed
    if _sigterm_installed:
        return
    if threading.current_thread() is not threading.main_thread():
        raise ConfigError("install_sigterm_flush() must be called from the main thread")
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: FrameType | None) -> None:
        if callable(previous):
            flush_all(SIGNAL_TIMEOUT)
            previous(signum, frame)
            return
        if previous == signal.SIG_IGN:
            flush_all(SIGNAL_TIMEOUT)
            return
        close_all(SIGNAL_TIMEOUT)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, handler)
    _sigterm_installed = True


def _after_fork_in_child() -> None:
    for writer in list(_LIVE):
        writer._after_fork()


atexit.register(close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
