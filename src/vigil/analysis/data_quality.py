"""Analysis of a window of data against a baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from vigil.analysis.baseline import CONSTRAINTS_FILE, STATISTICS_FILE, Baseline
from vigil.analysis.engines import Engine
from vigil.analysis.profiling import profile_input
from vigil.checks.anomaly.options import ANOMALIES_FILE, DEFAULT_TOP
from vigil.checks.data_quality import run_checks
from vigil.checks.drift import DriftResult
from vigil.errors import BaselineMismatchError
from vigil.formats import jackson
from vigil.formats._base import write_atomic
from vigil.formats.statistics import Statistics
from vigil.formats.violations import ConstraintViolations, Violation
from vigil.io.readers import BadRecords
from vigil.locations import Location, ObjectPath, as_location
from vigil.report.context import ReportContext
from vigil.report.html import render_report

if TYPE_CHECKING:
    from vigil.checks.anomaly.scan import AnomalyReport

VIOLATIONS_FILE = "constraint_violations.json"
REPORT_FILE = "report.html"
SUMMARY_FILE = "analysis.json"


@dataclass
class Analysis:
    """What a monitoring run found: the window's statistics, drift and violations."""

    statistics: Statistics
    baseline: Baseline
    violations: list[Violation]
    drift: dict[str, DriftResult]
    drift_share: float = 0.0
    dataset_drifted: bool = False
    bad_records: BadRecords = field(default_factory=BadRecords)
    anomalies: AnomalyReport | None = None

    @property
    def item_count(self) -> int:
        """Rows analysed."""
        return self.statistics.dataset.item_count

    @property
    def has_violations(self) -> bool:
        """True when any check failed."""
        return bool(self.violations)

    def constraint_violations(self) -> ConstraintViolations:
        """constraint_violations.json as SageMaker writes it."""
        return ConstraintViolations(violations=self.violations)

    def summary(self) -> dict[str, Any]:
        """Counts, per-feature drift and bad records as plain data (analysis.json)."""
        summary = {
            "item_count": self.item_count,
            "violation_count": len(self.violations),
            "dataset_drift": {"share": self.drift_share, "drifted": self.dataset_drifted},
            "features": {name: r.to_dict() for name, r in self.drift.items()},
            "bad_records": self.bad_records.to_dict(),
        }
        if self.anomalies is not None:
            summary["anomalies"] = {
                "share": self.anomalies.share,
                "anomalous_count": self.anomalies.anomalous_count,
                "max_share": self.anomalies.max_share,
                "exceeded": self.anomalies.exceeded,
            }
        return summary

    def to_html(self, context: ReportContext | None = None) -> str:
        """A self-contained, offline HTML report (``context``: the execution it covers, named
        in its header)."""
        return render_report(self, context)

    def _repr_html_(self) -> str:
        return self.to_html()

    def save(
        self, directory: str | Path | ObjectPath, context: ReportContext | None = None
    ) -> Location:
        """Write statistics.json, constraints.json (the baseline's), constraint_violations.json,
        analysis.json, report.html (and anomalies.json, when the baseline carries an outlier
        model) into ``directory``; ``context`` names the execution in the report's header."""
        d = as_location(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.statistics.save(d / STATISTICS_FILE)
        self.baseline.constraints.save(d / CONSTRAINTS_FILE)
        self.constraint_violations().save(d / VIOLATIONS_FILE)
        write_atomic(d / SUMMARY_FILE, jackson.dumps(self.summary()))
        if self.anomalies is not None:
            write_atomic(d / ANOMALIES_FILE, jackson.dumps(self.anomalies.to_dict()))
        write_atomic(d / REPORT_FILE, self.to_html(context))
        return d


def analyze(
    data: Any,
    baseline: Baseline | str | Path,
    *,
    format: str = "auto",
    header: bool = True,
    capture_content: str = "input",
    progress: Any = None,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    anomaly_top: int = DEFAULT_TOP,
    record_ids: pa.Table | None = None,
    engine: str | Engine | None = None,
    spark_master: str | None = None,
) -> Analysis:
    """Profile ``data`` and check it against ``baseline`` (a Baseline or its directory).

    A baseline with an outlier model also scores every record (:attr:`Analysis.anomalies`,
    ``anomaly_top`` records kept; ``record_ids``: the rows' ``__inference_id`` /
    ``__event_id`` columns, in the data's order) and adds the ``anomaly_check`` violation when
    the share of anomalous records passes the model's tolerated share. ``data`` may be a Spark
    DataFrame; ``engine`` and ``spark_master``: as
    :func:`~vigil.analysis.baseline.suggest_baseline`.

    >>> import pyarrow as pa
    >>> from vigil.analysis.baseline import suggest_baseline
    >>> base = suggest_baseline(pa.table({"x": [float(i) for i in range(500)]}))
    >>> a = analyze(pa.table({"x": [float(i) + 400 for i in range(500)]}), base)
    >>> [v.constraint_check_type for v in a.violations]
    ['baseline_drift_check']
    >>> round(a.drift["x"].value, 4)
    0.6862
    """
    base = baseline if isinstance(baseline, Baseline) else Baseline.load(baseline)
    scan = None
    if base.anomaly_model is not None:
        from vigil.checks.anomaly.scan import AnomalyScan  # lazy: only with an outlier model

        scan = AnomalyScan(base.anomaly_model, top=anomaly_top)

    def score(table: pa.Table) -> None:
        assert scan is not None
        ids = None if record_ids is None else record_ids.slice(scan.rows, table.num_rows)
        scan.update(table, ids)

    profile, bad = profile_input(
        data,
        format=format,
        header=header,
        capture_content=capture_content,
        progress=progress,
        delimiter=delimiter,
        encoding=encoding,
        engine=engine,
        spark_master=spark_master,
        on_table=None if scan is None else score,
    )
    expected = [f.name for f in base.constraints.features] or [
        f.name for f in base.statistics.features
    ]
    if expected and not set(expected) & set(profile.columns):
        raise BaselineMismatchError(
            f"the data shares no column with the baseline: expected columns "
            f"{', '.join(expected[:8])}{' ...' if len(expected) > 8 else ''}; found "
            f"{', '.join(list(profile.columns)[:8])} (for a CSV without a header pass --no-header "
            f"so columns are named _c0, _c1, ...)"
        )
    result = run_checks(base.statistics, base.constraints, profile)
    anomalies = None if scan is None else scan.result()
    violation = None if anomalies is None else anomalies.violation()
    if violation is not None:
        result.violations.append(violation)
    return Analysis(
        statistics=profile.to_statistics(),
        baseline=base,
        violations=result.violations,
        drift=result.drift,
        drift_share=result.drift_share,
        dataset_drifted=result.dataset_drifted,
        bad_records=bad,
        anomalies=anomalies,
    )
