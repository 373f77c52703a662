"""Scoring a window, chunk by chunk: the share of anomalous records and the top records.

:class:`AnomalyScan` takes the window's tables as they stream (:meth:`AnomalyScan.update`) and
keeps counts and the ``top`` records by score; :meth:`AnomalyScan.result` gives the
:class:`AnomalyReport`, written as ``anomalies.json``, whose :meth:`~AnomalyReport.violation`
is the ``anomaly_check`` violation when the share of anomalous records passes the model's
tolerated share.

>>> import numpy as np, pyarrow as pa
>>> from vigil.checks.anomaly.model import fit_anomaly_model
>>> rng = np.random.default_rng(2)
>>> model = fit_anomaly_model(pa.table({"x": rng.normal(size=1000)}), numeric=["x"])
>>> scan = AnomalyScan(model, top=2)
>>> scan.update(pa.table({"x": [0.0, 25.0, 0.1, -30.0]}))
>>> report = scan.result()
>>> report.record_count, report.anomalous_count, [r["row"] for r in report.top_records]
(4, 2, [1, 3])
>>> report.violation().constraint_check_type
'anomaly_check'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from vigil.checks.anomaly.model import AnomalyModel
from vigil.checks.anomaly.options import ANOMALIES_FILE, ANOMALY_CHECK, DEFAULT_TOP
from vigil.formats.violations import Violation

__all__ = ["ANOMALIES_FILE", "ANOMALY_CHECK", "DEFAULT_TOP", "AnomalyReport", "AnomalyScan"]

#: features named per top record
TOP_FEATURES = 3
#: the window's columns that identify a record (capture windows), as anomalies.json names them
ID_COLUMNS = {"__inference_id": "inference_id", "__event_id": "event_id"}


def _plain(v: Any, numeric: bool) -> Any:
    """A record's value as JSON: numbers of numeric columns as floats (captures carry text)."""
    if numeric and isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            return v
    if isinstance(v, float) and not np.isfinite(v):
        return None
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


@dataclass
class AnomalyReport:
    """What scoring a window found (``anomalies.json``)."""

    method: str
    threshold: float
    contamination: float
    max_share: float
    record_count: int
    anomalous_count: int
    columns: list[str]
    missing_columns: dict[str, int] = field(default_factory=dict)
    top_records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def share(self) -> float:
        """The share of anomalous records (0 for an empty window)."""
        return self.anomalous_count / self.record_count if self.record_count else 0.0

    @property
    def exceeded(self) -> bool:
        """True when the share passes the tolerated share."""
        return self.share > self.max_share

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "threshold": self.threshold,
            "contamination": self.contamination,
            "max_share": self.max_share,
            "record_count": self.record_count,
            "anomalous_count": self.anomalous_count,
            "anomaly_share": self.share,
            "exceeded": self.exceeded,
            "columns": self.columns,
            "missing_columns": self.missing_columns,
            "top_records": self.top_records,
        }

    def main_feature(self) -> str | None:
        """The feature named first most often among the anomalous top records."""
        firsts = Counter(
            r["features"][0]["name"] for r in self.top_records if r["anomalous"] and r["features"]
        )
        return firsts.most_common(1)[0][0] if firsts else None

    def violation(self) -> Violation | None:
        """The ``anomaly_check`` violation, or None when the share is tolerated."""
        if not self.exceeded:
            return None
        feature = self.main_feature()
        because = f"; the top records are most often explained by {feature}" if feature else ""
        return Violation(
            feature_name=feature or "",
            constraint_check_type=ANOMALY_CHECK,
            description=(
                f"Anomaly share {self.share:.4g} ({self.anomalous_count} of {self.record_count} "
                f"records score above the {self.method} threshold {self.threshold:.6g}) is "
                f"above the tolerated share {self.max_share:.4g} (training contamination "
                f"{self.contamination:.4g}){because}"
            ),
        )


class AnomalyScan:
    """Score a window's tables as they stream; keep counts and the ``top`` records."""

    def __init__(self, model: AnomalyModel, *, top: int = DEFAULT_TOP) -> None:
        self.model = model
        self.top = max(0, int(top))
        self.rows = 0
        self.anomalous = 0
        self.missing: dict[str, int] = {}
        self._scores = np.empty(0, dtype=np.float64)
        self._kept: list[dict[str, Any]] = []
        self._encoded = np.empty((0, len(model.columns)), dtype=np.float64)

    def update(self, table: pa.Table, ids: pa.Table | None = None) -> None:
        """Score one table (the next rows of the window). ``ids``: the same rows' identifiers
        (``__inference_id`` / ``__event_id``), when ``table`` lacks them."""
        n = table.num_rows
        if n == 0:
            return
        enc = self.model.encode(table)
        for name in enc.missing_columns:
            self.missing[name] = self.missing.get(name, 0) + n
        scores = self.model.score(enc.matrix)
        self.anomalous += int(np.count_nonzero(scores > self.model.threshold))
        if self.top:
            k = min(self.top, n)
            pick = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
            self._keep(table, ids, enc.matrix, scores, np.sort(pick))
        self.rows += n

    def _keep(
        self,
        table: pa.Table,
        ids: pa.Table | None,
        matrix: npt.NDArray[np.float64],
        scores: npt.NDArray[np.float64],
        pick: npt.NDArray[np.intp],
    ) -> None:
        taken = pa.array(pick)
        cols = [c for c in self.model.columns if c in table.column_names]
        values = table.select(cols).take(taken).to_pylist()
        id_source = ids if ids is not None else table
        id_cols = [c for c in ID_COLUMNS if c in id_source.column_names]
        id_rows = id_source.select(id_cols).take(taken).to_pylist() if id_cols else []
        for i, j in enumerate(pick):
            rec: dict[str, Any] = {"row": self.rows + int(j)}
            for c in id_cols:
                rec[ID_COLUMNS[c]] = id_rows[i][c]
            rec["_values"] = values[i]
            self._kept.append(rec)
        self._scores = np.concatenate([self._scores, scores[pick]])
        self._encoded = np.vstack([self._encoded, matrix[pick]])
        if len(self._kept) > self.top:
            order = np.argsort(-self._scores, kind="stable")[: self.top]
            self._kept = [self._kept[i] for i in order]
            self._scores = self._scores[order]
            self._encoded = self._encoded[order]

    def result(self) -> AnomalyReport:
        """The report of the rows seen so far, top records with their contributions."""
        m = self.model
        numeric = {c.name for c in m.encoding.columns if c.kind == "numeric"}
        order = np.argsort(-self._scores, kind="stable")
        top = []
        for i in order:
            rec = dict(self._kept[i])
            values = rec.pop("_values")
            score = float(self._scores[i])
            rec["score"] = score
            rec["anomalous"] = bool(score > m.threshold)
            rec["features"] = [
                {
                    "name": name,
                    "value": _plain(values.get(name), name in numeric),
                    "contribution": fall,
                }
                for name, fall in m.contributions(self._encoded[i])[:TOP_FEATURES]
                if fall > 0
            ]
            top.append(rec)
        return AnomalyReport(
            method=m.method,
            threshold=m.threshold,
            contamination=m.contamination,
            max_share=m.max_share,
            record_count=self.rows,
            anomalous_count=self.anomalous,
            columns=m.columns,
            missing_columns=dict(self.missing),
            top_records=top,
        )
