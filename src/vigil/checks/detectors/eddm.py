"""EDDM, the Early Drift Detection Method of Baena-García et al. (2006)."""

from __future__ import annotations

from vigil.checks.detectors.base import DriftAndWarningDetector
from vigil.errors import ConfigError

__all__ = ["EDDM"]


class EDDM(DriftAndWarningDetector):
    """Early Drift Detection Method: watches the distance between consecutive errors.

    With ``p'`` the mean distance between errors and ``s'`` its standard deviation, the
    detector tracks the maximum of ``p' + 2 s'``; when the current value falls below ``alpha``
    times that maximum it warns, below ``beta`` times it signals a drift. Suited to gradual
    drift. Input: 1 for an error, 0 for a correct answer.

    Parameters
    ----------
    warm_start
        Values and errors to see (since the last drift) before warnings or drifts.
    alpha
        Warning level.
    beta
        Drift level (``beta <= alpha``).

    Examples
    --------
    >>> import random
    >>> from vigil.checks.detectors import EDDM
    >>> rng = random.Random(42)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
    >>> eddm = EDDM(alpha=0.8, beta=0.75)  # fewer false alarms than the defaults on this stream
    >>> for i, x in enumerate(stream):
    ...     eddm.update(x)
    ...     if eddm.drift_detected:
    ...         print(f"drift at index {i}")
    drift at index 1278
    """

    _params = ("warm_start", "alpha", "beta")
    _state = ("_n", "_last_error", "_n_errors", "_d_n", "_d_mean", "_d_s", "_p2s_max")

    def __init__(self, warm_start: int = 30, alpha: float = 0.95, beta: float = 0.9) -> None:
        super().__init__()
        if alpha < beta:
            raise ConfigError(f"EDDM needs alpha >= beta, got alpha={alpha}, beta={beta}")
        self.warm_start = warm_start
        self.alpha = alpha
        self.beta = beta
        self._reset()

    def _reset(self) -> None:
        self._drift_detected = False
        self._warning_detected = False
        self._n = 0
        self._last_error = 0
        self._n_errors = 0
        # Welford running mean / sum of squares of the distances between errors
        self._d_n = 0.0
        self._d_mean = 0.0
        self._d_s = 0.0
        self._p2s_max = -1.0

    def update(self, x: float) -> None:
        """Feed one outcome: 1 (error) or 0 (correct)."""
        x = self._check(x)
        self.n_seen += 1
        if self._drift_detected:
            self._reset()
        self._n += 1
        if x != 1:
            return
        self._n_errors += 1
        distance = self._n - self._last_error
        old = self._d_mean
        self._d_n += 1.0
        self._d_mean += (1.0 / self._d_n) * (distance - old)
        self._d_s += (distance - old) * (distance - self._d_mean)
        if self._n > self.warm_start:
            var = self._d_s / (self._d_n - 1) if self._d_n > 1 else 0.0
            p2s = self._d_mean + 2 * var**0.5
            if p2s > self._p2s_max:
                self._p2s_max = p2s
            elif self._n_errors > self.warm_start:
                level = p2s / self._p2s_max
                if level < self.beta:
                    self._drift_detected = True
                elif level < self.alpha:
                    self._warning_detected = True
                else:
                    self._warning_detected = False
        self._last_error = self._n
