"""The anomaly detection's names and options, without its models: the modules that score
or fit (NumPy, the tree exporter) load only when a baseline has or asks for an outlier model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vigil.errors import ConfigError

ANOMALY_MODEL_FILE = "anomaly_model.json"
METHODS = ("isolation_forest", "mahalanobis", "robust_zscore")
DEFAULT_CONTAMINATION = 0.01
#: at most this many training rows (a uniform sample) fit the model and its threshold
MAX_FIT_ROWS = 200_000
ANOMALIES_FILE = "anomalies.json"
ANOMALY_CHECK = "anomaly_check"
DEFAULT_TOP = 20


@dataclass
class AnomalyOptions:
    """The choices of ``vigil baseline --anomaly-*`` / ``suggest_baseline(anomaly=...)``."""

    method: str = "isolation_forest"
    contamination: float | None = None  # default DEFAULT_CONTAMINATION
    quantile: float | None = None  # instead of contamination: the threshold's score quantile
    max_share: float | None = None  # tolerated share of anomalous records (default 2 x rate)
    n_estimators: int = 100
    max_samples: int = 256
    random_state: int = 0

    def validate(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(
                f"anomaly method {self.method!r}: expected one of {', '.join(METHODS)}"
            )
        if self.contamination is not None and self.quantile is not None:
            raise ConfigError("give the anomaly contamination or the quantile, not both")
        for name, v, lo, hi in (
            ("contamination", self.contamination, 0.0, 0.5),
            ("quantile", self.quantile, 0.5, 1.0),
            ("max_share", self.max_share, 0.0, 1.0),
        ):
            if v is not None and not (math.isfinite(v) and lo < v < hi):
                raise ConfigError(f"anomaly {name} {v}: expected a number in ({lo:g}, {hi:g})")
        if self.n_estimators < 1 or self.max_samples < 2:
            raise ConfigError("anomaly n_estimators must be >= 1 and max_samples >= 2")

    @property
    def rate(self) -> float:
        if self.quantile is not None:
            return 1.0 - self.quantile
        return DEFAULT_CONTAMINATION if self.contamination is None else self.contamination
