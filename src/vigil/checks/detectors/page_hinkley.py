"""Page-Hinkley test (Page 1954) on a fading mean, one- or two-sided."""

from __future__ import annotations

import math

from vigil.checks.detectors.base import DriftDetector
from vigil.errors import ConfigError

__all__ = ["PageHinkley"]

_MODES = ("up", "down", "both")


class PageHinkley(DriftDetector):
    """Page-Hinkley change detector: a CUSUM of deviations from the running mean.

    Parameters
    ----------
    min_instances
        Values to see (since the last drift) before a drift may be signalled.
    delta
        Magnitude of change tolerated.
    threshold
        The detection threshold (lambda).
    alpha
        Forgetting factor of the cumulative sums.
    mode
        ``"up"`` watches increases of the mean, ``"down"`` decreases, ``"both"`` either.

    Examples
    --------
    >>> import random
    >>> from vigil.checks.detectors import PageHinkley
    >>> rng = random.Random(12345)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    >>> ph = PageHinkley()
    >>> for i, x in enumerate(stream):
    ...     ph.update(x)
    ...     if ph.drift_detected:
    ...         print(f"drift at index {i}")
    drift at index 1006
    """

    _params = ("min_instances", "delta", "threshold", "alpha", "mode")
    _state = ("_n", "_mean", "_sum_increase", "_sum_decrease", "_min_increase", "_max_decrease")

    def __init__(
        self,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: str = "both",
    ) -> None:
        super().__init__()
        if mode not in _MODES:
            raise ConfigError(f"PageHinkley mode must be one of {_MODES}, got {mode!r}")
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode
        self._up = mode in ("up", "both")
        self._down = mode in ("down", "both")
        self._reset()

    def _reset(self) -> None:
        self._drift_detected = False
        self._n = 0.0
        self._mean = 0.0
        self._sum_increase = 0.0
        self._sum_decrease = 0.0
        self._min_increase = math.inf
        self._max_decrease = -1.0

    def update(self, x: float) -> None:
        """Feed one value."""
        x = self._check(x)
        self.n_seen += 1
        if self._drift_detected:
            self._reset()
        self._n += 1.0
        self._mean += (1.0 / self._n) * (x - self._mean)
        dev = x - self._mean
        self._sum_increase = self.alpha * self._sum_increase + dev - self.delta
        self._sum_decrease = self.alpha * self._sum_decrease + dev + self.delta
        if self._sum_increase < self._min_increase:
            self._min_increase = self._sum_increase
        if self._sum_decrease > self._max_decrease:
            self._max_decrease = self._sum_decrease
        if self._n >= self.min_instances:
            up = self._up and self._sum_increase - self._min_increase > self.threshold
            down = self._down and self._max_decrease - self._sum_decrease > self.threshold
            self._drift_detected = up or down
