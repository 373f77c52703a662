"""The outlier model of a baseline: preprocessing, a scorer, and the threshold.

:func:`fit_anomaly_model` fits one on training data; :meth:`AnomalyModel.save` /
:meth:`AnomalyModel.load` write and read it as ``anomaly_model.json`` (plain JSON: no pickle,
and no scikit-learn needed to score). Methods (:data:`METHODS`):

- ``isolation_forest`` (default): scikit-learn's ``IsolationForest`` (100 trees of 256
  samples, ``random_state`` 0), exported tree by tree (:mod:`~vigil.checks.anomaly.forest`);
  the score is ``-score_samples``, in (0, 1];
- ``mahalanobis``: the squared Mahalanobis distance to the training mean;
- ``robust_zscore``: the largest robust z-score over the columns.

Higher scores are more anomalous, whatever the method. The **threshold** is the training
scores' ``1 - contamination`` quantile (``contamination`` 0.01 by default: 1% of the training
records score above it), or the ``quantile`` given; a record is anomalous when its score is
above the threshold. The **tolerated share** of anomalous records in a window
(``max_share``, default twice the contamination, so that a window like the training data does
not raise a violation about half the time) is stored with it.

**Contributions** of a record's features: for each feature, how much the record's score falls
when that feature alone takes its typical training value (median; for a category, the most
frequent one), the others kept. The features with the largest fall explain the record: an
extreme value in X names X first; an unusual combination of X and Y names both.

>>> import numpy as np, pyarrow as pa
>>> rng = np.random.default_rng(1)
>>> train = pa.table({"a": rng.normal(size=2000), "b": rng.normal(size=2000)})
>>> model = fit_anomaly_model(train, numeric=["a", "b"])
>>> model.method, model.contamination
('isolation_forest', 0.01)
>>> enc = model.encode(pa.table({"a": [0.0, 0.1], "b": [0.0, 9.0]}))
>>> s = model.score(enc.matrix)
>>> bool(s[0] < model.threshold < s[1])
True
>>> [name for name, _ in model.contributions(enc.matrix[1])][:1]
['b']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa

from vigil._version import __version__
from vigil.checks.anomaly.distance import Mahalanobis, RobustZ
from vigil.checks.anomaly.encoding import Encoded, Encoding
from vigil.checks.anomaly.forest import Forest, export_forest
from vigil.checks.anomaly.options import (
    ANOMALY_MODEL_FILE,
    DEFAULT_CONTAMINATION,
    MAX_FIT_ROWS,
    METHODS,
    AnomalyOptions,
)
from vigil.errors import ConfigError, FormatError
from vigil.locations import Location, ObjectPath, as_location, write_bytes_atomic

__all__ = [
    "ANOMALY_MODEL_FILE",
    "DEFAULT_CONTAMINATION",
    "METHODS",
    "AnomalyModel",
    "AnomalyOptions",
    "fit_anomaly_model",
]

FORMAT_VERSION = 1
Scorer = Forest | Mahalanobis | RobustZ


@dataclass
class AnomalyModel:
    """A fitted outlier model (see the module's docstring)."""

    method: str
    encoding: Encoding
    scorer: Scorer
    threshold: float
    contamination: float
    max_share: float
    training_rows: int
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return self.encoding.names

    def encode(self, table: pa.Table) -> Encoded:
        """The model's matrix of ``table`` (:class:`~vigil.checks.anomaly.encoding.Encoding`)."""
        return self.encoding.transform(table)

    def score(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Scores of encoded rows; higher is more anomalous."""
        return self.scorer.score(matrix)

    def contributions(self, row: npt.NDArray[np.float64]) -> list[tuple[str, float]]:
        """Each feature's contribution to one encoded row's score (the fall of the score when
        that feature takes its typical value), largest first."""
        typical = np.array([c.typical for c in self.encoding.columns], dtype=np.float64)
        k = len(typical)
        trial = np.repeat(row[None, :], k + 1, axis=0)
        trial[np.arange(1, k + 1), np.arange(k)] = typical
        s = self.score(trial)
        fall = s[0] - s[1:]
        order = np.argsort(-fall, kind="stable")
        return [(self.encoding.columns[j].name, float(fall[j])) for j in order]

    # -- files ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        scorer: dict[str, Any]
        if isinstance(self.scorer, Forest):
            scorer = self.details["forest"]
        else:
            scorer = self.scorer.to_dict()
        return {
            "format": "vigil-anomaly-model",
            "version": FORMAT_VERSION,
            "vigil_version": __version__,
            "method": self.method,
            "threshold": self.threshold,
            "contamination": self.contamination,
            "max_share": self.max_share,
            "training_rows": self.training_rows,
            "preprocessing": self.encoding.to_dict(),
            "model": scorer,
        }

    def save(self, path: str | Path | ObjectPath) -> Location:
        data = orjson.dumps(self.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)
        return write_bytes_atomic(path, data)

    @classmethod
    def from_dict(cls, d: Any, where: str = "<anomaly model>") -> AnomalyModel:
        if not isinstance(d, dict) or d.get("format") != "vigil-anomaly-model":
            raise FormatError(
                f"{where}: not an anomaly model (expected format vigil-anomaly-model)"
            )
        if d.get("version") != FORMAT_VERSION:
            raise FormatError(f"{where}: version {d.get('version')!r}; expected {FORMAT_VERSION}")
        method = d.get("method")
        if method not in METHODS:
            raise FormatError(f"{where}: method {method!r}; expected one of {', '.join(METHODS)}")
        encoding = Encoding.from_dict(d.get("preprocessing"), where)
        raw = d.get("model")
        scorer: Scorer
        details: dict[str, Any] = {}
        if method == "isolation_forest":
            scorer = Forest.from_dict(raw, f"{where}: model")
            details["forest"] = raw
            n = scorer.n_features
        elif method == "mahalanobis":
            scorer = Mahalanobis.from_dict(raw, f"{where}: model")
            n = len(scorer.mean)
        else:
            scorer = RobustZ.from_dict(raw, f"{where}: model")
            n = len(scorer.median)
        if n != len(encoding.columns):
            raise FormatError(
                f"{where}: the model has {n} features but the preprocessing "
                f"{len(encoding.columns)} columns"
            )
        try:
            threshold = float(d["threshold"])
            contamination = float(d["contamination"])
            max_share = float(d["max_share"])
            rows = int(d.get("training_rows", 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"{where}: field {exc}: expected a number") from None
        return cls(method, encoding, scorer, threshold, contamination, max_share, rows, details)

    @classmethod
    def load(cls, path: str | Path | ObjectPath) -> AnomalyModel:
        """Read ``anomaly_model.json``; a file that is not one is a FormatError naming it."""
        p = as_location(path)
        try:
            data = orjson.loads(p.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise FormatError(f"{p}: not valid JSON ({exc}); expected an anomaly model") from None
        return cls.from_dict(data, str(p))


def _sample(table: pa.Table, limit: int, seed: int) -> pa.Table:
    if table.num_rows <= limit:
        return table
    idx = np.sort(np.random.default_rng(seed).choice(table.num_rows, limit, replace=False))
    return table.take(pa.array(idx))


def fit_anomaly_model(
    table: pa.Table,
    *,
    numeric: Sequence[str] = (),
    categorical: Sequence[str] = (),
    options: AnomalyOptions | None = None,
) -> AnomalyModel:
    """Fit an outlier model on the training ``table`` (its ``numeric`` and ``categorical``
    columns; at most :data:`MAX_FIT_ROWS` rows, a uniform sample beyond)."""
    opts = options or AnomalyOptions()
    opts.validate()
    table = _sample(table, MAX_FIT_ROWS, opts.random_state)
    encoding = Encoding.fit(table, numeric=numeric, categorical=categorical)
    if not encoding.columns:
        why = "; ".join(f"{k}: {v}" for k, v in encoding.excluded.items()) or "no column"
        raise ConfigError(f"anomaly detection: no usable numeric or categorical column ({why})")
    X = encoding.transform(table).matrix
    details: dict[str, Any] = {}
    scorer: Scorer
    if opts.method == "isolation_forest":
        # lazy: scikit-learn (~0.5 s to import) only fits; scoring needs none of it
        from sklearn.ensemble import IsolationForest

        forest = IsolationForest(
            n_estimators=opts.n_estimators,
            max_samples=min(opts.max_samples, X.shape[0]),
            random_state=opts.random_state,
        ).fit(X)
        details["forest"] = export_forest(forest)
        scorer = Forest.from_dict(details["forest"])
    elif opts.method == "mahalanobis":
        scorer = Mahalanobis.fit(X)
    else:
        scorer = RobustZ.fit(X)
    rate = opts.rate
    threshold = float(np.quantile(scorer.score(X), 1.0 - rate))
    max_share = opts.max_share if opts.max_share is not None else min(1.0, 2.0 * rate)
    return AnomalyModel(
        opts.method, encoding, scorer, threshold, rate, max_share, table.num_rows, details
    )
