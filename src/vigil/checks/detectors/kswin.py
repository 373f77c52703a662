"""KSWIN, Kolmogorov-Smirnov windowing (Raab, Heusinger & Schleif 2020)."""

from __future__ import annotations

import random
import warnings
from collections import deque
from collections.abc import Iterable
from typing import Any

from vigil.checks.detectors.base import DriftDetector
from vigil.errors import ConfigError

__all__ = ["KSWIN"]

# The two-sample KS p-value depends only on the sample sizes and the statistic, so the scipy
# call is made once per distinct (n1, n2, statistic) and remembered.
_P_VALUES: dict[tuple[int, int, float], float] = {}


def _ks_statistic(a: list[float], b: list[float]) -> float:
    """The two-sided statistic, computed with the same float operations as scipy's ks_2samp."""
    s1, s2 = sorted(a), sorted(b)
    n1, n2 = len(s1), len(s2)
    i = j = 0
    high = low = 0.0
    while i < n1 or j < n2:
        v = s1[i] if j == n2 or (i < n1 and s1[i] <= s2[j]) else s2[j]
        while i < n1 and s1[i] <= v:
            i += 1
        while j < n2 and s2[j] <= v:
            j += 1
        diff = i / n1 - j / n2
        high, low = max(high, diff), min(low, diff)
    return -low if -low > high else high


class KSWIN(DriftDetector):
    """Kolmogorov-Smirnov Windowing: a KS test between recent values and a sample of older ones.

    Keeps the last ``window_size`` values; once full, it draws ``stat_size`` of the older
    ``window_size - stat_size`` values at random (``random.Random(seed)``, as River does) and
    tests them against the newest ``stat_size``; a drift is signalled when the p-value is at most
    ``alpha`` and the statistic exceeds 0.1.

    Parameters
    ----------
    alpha
        Significance level of the KS test.
    window_size
        Size of the sliding window.
    stat_size
        Size of the samples compared.
    seed
        Seed of the sampling; the same seed gives the same detections. Without one, a seed is
        drawn once and kept in the state, so a restored detector still continues exactly.
    window
        Values already collected, to avoid a cold start.

    Examples
    --------
    >>> import random
    >>> from vigil.checks.detectors import KSWIN
    >>> rng = random.Random(12345)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    >>> kswin = KSWIN(alpha=0.0001, seed=42)
    >>> for i, x in enumerate(stream):
    ...     kswin.update(x)
    ...     if kswin.drift_detected:
    ...         print(f"drift at index {i}")
    drift at index 1016
    """

    window: deque[float]

    _params = ("alpha", "window_size", "stat_size", "seed")
    _state = ("window", "p_value", "n", "_seed", "_rng_state")

    def __init__(
        self,
        alpha: float = 0.005,
        window_size: int = 100,
        stat_size: int = 30,
        seed: int | None = None,
        window: Iterable[float] | None = None,
    ) -> None:
        super().__init__()
        if not 0 <= alpha <= 1:
            raise ConfigError(f"KSWIN alpha must lie in [0, 1], got {alpha}")
        if window_size < 0 or stat_size <= 0 or window_size < stat_size:
            raise ConfigError(f"KSWIN needs 0 < stat_size <= window_size, got {stat_size}, "
                              f"{window_size}")
        self.alpha = alpha
        self.window_size = window_size
        self.stat_size = stat_size
        self.seed = seed
        self._seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self._reset()
        if window:
            self.window = deque((float(v) for v in window), maxlen=window_size)

    def _reset(self) -> None:
        self._drift_detected = False
        self.p_value = 0.0
        self.n = 0
        self.window = deque(maxlen=self.window_size)
        self._rng = random.Random(self._seed)

    @property
    def _rng_state(self) -> list[Any]:
        version, internal, gauss = self._rng.getstate()
        return [version, list(internal), gauss]

    @_rng_state.setter
    def _rng_state(self, state: list[Any]) -> None:
        self._rng.setstate((state[0], tuple(state[1]), state[2]))

    def _restored(self) -> None:
        self.window = deque(self.window, maxlen=self.window_size)

    def update(self, x: float) -> None:
        """Feed one value."""
        x = self._check(x)
        self.n_seen += 1
        if self._drift_detected:
            self._reset()
        self.n += 1
        window = self.window
        window.append(x)
        if len(window) < self.window_size:
            return
        older = self.window_size - self.stat_size
        sample = [window[r] for r in self._rng.sample(range(older), self.stat_size)]
        recent = list(window)[older:]
        statistic = _ks_statistic(sample, recent)
        key = (len(sample), len(recent), statistic)
        p_value = _P_VALUES.get(key)
        if p_value is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=RuntimeWarning)
                # lazy: scipy.stats takes ~0.5 s to import; only a KSWIN that tests needs it
                from scipy import stats

                p_value = float(stats.ks_2samp(sample, recent, method="auto").pvalue)
            if len(_P_VALUES) > 100_000:
                _P_VALUES.clear()
            _P_VALUES[key] = p_value
        self.p_value = p_value
        if p_value <= self.alpha and statistic > 0.1:
            self._drift_detected = True
            self.window = deque(recent, maxlen=self.window_size)
