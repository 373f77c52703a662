"""Dashboard pages: one monitoring execution, its report, its output files.

``GET /executions/{id}``: status, endpoint, schedule, window, times, failure reason; the
violations; the bad records skipped with examples; links to every output file; per-feature
statistics against the baseline (data quality) or the confusion matrix, ROC and PR curves and
the metrics against their constraints (model quality, the figures of
:mod:`vigil.report.model_quality`).

``GET /executions/{id}/report``: the execution's ``report.html`` in a sandboxed ``<iframe>``
(no scripts, an opaque origin) beside what it covers.

``GET /executions/{id}/files/{name}``: an output file, through the same function as the API's
``/api/v1/executions/{id}/outputs/{name}`` (:func:`vigil.app.executions.output_path`: only the
names of :data:`~vigil.app.executions.OUTPUT_FILES` the run wrote, never a path from the
request). JSON comes as a download; ``report.html`` comes inline under its own
Content-Security-Policy (``sandbox``, no script, styles of its own only), framable by this
site's pages alone.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from vigil.app.executions import (
    REPORT_CSP,
    ExecutionDetail,
    FeatureRow,
    OutputNotFoundError,
    execution_detail,
    media_type,
    output_path,
)
from vigil.report.model_quality import model_quality_figures
from vigil.report.svg import gauge
from vigil.server.output_files import output_response
from vigil.server.state import get_state
from vigil.server.ui.render import Table, error_page, fmt_num, fmt_time, page
from vigil.server.ui.session import Viewer, require_viewer
from vigil.store.errors import ExecutionNotFoundError

router = APIRouter(include_in_schema=False)

#: the longest execution id looked up (ids are UUIDs); a longer one is a 404 at once
MAX_ID = 64


def _not_found(request: Request, viewer: Viewer, message: str) -> HTMLResponse:
    return error_page(request, viewer, 404, message)


def _detail(request: Request, execution_id: str) -> ExecutionDetail | None:
    if not execution_id or len(execution_id) > MAX_ID:
        return None
    try:
        return execution_detail(get_state(request).db, execution_id)
    except ExecutionNotFoundError:
        return None


def _duration(doc: dict[str, Any]) -> str:
    start, end = doc.get("started_at"), doc.get("ended_at")
    if not start or not end:
        return "-"
    seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _pair(base: float | None, window: float | None) -> str:
    return f"{fmt_num(base)} / {fmt_num(window)}"


def _drift_cell(row: FeatureRow) -> dict[str, Any]:
    if row.drift_value is None or row.drift_threshold is None:
        return {"text": "-"}
    op = ">" if row.drift_kind == "distance" else "<"
    verdict = "drift" if row.drifted else "no drift"
    bar = gauge(row.drift_value, row.drift_threshold, row.drift_kind or "distance")
    return {"html": Markup(
        f"<code>{Markup.escape(row.drift_method or '')}</code> {fmt_num(row.drift_value)} "
        f"{op} {fmt_num(row.drift_threshold)}? <b class=\"{'bad' if row.drifted else 'ok'}\">"
        f"{verdict}</b><br>{bar}"
    )}


def feature_table(rows: list[FeatureRow]) -> Table:
    """The per-feature statistics of a data-quality execution against the baseline."""
    return Table(
        ["feature", "type (baseline → window)", "mean (baseline / window)",
         "std. dev. (baseline / window)", "missing (baseline / window)", "drift"],
        [
            [
                {"text": r.name},
                f"{r.baseline_type or '-'} → {r.window_type}",
                _pair(r.baseline_mean, r.window_mean),
                _pair(r.baseline_std, r.window_std),
                f"{_share(r.baseline_missing)} / {_share(r.window_missing)}",
                _drift_cell(r),
            ]
            for r in rows
        ],
        empty="no feature statistics",
    )


def violation_table(detail: ExecutionDetail) -> Table:
    """The execution's violations, as ``constraint_violations.json`` holds them."""
    return Table(
        ["feature / metric", "check", "description"],
        [[v.feature_name or v.metric_name or "-", v.constraint_check_type, v.description]
         for v in detail.violations],
        empty="no violations",
    )


def bad_record_table(detail: ExecutionDetail) -> Table:
    """The first bad records the execution skipped (file, line, reason, text)."""
    examples = detail.bad_records.get("examples") or []
    return Table(
        ["file", "line", "reason", "text"],
        [[str(x.get("file", "")), x.get("line"), str(x.get("reason", "")),
          str(x.get("text", ""))] for x in examples if isinstance(x, dict)],
        empty="no examples kept",
    )


@router.get("/executions/{execution_id}", response_class=HTMLResponse)
def execution_page(
    request: Request, execution_id: str, viewer: Viewer = Depends(require_viewer)
) -> HTMLResponse:
    detail = _detail(request, execution_id)
    if detail is None:
        return _not_found(request, viewer, f"No execution has the id {execution_id!r}.")
    doc = detail.document
    mq = None
    if detail.model_statistics is not None:
        mq = Markup(model_quality_figures(
            detail.model_statistics, detail.model_constraints, detail.violations,
            baseline=detail.model_baseline, extra=detail.model_extra,
        ))
    skipped = doc.get("records_skipped") or 0
    return page(
        request, viewer, "execution.html", f"Execution {doc['id'][:8]}",
        heading=f"Execution of {doc['schedule']}",
        show_range=False,
        detail=detail,
        doc=doc,
        duration=_duration(doc),
        violations=violation_table(detail),
        bad_records=bad_record_table(detail),
        records_skipped=skipped,
        features=feature_table(detail.features) if detail.features else None,
        drift_share=None if detail.drift_share is None or math.isnan(detail.drift_share)
        else f"{detail.drift_share:.0%}",
        mq_figures=mq,
        window=f"{fmt_time(doc['window_start'])} to {fmt_time(doc['window_end'])}",
    )


@router.get("/executions/{execution_id}/report", response_class=HTMLResponse)
def report_page(
    request: Request, execution_id: str, viewer: Viewer = Depends(require_viewer)
) -> HTMLResponse:
    detail = _detail(request, execution_id)
    if detail is None:
        return _not_found(request, viewer, f"No execution has the id {execution_id!r}.")
    doc = detail.document
    if "report.html" not in detail.outputs:
        return _not_found(request, viewer, f"Execution {doc['id']} wrote no report"
                          + (f": {doc['failure_reason']}" if doc.get("failure_reason") else "."))
    return page(
        request, viewer, "execution_report.html", f"Report {doc['id'][:8]}",
        heading=f"Report of {doc['schedule']} on {doc['endpoint']}",
        show_range=False, doc=doc, detail=detail,
        window=f"{fmt_time(doc['window_start'])} to {fmt_time(doc['window_end'])}",
    )


@router.get("/executions/{execution_id}/files/{name}", response_model=None)
def execution_file(
    request: Request, execution_id: str, name: str, viewer: Viewer = Depends(require_viewer)
) -> Response:
    if len(execution_id) > MAX_ID:
        return _not_found(request, viewer, "No such execution.")
    try:
        path = output_path(get_state(request).db, execution_id, name)
    except (OutputNotFoundError, ExecutionNotFoundError) as exc:
        return _not_found(request, viewer, exc.message)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "same-origin"}
    if name.endswith(".html"):  # shown in the report page's frame: sandboxed, no script
        headers.update({"Content-Security-Policy": REPORT_CSP, "X-Frame-Options": "SAMEORIGIN"})
        return output_response(path, media_type(name), headers)
    headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    download = f"{execution_id[:8]}-{path.name}"
    return output_response(path, media_type(name), headers, download)
