"""Reading one monitoring execution: its document, the output files it wrote (and one of them,
safely), and what its outputs say (violations, bad records, per-feature statistics against the
baseline, model-quality figures). The REST API's execution routes and the dashboard's execution
page both read through these functions.

An output is served only by a name of :data:`OUTPUT_FILES` that the execution wrote: a path is
never built from the name a client sent (no traversal).

>>> media_type("report.html"), media_type("statistics.json")
('text/html', 'application/json')
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from vigil.app.documents import execution_document
from vigil.errors import NotFoundError
from vigil.formats.model_quality import ModelQualityConstraints, ModelQualityStatistics
from vigil.formats.statistics import FeatureStatistics, Statistics
from vigil.formats.violations import ConstraintViolations, Violation
from vigil.locations import Location, ObjectPath, as_location
from vigil.store.db import Database
from vigil.store.executions import get_execution
from vigil.store.models import BaselineRecord, Execution, Schedule

__all__ = [
    "OUTPUT_FILES",
    "REPORT_CSP",
    "ExecutionDetail",
    "FeatureRow",
    "OutputNotFoundError",
    "execution_detail",
    "execution_summary",
    "media_type",
    "output_names",
    "output_path",
]

#: the files an execution may write, in the order they are listed
OUTPUT_FILES = (
    "statistics.json",
    "constraints.json",
    "constraint_violations.json",
    "report.html",
    "analysis.json",
    "anomalies.json",
)


#: the Content-Security-Policy an HTML output is served under: a sandbox (an opaque origin, no
#: script, no form, no plugin), nothing loaded from anywhere, its own inline styles and data:
#: images only, framed by pages of this site alone
REPORT_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


class OutputNotFoundError(NotFoundError):
    """No output of that name: not one of :data:`OUTPUT_FILES`, or not written by the run."""

    code = "output_not_found"


def media_type(filename: str) -> str:
    """The content type an output file is served with."""
    return "text/html" if filename.endswith(".html") else "application/json"


def output_names(e: Execution) -> list[str]:
    """The names of the output files execution ``e`` wrote, in :data:`OUTPUT_FILES` order."""
    if not e.output_uri:
        return []
    folder = as_location(e.output_uri)
    if isinstance(folder, ObjectPath):  # one listing of the prefix, not a request a name
        try:
            present = {p.name for p in folder.iterdir()}
        except OSError:
            return []
        return [f for f in OUTPUT_FILES if f in present]
    return [f for f in OUTPUT_FILES if (folder / f).is_file()]


def execution_summary(e: Execution) -> dict[str, Any]:
    """The execution's document with the names of the output files it wrote (the API's
    ``ExecutionOut``)."""
    return {**execution_document(e), "outputs": output_names(e)}


def output_path(db: Database, execution_id: str, filename: str) -> Location:
    """The file ``filename`` of execution ``execution_id``: the name must be one of
    :data:`OUTPUT_FILES` and the file must exist (else :class:`OutputNotFoundError`; an unknown
    execution is :class:`~vigil.store.errors.ExecutionNotFoundError`)."""
    if filename not in OUTPUT_FILES:
        raise OutputNotFoundError(
            f"no output named {filename!r}; expected one of {', '.join(OUTPUT_FILES)}"
        )
    ex = get_execution(db, execution_id)
    # the name is one of OUTPUT_FILES: a plain file name, joined to the stored folder
    path = as_location(ex.output_uri or "") / OUTPUT_FILES[OUTPUT_FILES.index(filename)]
    if not ex.output_uri or not path.is_file():
        raise OutputNotFoundError(f"execution {execution_id} has no {filename}")
    return path


@dataclass(frozen=True)
class FeatureRow:
    """One feature of a data-quality execution against the baseline."""

    name: str
    baseline_type: str | None
    window_type: str
    baseline_mean: float | None
    window_mean: float | None
    baseline_std: float | None
    window_std: float | None
    baseline_missing: float | None  # share of missing values
    window_missing: float | None
    drift_method: str | None
    drift_value: float | None
    drift_threshold: float | None
    drift_kind: str | None
    drifted: bool


@dataclass
class ExecutionDetail:
    """What the execution page shows of one execution."""

    document: dict[str, Any]
    monitor_type: str
    schedule_expression: str | None
    baseline_name: str | None
    violations: list[Violation] = field(default_factory=list)
    bad_records: dict[str, Any] = field(default_factory=dict)  # {"count", "examples": [...]}
    features: list[FeatureRow] = field(default_factory=list)
    drift_share: float | None = None
    model_statistics: ModelQualityStatistics | None = None
    model_constraints: ModelQualityConstraints | None = None
    model_baseline: ModelQualityStatistics | None = None
    model_extra: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def outputs(self) -> list[str]:
        """The names of the files the execution wrote."""
        return list(self.document.get("outputs") or [])


def _json(path: Location) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def _missing_share(f: FeatureStatistics | None) -> float | None:
    common = f.common if f is not None else None
    if common is None:
        return None
    total = common.num_present + common.num_missing
    return common.num_missing / total if total else None


def _moments(f: FeatureStatistics | None) -> tuple[float | None, float | None]:
    ns = f.numerical_statistics if f is not None else None
    return (None, None) if ns is None else (ns.mean, ns.std_dev)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def feature_rows(
    window: Statistics, baseline: Statistics | None, drift: dict[str, Any]
) -> list[FeatureRow]:
    """Each feature of the window's statistics beside the baseline's and its drift figure
    (``analysis.json``'s ``features``)."""
    base = {f.name: f for f in baseline.features} if baseline is not None else {}
    rows = []
    for wf in window.features:
        bf = base.get(wf.name)
        found = drift.get(wf.name)
        d: dict[str, Any] = found if isinstance(found, dict) else {}
        (bm, bs), (wm, ws) = _moments(bf), _moments(wf)
        rows.append(FeatureRow(
            name=wf.name,
            baseline_type=bf.inferred_type if bf is not None else None,
            window_type=wf.inferred_type,
            baseline_mean=bm, window_mean=wm, baseline_std=bs, window_std=ws,
            baseline_missing=_missing_share(bf), window_missing=_missing_share(wf),
            drift_method=d.get("method"), drift_value=_number(d.get("value")),
            drift_threshold=_number(d.get("threshold")), drift_kind=d.get("kind"),
            drifted=bool(d.get("drifted")),
        ))
    return rows


def _baseline_dir(db: Database, schedule: Schedule | None) -> Location | None:
    if schedule is None or not schedule.baseline_name:
        return None
    with db.session() as s:
        record = s.get(BaselineRecord, schedule.baseline_name)
        return as_location(record.uri) if record is not None else None


def execution_detail(db: Database, execution_id: str) -> ExecutionDetail:
    """The execution ``execution_id`` and what its outputs say (an unknown id raises
    :class:`~vigil.store.errors.ExecutionNotFoundError`); unreadable outputs are left out."""
    ex = get_execution(db, execution_id)
    with db.session() as s:
        schedule = s.get(Schedule, ex.schedule_name)
        if schedule is not None:
            s.expunge(schedule)
    detail = ExecutionDetail(
        document=execution_summary(ex),
        monitor_type=schedule.monitor_type if schedule is not None else "DataQuality",
        schedule_expression=schedule.expression if schedule is not None else None,
        baseline_name=schedule.baseline_name if schedule is not None else None,
    )
    names = set(detail.outputs)
    folder = as_location(ex.output_uri or ".")
    if "constraint_violations.json" in names:
        try:
            found = ConstraintViolations.load(folder / "constraint_violations.json")
            detail.violations = list(found.violations)
        except (OSError, ValueError):
            pass
    summary = _json(folder / "analysis.json") if "analysis.json" in names else None
    if isinstance(summary, dict):
        bad = summary.get("bad_records")
        if isinstance(bad, dict):
            detail.bad_records = bad
        skipped = summary.get("skipped")
        if isinstance(skipped, dict):
            detail.skipped = {str(k): int(v) for k, v in skipped.items() if isinstance(v, int)}
    baseline = _baseline_dir(db, schedule)
    if "statistics.json" not in names:
        return detail
    raw = _json(folder / "statistics.json")
    if isinstance(raw, dict) and any(k.endswith("_metrics") for k in raw):
        _model_quality(detail, folder, baseline, summary)
    elif isinstance(raw, dict) and "features" in raw:
        try:
            window = Statistics.load(folder / "statistics.json")
            base = (Statistics.load(baseline / "statistics.json")
                    if baseline is not None and (baseline / "statistics.json").is_file()
                    else None)
        except (OSError, ValueError):
            return detail
        drift = summary.get("features") if isinstance(summary, dict) else None
        detail.features = feature_rows(window, base, drift if isinstance(drift, dict) else {})
        share = summary.get("dataset_drift") if isinstance(summary, dict) else None
        if isinstance(share, dict):
            detail.drift_share = _number(share.get("share"))
    return detail


def _model_quality(
    detail: ExecutionDetail, folder: Location, baseline: Location | None, summary: Any
) -> None:
    try:
        detail.model_statistics = ModelQualityStatistics.load(folder / "statistics.json")
        if (folder / "constraints.json").is_file():
            detail.model_constraints = ModelQualityConstraints.load(folder / "constraints.json")
        if baseline is not None and (baseline / "statistics.json").is_file():
            detail.model_baseline = ModelQualityStatistics.load(baseline / "statistics.json")
    except (OSError, ValueError):
        return
    if not isinstance(summary, dict):
        return
    extra = summary.get("conditional_entropy")
    if isinstance(extra, dict):
        detail.model_extra = {k: float(v) for k, v in extra.items() if _number(v) is not None}
    checked = summary.get("constraints_checked")
    if isinstance(checked, dict):  # the constraints.json with the conditional-entropy check
        with contextlib.suppress(ValueError):
            detail.model_constraints = ModelQualityConstraints.from_dict(checked)
