"""HDDM_W: drift detection with McDiarmid's bounds on weighted averages (Frías-Blanco et al.)."""

from __future__ import annotations

import math
from typing import Any

from vigil.checks.detectors.base import DriftAndWarningDetector

__all__ = ["HDDM_W"]

# A sample summary is [initialised, exponentially weighted mean, independent bound condition]
Sample = list[Any]


class HDDM_W(DriftAndWarningDetector):
    """Hoeffding Drift Detection Method, W-test (EWMA), as in MOA and River.

    Compares the exponentially weighted mean of the stream since a cut point with the one up to
    it; a drift is signalled when the difference exceeds a McDiarmid bound. Input: values in
    [0, 1], typically 1 for an error and 0 for a correct answer.

    Parameters
    ----------
    drift_confidence
        Confidence level of the drift test.
    warning_confidence
        Confidence level of the warning test.
    lambda_val
        Weight of the newest value in the moving averages.
    two_sided_test
        Also watch decreases of the mean (by default only increases).

    Examples
    --------
    >>> import random
    >>> from vigil.checks.detectors import HDDM_W
    >>> rng = random.Random(42)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
    >>> hddm = HDDM_W()
    >>> for i, x in enumerate(stream):
    ...     hddm.update(x)
    ...     if hddm.drift_detected:
    ...         print(f"drift at index {i}")
    drift at index 1077
    """

    _params = ("drift_confidence", "warning_confidence", "lambda_val", "two_sided_test")
    _state = ("_total", "_s1_incr", "_s2_incr", "_s1_decr", "_s2_decr", "_incr_cut", "_decr_cut")

    def __init__(
        self,
        drift_confidence: float = 0.001,
        warning_confidence: float = 0.005,
        lambda_val: float = 0.05,
        two_sided_test: bool = False,
    ) -> None:
        super().__init__()
        self.drift_confidence = drift_confidence
        self.warning_confidence = warning_confidence
        self.lambda_val = lambda_val
        self.two_sided_test = two_sided_test
        self._one_minus = 1.0 - lambda_val
        self._lambda_sq = lambda_val * lambda_val
        self._c_lambda_sq = (1 - lambda_val) ** 2
        self._reset()

    def _reset(self) -> None:
        self._drift_detected = False
        self._warning_detected = False
        self._total: Sample = [False, 0.0, 1.0]
        self._s1_incr: Sample = [False, 0.0, 1.0]
        self._s2_incr: Sample = [False, 0.0, 1.0]
        self._s1_decr: Sample = [False, 0.0, 1.0]
        self._s2_decr: Sample = [False, 0.0, 1.0]
        self._incr_cut = math.inf
        self._decr_cut = -math.inf

    def _add(self, sample: Sample, x: float) -> None:
        sample[1] = self.lambda_val * x + self._one_minus * sample[1] if sample[0] else x
        sample[0] = True
        sample[2] = self._lambda_sq + self._c_lambda_sq * sample[2]

    @staticmethod
    def _bound(ibc: float, confidence: float) -> float:
        return math.sqrt(ibc * math.log(1 / confidence) / 2)

    def _changed(self, before: Sample, after: Sample, confidence: float) -> bool:
        if not (before[0] and after[0]):
            return False
        return bool(after[1] - before[1] > self._bound(before[2] + after[2], confidence))

    def update(self, x: float) -> None:
        """Feed one value in [0, 1]."""
        x = self._check(x)
        self.n_seen += 1
        if self._drift_detected:
            self._reset()
        total = self._total
        self._add(total, x)
        eps = self._bound(total[2], self.drift_confidence)
        if total[1] + eps < self._incr_cut:
            self._incr_cut = total[1] + eps
            self._s1_incr, self._s2_incr = total[:], [False, 0.0, 1.0]
        else:
            self._add(self._s2_incr, x)
        if self._changed(self._s1_incr, self._s2_incr, self.drift_confidence):
            self._warning_detected, self._drift_detected = False, True
        else:
            self._drift_detected = False
            self._warning_detected = self._changed(
                self._s1_incr, self._s2_incr, self.warning_confidence
            )
        if total[1] - eps > self._decr_cut:
            self._decr_cut = total[1] - eps
            self._s1_decr, self._s2_decr = total[:], [False, 0.0, 1.0]
        else:
            self._add(self._s2_decr, x)
        if self.two_sided_test:
            if self._changed(self._s2_decr, self._s1_decr, self.drift_confidence):
                self._drift_detected = True
            elif self._changed(self._s2_decr, self._s1_decr, self.warning_confidence):
                self._warning_detected = True
