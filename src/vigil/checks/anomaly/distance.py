"""Two outlier models beside the Isolation Forest, both portable (a few numbers per column).

- :class:`Mahalanobis`: the squared Mahalanobis distance to the training mean under the
  training covariance (its pseudo-inverse, so constant or collinear columns do no harm):
  catches unusual *combinations* of correlated columns as well as extreme values.
- :class:`RobustZ`: the largest robust z-score over the columns,
  ``|x - median| / (1.4826 * MAD)`` (the MAD scaled to the normal's standard deviation; a
  column whose MAD is 0 uses its mean absolute deviation, else 1): extreme values in one
  column, explained at a glance.

>>> import numpy as np
>>> X = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 0.0], [3.0, 5.0]])
>>> z = RobustZ.fit(X)
>>> [round(float(v), 3) for v in z.score(np.array([[1.5, 1.5], [10.0, 1.5]]))]
[0.0, 5.733]
>>> m = Mahalanobis.fit(X)
>>> round(float(m.score(np.array([[1.5, 2.0]]))[0]), 6)
0.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.errors import FormatError

__all__ = ["Mahalanobis", "RobustZ"]

_NORMAL_MAD = 1.482602218505602  # 1 / Phi^-1(3/4), scipy's scale="normal"
CHUNK_ROWS = 65_536


def _vector(d: Any, key: str, where: str, n: int | None = None) -> npt.NDArray[np.float64]:
    try:
        v = np.asarray(d[key], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"{where}: field '{key}': expected a list of numbers ({exc!r})") from None
    if n is not None and v.shape[0] != n:
        raise FormatError(f"{where}: field '{key}': expected {n} entries, found {v.shape[0]}")
    return v


@dataclass
class Mahalanobis:
    """Squared Mahalanobis distance to the training mean."""

    mean: npt.NDArray[np.float64]
    precision: npt.NDArray[np.float64]  # pseudo-inverse of the covariance

    @classmethod
    def fit(cls, X: npt.NDArray[np.float64]) -> Mahalanobis:
        mean = X.mean(axis=0)
        cov = np.atleast_2d(np.cov(X, rowvar=False, bias=True))
        precision = np.asarray(np.linalg.pinv(cov, hermitian=True), dtype=np.float64)
        return cls(mean=mean, precision=precision)

    def score(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out = np.empty(X.shape[0], dtype=np.float64)
        for s in range(0, X.shape[0], CHUNK_ROWS):
            d = X[s : s + CHUNK_ROWS] - self.mean
            out[s : s + CHUNK_ROWS] = np.einsum("ij,jk,ik->i", d, self.precision, d)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "precision": self.precision.tolist()}

    @classmethod
    def from_dict(cls, d: Any, where: str) -> Mahalanobis:
        mean = _vector(d, "mean", where)
        precision = _vector(d, "precision", where, len(mean))
        if precision.shape != (len(mean), len(mean)):
            raise FormatError(f"{where}: field 'precision': expected a square matrix")
        return cls(mean=mean, precision=precision)


@dataclass
class RobustZ:
    """The largest robust z-score over the columns."""

    median: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]

    @classmethod
    def fit(cls, X: npt.NDArray[np.float64]) -> RobustZ:
        median = np.median(X, axis=0)
        dev = np.abs(X - median)
        scale = _NORMAL_MAD * np.median(dev, axis=0)
        mean_dev = dev.mean(axis=0)
        scale = np.where(scale > 0, scale, np.where(mean_dev > 0, mean_dev, 1.0))
        return cls(median=median, scale=scale)

    def score(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        if X.shape[1] == 0:
            return np.zeros(X.shape[0])
        return np.asarray(np.max(np.abs(X - self.median) / self.scale, axis=1), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {"median": self.median.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: Any, where: str) -> RobustZ:
        median = _vector(d, "median", where)
        scale = _vector(d, "scale", where, len(median))
        if (scale <= 0).any():
            raise FormatError(f"{where}: field 'scale': expected positive numbers")
        return cls(median=median, scale=scale)
