"""Dashboard pages: training jobs and pipelines.

``GET /jobs`` lists training job runs created in the page's time range (status, duration,
failure reason; ``?status=`` and ``?q=`` a name prefix filter); ``GET /jobs/{name}`` shows a
job's runs, the curves of one run (``?run=``, the newest by default) by step, one chart per
metric (``train:loss`` and ``validation:loss`` together on the chart ``loss``), its failure,
transitions and stored log (``?q=`` keeps the lines containing it; the box above the log
filters the shown lines as you type). ``GET /pipelines`` and ``/pipelines/{name}`` show
pipeline runs (CodePipeline, SageMaker pipelines, CodeBuild, Step Functions, GitHub Actions,
GitLab CI) from their events, with failed stages, actions and jobs and their reasons
(:mod:`vigil.app.pipeline_runs`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from vigil.app.pipeline_runs import PipelineRun, pipeline_runs
from vigil.app.training import TrainingJobNotFoundError
from vigil.app.training_queries import MAX_LIMIT, curve, get_job, list_jobs, read_log
from vigil.errors import VigilError
from vigil.jobs import STATUSES
from vigil.server.state import get_state
from vigil.server.ui.metric_charts import slug
from vigil.server.ui.render import (
    Series,
    Table,
    chart,
    error_page,
    fmt_num,
    fmt_time,
    page,
    time_range,
)
from vigil.server.ui.session import Viewer, require_viewer

router = APIRouter(include_in_schema=False)

MAX_QUERY = 200  # characters of a search or prefix
LOG_LINES = 5000  # the last lines of a log shown


def _bad(request: Request, viewer: Viewer, message: str, status: int = 400) -> HTMLResponse:
    return error_page(request, viewer, status, message)


def _link(prefix: str, name: str) -> str:
    return f"{prefix}/{quote(name, safe='')}"


def _safe_url(url: str | None) -> str | None:
    """An event's link when it is http(s) (never ``javascript:`` from a foreign event)."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _seconds(value: Any) -> str:
    return "-" if value is None else f"{fmt_num(value, 3)} s"


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _in_range(job: dict[str, Any], start: datetime, end: datetime) -> bool:
    return start <= _aware(job["created_at"]) < end


@router.get("/jobs", response_class=HTMLResponse)
def jobs(
    request: Request, status: str = "", q: str = "", viewer: Viewer = Depends(require_viewer)
) -> HTMLResponse:
    if status and status not in STATUSES:
        return _bad(request, viewer, f"status: expected one of {', '.join(STATUSES)}")
    if len(q) > MAX_QUERY:
        return _bad(request, viewer, f"q: at most {MAX_QUERY} characters")
    tr = time_range(request)
    db = get_state(request).db
    found = list_jobs(db, status=status or None, prefix=q.strip() or None, limit=MAX_LIMIT)
    runs = [j for j in found["jobs"] if _in_range(j, tr.start, tr.end)]
    table = Table(
        ["Job", "Run", "Status", "Created", "Duration", "Failure reason"],
        [
            [
                {"text": j["name"], "href": _link("/jobs", j["name"])},
                {"text": j["run_id"][:12],
                 "href": _link("/jobs", j["name"]) + f"?run={j['run_id']}"},
                {"status": j["status"]},
                fmt_time(j["created_at"]),
                _seconds(j["duration_seconds"]),
                j["failure_reason"] or "",
            ]
            for j in runs
        ],
        empty="no training job run in this time range",
    )
    by_status: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for j in runs:
        if j["duration_seconds"] is not None and j["started_at"] is not None:
            by_status[j["status"]].append(j)
    durations = chart(
        "job-durations", "Run durations", kind="points", y_label="duration", y_unit="s",
        series=[
            Series(s, [_aware(j["started_at"]).timestamp() for j in rows],
                   [j["duration_seconds"] for j in rows])
            for s, rows in sorted(by_status.items())
        ],
    )
    return page(request, viewer, "jobs.html", "Training jobs", table=table, durations=durations,
                statuses=STATUSES, status=status, q=q, shown=len(runs),
                range_keep={k: v for k, v in (("status", status), ("q", q)) if v})


def _channels(names: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Metric names by chart: ``train:loss`` and ``validation:loss`` on ``loss`` as the
    series ``train`` and ``validation``; a name without ``:`` is its own chart."""
    charts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name in names:
        channel, sep, base = name.partition(":")
        if sep and base:
            charts[base].append((channel, name))
        else:
            charts[name].append((name, name))
    return dict(charts)


@router.get("/jobs/{name}", response_class=HTMLResponse)
def job(
    request: Request, name: str, run: str = "", q: str = "",
    viewer: Viewer = Depends(require_viewer),
) -> HTMLResponse:
    if len(q) > MAX_QUERY or len(run) > 64:
        return _bad(request, viewer, f"q: at most {MAX_QUERY} characters; run: a run id")
    db = get_state(request).db
    try:
        chosen = get_job(db, run or name)
    except TrainingJobNotFoundError as exc:
        return _bad(request, viewer, exc.message, 404)
    if chosen["name"] != name and chosen["run_id"] != name:
        return _bad(request, viewer, f"run {run!r} is not a run of the job {name!r}", 404)
    name = chosen["name"]
    runs = [j for j in list_jobs(db, prefix=name, limit=MAX_LIMIT)["jobs"] if j["name"] == name]
    run_id = chosen["run_id"]
    charts = []
    for base, members in sorted(_channels(chosen["metrics"]).items()):
        series = []
        for label, metric in members:
            points = curve(db, run_id, metric)
            series.append(Series(label, [p["step"] for p in points], [p["value"] for p in points]))
        charts.append(chart(f"curve-{slug(base)}", base, series=series, y_label=base,
                            y_unit="unitless", x_label="step", x_time=False))
    try:
        log = read_log(db, run_id, search=q or None, tail=LOG_LINES)
        lines, log_error = log["lines"], None
    except TrainingJobNotFoundError as exc:
        lines, log_error = [], exc.message
    except VigilError as exc:  # pragma: no cover - an unreadable log
        lines, log_error = [], exc.message
    runs_table = Table(
        ["Run", "Status", "Created", "Duration", "Failure reason"],
        [
            [
                {"text": j["run_id"][:12] + (" (shown)" if j["run_id"] == run_id else ""),
                 "href": _link("/jobs", name) + f"?run={j['run_id']}"},
                {"status": j["status"]},
                fmt_time(j["created_at"]),
                _seconds(j["duration_seconds"]),
                j["failure_reason"] or "",
            ]
            for j in runs
        ],
    )
    transitions = Table(
        ["Secondary status", "Start", "End"],
        [[t.get("Status", ""), fmt_time(t.get("StartTime")), fmt_time(t.get("EndTime"))]
         for t in chosen["transitions"]],
        empty="no transitions recorded",
    )
    finals = Table(
        ["Metric", "Final value", "Step", "Time"],
        [[m["MetricName"], fmt_num(m["Value"]), m["Step"], fmt_time(m["Timestamp"])]
         for m in chosen["final_metrics"]],
    )
    params = Table(["Hyperparameter", "Value"],
                   [[k, str(v)] for k, v in sorted(chosen["hyperparameters"].items())],
                   empty="none")
    return page(request, viewer, "job.html", f"Training job {name}", job=chosen, charts=charts,
                runs=runs_table, transitions=transitions, finals=finals, params=params,
                lines=lines, log_error=log_error, q=q, show_range=False,
                duration=_seconds(chosen["duration_seconds"]))


# -- pipelines ----------------------------------------------------------------------------


def _run_row(r: PipelineRun, with_name: bool) -> list[Any]:
    cells: list[Any] = []
    if with_name:
        cells.append({"text": r.name, "href": _link("/pipelines", r.name)})
    cells += [
        r.kind.replace("_", " "),
        {"text": r.run_id[:36], "href": _safe_url(r.url)} if _safe_url(r.url) else r.run_id[:36],
        {"status": r.status or r.raw_status},
        fmt_time(r.last_seen),
        _seconds(r.duration),
        r.failure or "",
    ]
    return cells


@router.get("/pipelines", response_class=HTMLResponse)
def pipelines(request: Request, viewer: Viewer = Depends(require_viewer)) -> HTMLResponse:
    tr = time_range(request)
    runs = pipeline_runs(get_state(request).db, since=tr.start, until=tr.end)
    table = Table(
        ["Pipeline", "Kind", "Run", "Status", "Last event", "Duration", "Failure"],
        [_run_row(r, True) for r in runs],
        empty="no pipeline, build or workflow run in this time range",
    )
    failed = sum(1 for r in runs if r.failed)
    return page(request, viewer, "pipelines.html", "Pipelines", table=table, total=len(runs),
                failed=failed)


@router.get("/pipelines/{name:path}", response_class=HTMLResponse)
def pipeline(request: Request, name: str, viewer: Viewer = Depends(require_viewer)) -> HTMLResponse:
    if not name or len(name) > 255:
        return _bad(request, viewer, "pipeline name: 1 to 255 characters")
    tr = time_range(request)
    runs = pipeline_runs(get_state(request).db, since=tr.start, until=tr.end, name=name)
    shown = [
        {
            "run": r,
            "url": _safe_url(r.url),
            "steps": Table(
                ["Step", "Kind", "Status", "Time", "Reason"],
                [[s.name[len(r.name) + 1:] if s.name.startswith(r.name + "/") else s.name,
                  s.kind.replace("_", " "), {"status": s.status or s.raw_status},
                  fmt_time(s.time), s.reason or ""] for s in r.steps],
                empty="no stage, action or job events",
            ),
        }
        for r in runs
    ]
    return page(request, viewer, "pipeline.html", f"Pipeline {name}", name=name, runs=shown,
                table=Table(["Kind", "Run", "Status", "Last event", "Duration", "Failure"],
                            [_run_row(r, False) for r in runs],
                            empty="no run of this pipeline in this time range"))
