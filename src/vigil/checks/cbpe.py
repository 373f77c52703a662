"""Confidence-based performance estimation (CBPE), for binary classifiers before labels arrive.

NannyML's method: calibrate the model's scores on a labelled reference (isotonic regression),
then, in an unlabelled window, each calibrated probability ``p_i`` is the chance that row ``i``
is positive. The expected confusion matrix follows (with ``ŷ_i`` the thresholded score):

- ``TP = Σ p_i [ŷ_i = 1]``, ``FP = Σ (1 - p_i) [ŷ_i = 1]``,
- ``FN = Σ p_i [ŷ_i = 0]``, ``TN = Σ (1 - p_i) [ŷ_i = 0]``,

and with it accuracy, precision, recall and F1. ROC AUC is estimated from the expected ROC
curve: at each score threshold, the expected true-positive rate is the share of ``Σ p_i`` above
it and the expected false-positive rate the share of ``Σ (1 - p_i)``. The estimates hold while
``P(y | score)`` stays as on the reference (covariate shift); a concept shift breaks them, which
is what labels, when they arrive, reveal.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> score = rng.uniform(size=20_000)
>>> y = (rng.uniform(size=20_000) < score).astype(int)    # perfectly calibrated scores
>>> est = CBPE().fit(y, score).estimate(score)
>>> round(est["accuracy"], 2), round(est["roc_auc"], 2)
(0.75, 0.84)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vigil.errors import InputError

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


@dataclass
class CBPE:
    """Estimate a binary classifier's accuracy, precision, recall, F1 and ROC AUC from its
    scores alone, after calibrating on labelled reference data."""

    threshold: float = 0.5
    _x: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    _y: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def fit(self, y_true: np.ndarray, y_score: np.ndarray) -> CBPE:
        """Calibrate on reference labels (0/1) and scores (isotonic, clipped at the ends)."""
        # lazy: scikit-learn takes ~1 s to import; only fitting a calibration needs it
        from sklearn.isotonic import IsotonicRegression

        y = np.asarray(y_true, dtype=float)
        s = np.asarray(y_score, dtype=float)
        keep = np.isfinite(s) & np.isfinite(y)
        if keep.sum() < 2 or len(np.unique(y[keep])) < 2:
            raise InputError("CBPE needs reference rows of both classes with finite scores")
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(s[keep], y[keep])
        self._x, self._y = iso.X_thresholds_, iso.y_thresholds_
        return self

    def to_dict(self) -> dict[str, object]:
        """The calibration as plain JSON data (saved beside a baseline as ``cbpe.json``)."""
        return {
            "threshold": self.threshold,
            "scores": self._x.tolist(),
            "probabilities": self._y.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> CBPE:
        """Rebuild from :meth:`to_dict`."""
        est = cls(threshold=float(data["threshold"]))  # type: ignore[arg-type]
        est._x = np.asarray(data["scores"], dtype=float)
        est._y = np.asarray(data["probabilities"], dtype=float)
        return est

    def calibrated(self, y_score: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of the positive class."""
        if len(self._x) == 0:
            raise InputError("CBPE is not fitted: call fit() on labelled reference data")
        return np.asarray(np.interp(np.asarray(y_score, dtype=float), self._x, self._y))

    def estimate(self, y_score: np.ndarray) -> dict[str, float]:
        """Estimated metrics of a window from its scores (NaN scores are ignored)."""
        s = np.asarray(y_score, dtype=float)
        s = s[np.isfinite(s)]
        if len(s) == 0:
            return dict.fromkeys(METRICS, float("nan")) | {"n": 0.0}
        p = self.calibrated(s)
        pos = s >= self.threshold
        tp, fp = float(p[pos].sum()), float((1 - p[pos]).sum())
        fn, tn = float(p[~pos].sum()), float((1 - p[~pos]).sum())
        n = len(s)
        return {
            "accuracy": (tp + tn) / n,
            "precision": tp / (tp + fp) if tp + fp else float("nan"),
            "recall": tp / (tp + fn) if tp + fn else float("nan"),
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan"),
            "roc_auc": expected_roc_auc(s, p),
            "n": float(n),
        }


def expected_roc_auc(score: np.ndarray, p: np.ndarray) -> float:
    """The area under the expected ROC curve, ``p`` being each row's chance to be positive.

    >>> expected_roc_auc(np.array([0.9, 0.1]), np.array([1.0, 0.0]))
    1.0
    """
    order = np.argsort(-score, kind="stable")
    s, q = score[order], p[order]
    total_pos, total_neg = q.sum(), (1 - q).sum()
    if total_pos <= 0 or total_neg <= 0:
        return float("nan")
    # one point per distinct score (ties move together, as in sklearn's roc_curve)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tpr = np.r_[0.0, np.cumsum(q)[last] / total_pos]
    fpr = np.r_[0.0, np.cumsum(1 - q)[last] / total_neg]
    return float(np.trapezoid(tpr, fpr))
