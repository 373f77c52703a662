"""HDDM_A: drift detection with Hoeffding's bounds on moving averages (Frías-Blanco et al.)."""

from __future__ import annotations

import math

from vigil.checks.detectors.base import DriftAndWarningDetector

__all__ = ["HDDM_A"]


class HDDM_A(DriftAndWarningDetector):
    """Hoeffding Drift Detection Method, A-test (averages), as in MOA and River.

    Keeps the running mean of the whole stream and the running mean up to a cut point; a drift
    is signalled when the mean since the cut point exceeds it by more than a Hoeffding bound.
    Input: values in [0, 1], typically 1 for an error and 0 for a correct answer.

    Parameters
    ----------
    drift_confidence
        Confidence level of the drift test.
    warning_confidence
        Confidence level of the warning test.
    two_sided_test
        Also watch decreases of the mean (by default only increases).

    Examples
    --------
    >>> import random
    >>> from vigil.checks.detectors import HDDM_A
    >>> rng = random.Random(42)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
    >>> hddm = HDDM_A()
    >>> for i, x in enumerate(stream):
    ...     hddm.update(x)
    ...     if hddm.drift_detected:
    ...         print(f"drift at index {i}")
    drift at index 1206
    """

    _params = ("drift_confidence", "warning_confidence", "two_sided_test")
    _state = ("_z", "_x_min", "_x_max")

    def __init__(
        self,
        drift_confidence: float = 0.001,
        warning_confidence: float = 0.005,
        two_sided_test: bool = False,
    ) -> None:
        super().__init__()
        self.drift_confidence = drift_confidence
        self.warning_confidence = warning_confidence
        self.two_sided_test = two_sided_test
        self._log_drift = math.log(1.0 / drift_confidence)
        self._reset()

    def _reset(self) -> None:
        self._drift_detected = False
        self._warning_detected = False
        # (n, mean) of the whole stream and of the prefixes ending at the two cut points
        self._z = [0.0, 0.0]
        self._x_min = [0.0, 0.0]
        self._x_max = [0.0, 0.0]

    def _bound(self, n: float) -> float:
        return math.sqrt(1.0 / (2 * n) * self._log_drift)

    @staticmethod
    def _exceeds(cut_n: float, diff: float, z_n: float, confidence: float) -> bool:
        """Whether ``diff``, a mean since the cut point minus before it, passes the bound."""
        if cut_n == z_n:
            return False
        m = (z_n - cut_n) / cut_n * (1.0 / z_n)
        return diff >= math.sqrt(m / 2 * math.log(2.0 / confidence))

    def update(self, x: float) -> None:
        """Feed one value in [0, 1]."""
        x = self._check(x)
        self.n_seen += 1
        if self._drift_detected:
            self._reset()
        z = self._z
        z[0] += 1.0
        z[1] += (1.0 / z[0]) * (x - z[1])
        if self._x_min[0] == 0:
            self._x_min = z[:]
        if self._x_max[0] == 0:
            self._x_max = z[:]
        eps_z = self._bound(z[0])
        if self._x_min[1] + self._bound(self._x_min[0]) >= z[1] + eps_z:
            self._x_min = z[:]
        if self._x_max[1] - self._bound(self._x_max[0]) <= z[1] - eps_z:
            self._x_max = z[:]
        n, lo, hi = z[0], self._x_min, self._x_max
        if self._exceeds(lo[0], z[1] - lo[1], n, self.drift_confidence):
            self._warning_detected, self._drift_detected = False, True
        else:
            self._drift_detected = False
            self._warning_detected = self._exceeds(
                lo[0], z[1] - lo[1], n, self.warning_confidence
            )
        if self.two_sided_test:
            if self._exceeds(hi[0], hi[1] - z[1], n, self.drift_confidence):
                self._drift_detected = True
            elif self._exceeds(hi[0], hi[1] - z[1], n, self.warning_confidence):
                self._warning_detected = True
