"""DDM, the Drift Detection Method of Gama et al. (2004), on a 0/1 error stream."""

from __future__ import annotations

import math

from vigil.checks.detectors.base import DriftAndWarningDetector

__all__ = ["DDM"]


class DDM(DriftAndWarningDetector):
    """Drift Detection Method: watches the error rate ``p`` and its deviation ``s``.

    With ``(p_min, s_min)`` the point where ``p + s`` was lowest, the detector warns when
    ``p + s > p_min + warning_threshold * s_min`` and signals a drift when
    ``p + s > p_min + drift_threshold * s_min``. Input: 1 for an error, 0 for a correct answer.

    Parameters
    ----------
    warm_start
        Values to see (since the last drift) before warnings or drifts may be signalled.
    warning_threshold
        Multiple of ``s_min`` that opens the warning zone.
    drift_threshold
        Multiple of ``s_min`` that signals a drift.

    Examples
    --------
    >>> import random
    >>> from vigil.checks.detectors import DDM
    >>> rng = random.Random(42)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
    >>> ddm = DDM()
    >>> for i, x in enumerate(stream):
    ...     ddm.update(x)
    ...     if ddm.drift_detected:
    ...         print(f"drift at index {i}")
    drift at index 1334
    """

    _params = ("warm_start", "warning_threshold", "drift_threshold")
    _state = ("_n", "_p", "_p_min", "_s_min", "_ps_min")

    def __init__(
        self, warm_start: int = 30, warning_threshold: float = 2.0, drift_threshold: float = 3.0
    ) -> None:
        super().__init__()
        self.warm_start = warm_start
        self.warning_threshold = warning_threshold
        self.drift_threshold = drift_threshold
        self._reset()

    def _reset(self) -> None:
        self._drift_detected = False
        self._warning_detected = False
        self._n = 0.0
        self._p = 0.0
        self._p_min = math.nan
        self._s_min = math.nan
        self._ps_min = math.inf

    def update(self, x: float) -> None:
        """Feed one outcome: 1 (error) or 0 (correct)."""
        x = self._check(x)
        self.n_seen += 1
        if self._drift_detected:
            self._reset()
        self._n += 1.0
        n = self._n
        self._p += (1.0 / n) * (x - self._p)
        p = self._p
        s = math.sqrt(p * (1 - p) / n)
        if n > self.warm_start:
            if p + s <= self._ps_min:
                self._p_min = p
                self._s_min = s
                self._ps_min = p + s
            self._warning_detected = p + s > self._p_min + self.warning_threshold * self._s_min
            if p + s > self._p_min + self.drift_threshold * self._s_min:
                self._drift_detected = True
                self._warning_detected = False
