"""An anomaly band from a metric's own history: trend plus daily and weekly seasonality.

The model is ordinary least squares on

    value(t) = a + b·t + Σ_{j=1..4} [c_j·sin(2πj·t/day) + d_j·cos(2πj·t/day)]
                       + Σ_{j=1..3} [e_j·sin(2πj·t/week) + f_j·cos(2πj·t/week)]

(harmonic regression; the daily terms only when the history spans at least a day, the weekly
terms only when it spans at least a week). The spread ``σ`` is the residual standard
deviation (degrees of freedom corrected). Fitting runs twice: the second fit leaves out the
points more than 4σ from the first, so past anomalies do not widen the band. The band at
``t`` is ``prediction(t) ± k·σ`` (``k`` = the alarm's ``band_width``, 2 by default), as
CloudWatch's ``ANOMALY_DETECTION_BAND(m, k)``.

>>> from datetime import datetime, timedelta, timezone
>>> t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
>>> ts = [t0 + timedelta(hours=h) for h in range(24 * 14)]
>>> values = [10 + (h % 24 >= 9) * 5 + (h % 7) * 0.1 for h in range(24 * 14)]
>>> model = SeasonalBand.fit(ts, values)
>>> lower, upper = model.band([t0 + timedelta(days=14, hours=12)], k=2)
>>> bool(lower[0] < 15.3 < upper[0])
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from vigil.errors import InputError

DAY = 86_400.0
WEEK = 7 * DAY
DAILY_HARMONICS = 4
WEEKLY_HARMONICS = 3
OUTLIER_SIGMAS = 4.0


def _seconds(timestamps: Sequence[datetime] | np.ndarray) -> np.ndarray:
    if isinstance(timestamps, np.ndarray) and timestamps.dtype.kind in "fi":
        return timestamps.astype(np.float64)
    return np.array([t.timestamp() for t in timestamps], dtype=np.float64)


@dataclass(frozen=True)
class SeasonalBand:
    """A fitted band model (see the module docstring)."""

    origin: float  # epoch seconds the trend is measured from
    daily: bool
    weekly: bool
    coefficients: np.ndarray
    sigma: float

    @staticmethod
    def _design(seconds: np.ndarray, origin: float, daily: bool, weekly: bool) -> np.ndarray:
        columns = [np.ones_like(seconds), (seconds - origin) / DAY]
        for on, length, harmonics in (
            (daily, DAY, DAILY_HARMONICS),
            (weekly, WEEK, WEEKLY_HARMONICS),
        ):
            if on:
                for j in range(1, harmonics + 1):
                    angle = 2 * np.pi * j * seconds / length
                    columns += [np.sin(angle), np.cos(angle)]
        return np.column_stack(columns)

    @classmethod
    def fit(
        cls, timestamps: Sequence[datetime] | np.ndarray, values: Sequence[float] | np.ndarray
    ) -> SeasonalBand:
        """Fit on a history (timestamps as datetimes or epoch seconds)."""
        seconds = _seconds(timestamps)
        y = np.asarray(values, dtype=np.float64)
        if seconds.shape != y.shape:
            raise InputError(f"values: expected {len(seconds)} values, got {len(y)}")
        keep = np.isfinite(y)
        seconds, y = seconds[keep], y[keep]
        if len(y) < 3:
            raise InputError(
                f"anomaly band: expected at least 3 datapoints of history, got {len(y)}"
            )
        span = float(seconds.max() - seconds.min())
        origin = float(seconds.mean())
        daily, weekly = span >= DAY, span >= WEEK
        x = cls._design(seconds, origin, daily, weekly)
        if x.shape[1] >= len(y):  # too little history for the seasonal terms: trend only
            daily = weekly = False
            x = x[:, :2]
        mask = np.ones(len(y), dtype=bool)
        coef, sigma = np.zeros(x.shape[1]), 0.0
        for _ in range(2):
            coef, *_ = np.linalg.lstsq(x[mask], y[mask], rcond=None)
            residuals = y - x @ coef
            dof = max(int(mask.sum()) - x.shape[1], 1)
            sigma = float(np.sqrt(np.sum(residuals[mask] ** 2) / dof))
            mask = np.abs(residuals) <= OUTLIER_SIGMAS * sigma if sigma > 0 else mask
            if mask.sum() <= x.shape[1]:
                break
        return cls(origin, daily, weekly, coef, sigma)

    def predict(self, timestamps: Sequence[datetime] | np.ndarray) -> np.ndarray:
        """The model's expected value at each timestamp."""
        seconds = _seconds(timestamps)
        return self._design(seconds, self.origin, self.daily, self.weekly) @ self.coefficients

    def band(
        self, timestamps: Sequence[datetime] | np.ndarray, k: float = 2.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(lower, upper)``: the prediction ``± k·σ`` at each timestamp."""
        center = self.predict(timestamps)
        return center - k * self.sigma, center + k * self.sigma
