"""ADWIN, adaptive windowing (Bifet & Gavaldà 2007), with ADWIN2's exponential buckets."""

from __future__ import annotations

import math

from vigil.checks.detectors.base import DriftDetector

__all__ = ["ADWIN"]


class ADWIN(DriftDetector):
    """Adaptive Windowing: drops the oldest part of a window whose mean differs from the rest.

    The window is kept as exponential histograms (level ``i``: up to ``max_buckets`` buckets of
    ``2**i`` values). Every ``clock`` values each cut into an older and a newer part is tested;
    a drift is signalled when their means differ by more than a bound set by ``delta``.

    Parameters
    ----------
    delta
        Significance value.
    clock
        Test for a cut every ``clock`` values.
    max_buckets
        Buckets of each size kept before two are merged.
    min_window_length
        Shortest sub-window considered in a cut.
    grace_period
        Values to see before the first test.

    Examples
    --------
    >>> import random
    >>> from vigil.checks.detectors import ADWIN
    >>> rng = random.Random(12345)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    >>> adwin = ADWIN()
    >>> for i, x in enumerate(stream):
    ...     adwin.update(x)
    ...     if adwin.drift_detected:
    ...         print(f"drift at index {i}")
    drift at index 1023
    """

    _params = ("delta", "clock", "max_buckets", "min_window_length", "grace_period")
    _state = ("_totals", "_variances", "width", "total", "variance", "n_detections", "_tick")

    def __init__(
        self,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        super().__init__()
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        self._reset()

    def _reset(self) -> None:
        self._drift_detected = False
        self._totals: list[list[float]] = [[]]  # per level, the bucket sums, oldest first
        self._variances: list[list[float]] = [[]]  # and the bucket sums of squared deviations
        self.width = 0.0
        self.total = 0.0
        self.variance = 0.0
        self.n_detections = 0
        self._tick = 0

    @property
    def estimation(self) -> float:
        """Mean of the values in the window."""
        return self.total / self.width if self.width else 0.0

    def update(self, x: float) -> None:
        """Feed one value."""
        x = self._check(x)
        self.n_seen += 1
        if self._drift_detected:
            self._reset()
        self.width += 1.0
        if self.width > 1.0:
            dev = x - self.total / (self.width - 1.0)
            self.variance += (self.width - 1.0) * dev * dev / self.width
        self.total += x
        self._totals[0].append(x)
        self._variances[0].append(0.0)
        if len(self._totals[0]) > self.max_buckets:
            self._compress()
        self._tick += 1
        if self._tick % self.clock == 0 and self.width > self.grace_period:
            while self._cut():
                self._drift_detected = True
            if self._drift_detected:
                self.n_detections += 1

    def _compress(self) -> None:
        totals, variances, level = self._totals, self._variances, 0
        while len(totals[level]) == self.max_buckets + 1:
            size = float(1 << level)
            t0, t1 = totals[level][0], totals[level][1]
            d = t0 / size - t1 / size
            spread = size * 0.5 * d * d
            merged = variances[level][0] + variances[level][1] + spread
            if level + 1 == len(totals):
                totals.append([])
                variances.append([])
            totals[level + 1].append(t0 + t1)
            variances[level + 1].append(merged)
            del totals[level][:2], variances[level][:2]
            if len(totals[level + 1]) <= self.max_buckets:
                break
            level += 1

    def _cut(self) -> bool:
        """Scan the cuts from the oldest bucket; drop the oldest bucket at the first drift."""
        if self.width <= 1.0:  # no cut of a single value (and log(log(1)) is undefined)
            return False
        mwl = self.min_window_length
        log_term = math.log(2.0 * math.log(self.width) / self.delta)
        var_in_window = self.variance / self.width
        n0, n1, u0, u1 = 0.0, self.width, 0.0, self.total
        for level in range(len(self._totals) - 1, -1, -1):
            size = float(1 << level)
            sums = self._totals[level]
            last = len(sums) - 1
            for k, bucket_total in enumerate(sums):
                n0 += size
                n1 -= size
                u0 += bucket_total
                u1 -= bucket_total
                if level == 0 and k == last:
                    return False
                if n1 >= mwl and n0 >= mwl:
                    m_recip = 1.0 / (n0 - mwl + 1.0) + 1.0 / (n1 - mwl + 1.0)
                    eps = (math.sqrt(2.0 * m_recip * var_in_window * log_term)
                           + 2.0 / 3.0 * log_term * m_recip)
                    if abs(u0 / n0 - u1 / n1) > eps:
                        self._drop_oldest()
                        return True
        return False

    def _drop_oldest(self) -> None:
        last = len(self._totals) - 1
        size = float(1 << last)
        u, v = self._totals[last].pop(0), self._variances[last].pop(0)
        self.width -= size
        self.total -= u
        d = u / size - self.total / self.width
        spread = size * self.width * d * d / (size + self.width)
        self.variance -= v + spread
        if not self._totals[last]:
            self._totals.pop()
            self._variances.pop()
