"""The one BLAS call of profiling (a sum of squares), independent of BLAS's thread count.

OpenBLAS splits a ``ddot`` of more than 10,000 values into one part per thread and adds the
parts: the result's last bits depend on the thread count, and on a busy two-core machine its
threads (which spin after each call) cost more than the call itself. Profiling therefore runs
BLAS on one thread (:func:`single_threaded`, through threadpoolctl) and takes the sum of
squares as OpenBLAS does on two threads (:func:`sum_squares`): the same bits as earlier
releases on two cores, whatever the machine's core count.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

THREADED_MIN = 10_001  # OpenBLAS's ddot uses its threads from this many values on

_lock = threading.Lock()
_depth = 0
_limits: Any = None  # threadpoolctl's limiter while some thread profiles
_controller: Any = None


def sum_squares(c: np.ndarray) -> float:
    """``c @ c`` as OpenBLAS's ``ddot`` on two threads takes it: halves, then their sum.

    Called inside :func:`single_threaded`, so each half is one thread's ``ddot``.

    >>> import numpy as np
    >>> sum_squares(np.arange(4.0)), sum_squares(np.ones(30_001))
    (14.0, 30001.0)
    """
    if len(c) < THREADED_MIN:
        return float(np.dot(c, c))
    half = (len(c) + 1) // 2
    low, high = c[:half], c[half:]
    return 0.0 + float(np.dot(low, low)) + float(np.dot(high, high))


@contextmanager
def single_threaded() -> Iterator[None]:
    """BLAS on one thread while any thread of the process is inside (re-entrant, shared)."""
    global _depth, _limits, _controller
    with _lock:
        if _depth == 0:
            if _controller is None:
                # lazy: threadpoolctl scans the loaded libraries (~5 ms), once per process
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController()
            _limits = _controller.limit(limits=1, user_api="blas")
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _limits.restore_original_limits()
                _limits = None
