"""Dashboard page ``GET /endpoints/{name}``: one endpoint over the page's time range.

- its executions on a timeline by status (a chart of points, y the violations) and in a table
  that links each to ``/executions/{id}``;
- per data-quality schedule: a drift heatmap of features x windows (:mod:`.heatmap`), a drift
  line chart per feature against its threshold, the drifted-feature count, completeness,
  each numeric feature's distribution (mean, minimum, maximum per window) and the share of
  anomalous records when the baseline scores them;
- model-quality, bias and attribution figures against their constraints where they exist;
- serving telemetry: latency percentiles, invocations, 4XX and 5XX error rates.

Every figure comes from the metric store's :meth:`~vigil.store.metrics.MetricStore.query`
(what ``GET /api/v1/metrics/query`` answers), aggregated in SQL by a period that keeps each
chart to at most :data:`MAX_POINTS` points; executions from
:func:`vigil.app.endpoint_queries.executions_in_range` (``GET /api/v1/executions``). Each
chart's wrapper says its query (``data-namespace``, ``data-name``, ``data-dimensions``,
``data-start``, ``data-end``, ``data-period``, ``data-statistic``) so it can be checked
against the API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from vigil.app.endpoint_queries import (
    MONITOR_TYPES,
    DriftLimit,
    EndpointNotFoundError,
    SeriesRef,
    anomaly_limit,
    completeness_limits,
    datapoint_count,
    drift_limits,
    endpoint_series,
    executions_in_range,
    get_endpoint,
    model_quality_limits,
    pick_period,
    schedule_period,
    schedules_of,
    status_counts,
)
from vigil.metrics import contract as mc
from vigil.metrics import serving as sv
from vigil.server.state import get_state
from vigil.server.ui.endpoint_charts import (
    LATENCY_PERCENTILES,
    MAX_COLUMNS,
    MAX_EXECUTIONS,
    MAX_PERCENTILE_ROWS,
    MAX_POINTS,
    PROBE_SECONDS,
    STATUS_ORDER,
    Charts,
    MetricChart,
    ScheduleView,
    slug,
)
from vigil.server.ui.heatmap import build_heatmap
from vigil.server.ui.render import (
    Series,
    Table,
    Threshold,
    TimeRange,
    chart,
    error_page,
    fmt_time,
    page,
    time_range,
)
from vigil.server.ui.session import Viewer, require_viewer
from vigil.store.models import Execution

router = APIRouter(include_in_schema=False)
TABLE_ROWS = 200  # the executions table lists the newest this many (the timeline shows all)

def _feature(name: str, prefix: str) -> str | None:
    return name[len(prefix):] if name.startswith(prefix) and len(name) > len(prefix) else None


def _figure_time(view: ScheduleView, ex: Execution) -> float:
    """When the execution's figures are stamped (UNIX seconds): its scheduled time less the
    schedule's period (:func:`vigil.monitor.lifecycle.figure_time`, with the period read once
    per schedule rather than parsed per execution), else its window's start."""
    if view.period is None:
        return _aware(ex.window_start)
    return _aware(ex.scheduled_time) - view.period


def _data_quality(
    c: Charts, view: ScheduleView, series: list[SeriesRef], executions: list[Execution]
) -> None:
    """The drift heatmap and charts, drifted count, completeness, distributions, anomalies."""
    sched = view.schedule
    dims = mc.schedule_dimensions(sched.endpoint_name, sched.name)
    names = {s.name for s in series if s.namespace == mc.DATA_QUALITY_NAMESPACE}
    span = (c.tr.end - c.tr.start).total_seconds()
    minimum = view.period or 60
    start = c.tr.start - timedelta(seconds=minimum)  # the figures of runs scheduled in range
    period = pick_period(span, minimum=minimum, max_points=MAX_POINTS)
    mine = [e for e in executions if e.schedule_name == sched.name]
    limits = drift_limits(mine)
    drift_names = sorted(n for n in names if _feature(n, "feature_baseline_drift_"))
    # the heatmap: the worst drift of each feature per window
    heat_period = pick_period(span, minimum=minimum, max_points=MAX_COLUMNS)
    heat_start = datetime.fromtimestamp(
        (int(start.timestamp()) // heat_period) * heat_period, start.tzinfo
    )
    values: dict[str, dict[float, float]] = {}
    for name in drift_names:
        feature = name[len("feature_baseline_drift_"):]
        limit = limits.get(feature)
        stat = "Minimum" if limit is not None and limit.kind == "p_value" else "Maximum"
        rows = c.query(mc.DATA_QUALITY_NAMESPACE, name, dims, heat_start, heat_period, [stat])
        values[feature] = {r["Timestamp"].timestamp(): r[stat] for r in rows}
    columns = {float((int(_figure_time(view, e)) // heat_period) * heat_period) for e in mine}
    for by_column in values.values():
        columns.update(by_column)
    columns = {col for col in columns if col >= heat_start.timestamp()}
    if values:
        view.heatmap = build_heatmap(sorted(columns), values, limits)
        view.heatmap_period = heat_period
        view.heatmap_query = c.describe(mc.DATA_QUALITY_NAMESPACE, "feature_baseline_drift_*",
                                        dims, heat_start, c.tr.end, heat_period,
                                        ["Maximum"])  # fmt: skip
    for name in drift_names:
        feature = name[len("feature_baseline_drift_"):]
        limit = limits.get(feature, DriftLimit(None))
        stat = "Minimum" if limit.kind == "p_value" else "Maximum"
        method = limit.method or "drift"
        thresholds = [Threshold(limit.threshold, "threshold")] if limit.threshold else []
        made = c.metric_chart(
            f"drift-{feature}", f"Drift of {feature}", mc.DATA_QUALITY_NAMESPACE, name, dims,
            start=start, period=period, stats=[(stat, method)],
            y_label="p-value" if limit.kind == "p_value" else f"{method} distance",
            y_unit="p" if limit.kind == "p_value" else "distance", thresholds=thresholds,
        )  # fmt: skip
        if made:
            view.charts.append(made)
    if mc.DRIFTED_FEATURES in names:
        made = c.metric_chart(
            f"drifted-{sched.name}", "Drifted features", mc.DATA_QUALITY_NAMESPACE,
            mc.DRIFTED_FEATURES, dims, start=start, period=period,
            stats=[("Maximum", "drifted features")], y_label="features", y_unit="count",
            kind="step", thresholds=[Threshold(0.0, "alarm above")],
        )  # fmt: skip
        if made:
            view.charts.append(made)
    if mc.ANOMALY_SHARE in names:
        share = anomaly_limit(mine)
        made = c.metric_chart(
            f"anomaly-{sched.name}", "Share of anomalous records", mc.DATA_QUALITY_NAMESPACE,
            mc.ANOMALY_SHARE, dims, start=start, period=period,
            stats=[("Maximum", "anomalous")], y_label="share of records", y_unit="%",
            scale=100.0,
            thresholds=[Threshold(share * 100.0, "tolerated")] if share is not None else [],
        )  # fmt: skip
        if made:
            view.charts.append(made)
    completeness = completeness_limits(mine)
    for name in sorted(n for n in names if _feature(n, "feature_non_null_")):
        feature = name[len("feature_non_null_"):]
        required = completeness.get(feature)
        made = c.metric_chart(
            f"completeness-{feature}", f"Completeness of {feature}", mc.DATA_QUALITY_NAMESPACE,
            name, dims, start=start, period=period, stats=[("Minimum", "non-null")],
            y_label="non-null share", y_unit="%", scale=100.0,
            thresholds=[Threshold(required * 100.0, "required")] if required is not None else [],
        )  # fmt: skip
        if made:
            view.charts.append(made)
    for name in sorted(n for n in names if _feature(n, "feature_data_")):
        feature = name[len("feature_data_"):]
        made = c.metric_chart(
            f"distribution-{feature}", f"Distribution of {feature}", mc.DATA_QUALITY_NAMESPACE,
            name, dims, start=start, period=period,
            stats=[("Average", "mean"), ("Minimum", "minimum"), ("Maximum", "maximum")],
            y_label=f"{feature}", y_unit="value",
        )  # fmt: skip
        if made:
            view.charts.append(made)


def _model_quality(
    c: Charts, view: ScheduleView, series: list[SeriesRef], executions: list[Execution]
) -> None:
    sched = view.schedule
    dims = mc.schedule_dimensions(sched.endpoint_name, sched.name)
    span = (c.tr.end - c.tr.start).total_seconds()
    minimum = view.period or 60
    start = c.tr.start - timedelta(seconds=minimum)
    period = pick_period(span, minimum=minimum, max_points=MAX_POINTS)
    limits = model_quality_limits([e for e in executions if e.schedule_name == sched.name])
    names = sorted({s.name for s in series if s.namespace == mc.MODEL_QUALITY_NAMESPACE
                    and s.dimensions == dims})  # fmt: skip
    predicted = [mc.prediction(k) for k in mc.PREDICTION_STATISTICS if mc.prediction(k) in names]
    prediction_chart = _predictions(c, sched.name, dims, predicted, start, period)
    if prediction_chart is not None:
        view.charts.append(prediction_chart)
    for name in (n for n in names if n not in predicted):
        thresholds = []
        if name in limits:
            value, operator = limits[name]
            thresholds = [Threshold(value, f"constraint ({operator})")]
        elif name == mc.CONSTRAINT_VIOLATIONS:
            thresholds = [Threshold(0.0, "alarm above")]
        made = c.metric_chart(
            f"quality-{sched.name}-{name}", name.replace("_", " "), mc.MODEL_QUALITY_NAMESPACE,
            name, dims, start=start, period=period, stats=[("Average", name)],
            y_label=name, y_unit="count" if name.startswith(("ground_truth", "constraint"))
            else "metric", thresholds=thresholds,
        )  # fmt: skip
        if made:
            view.charts.append(made)


def _predictions(
    c: Charts, schedule: str, dims: Mapping[str, str], names: list[str], start: datetime,
    period: int,
) -> MetricChart | None:
    """The distribution of the model's predictions over time (every capture's score, labelled
    or not): its mean and 10th, 50th and 90th percentiles per window, one chart."""
    ns = mc.MODEL_QUALITY_NAMESPACE
    series = []
    for name in names:
        rows = c.query(ns, name, dims, start, period, ["Average"])
        if rows:
            series.append(Series(name.removeprefix("prediction_"),
                                 [r["Timestamp"].timestamp() for r in rows],
                                 [r["Average"] for r in rows]))  # fmt: skip
    if not series:
        return None
    spec = chart(c.new_id(f"predictions-{slug(schedule)}"),
                 "Prediction distribution (every capture's score)", series=series,
                 y_label="prediction", y_unit="score")  # fmt: skip
    return MetricChart(spec, c.describe(ns, mc.prediction("p50"), dims, start, c.tr.end,
                                        period, ["Average"]))  # fmt: skip


def _clarify(c: Charts, view: ScheduleView, series: list[SeriesRef], namespace: str) -> None:
    """Bias or attribution figures: one chart per metric name, a series per dimension set."""
    sched = view.schedule
    span = (c.tr.end - c.tr.start).total_seconds()
    minimum = view.period or 60
    start = c.tr.start - timedelta(seconds=minimum)
    period = pick_period(span, minimum=minimum, max_points=MAX_POINTS)
    mine = [s for s in series if s.namespace == namespace
            and s.dimensions.get(mc.MONITORING_SCHEDULE) == sched.name]  # fmt: skip
    by_name: dict[str, list[SeriesRef]] = {}
    for s in mine:
        by_name.setdefault(s.name, []).append(s)
    for name in sorted(by_name):
        refs = by_name[name][:8]  # a readable number of lines
        lines: list[Series] = []
        for ref in refs:
            rows = c.query(namespace, name, ref.dimensions, start, period, ["Average"])
            extra = {k: v for k, v in ref.dimensions.items() if k not in mc.SCHEDULE_DIMENSIONS}
            label = ", ".join(f"{k}={v}" for k, v in sorted(extra.items())) or name
            lines.append(Series(label, [r["Timestamp"].timestamp() for r in rows],
                                [r["Average"] for r in rows]))  # fmt: skip
        if not any(s.x for s in lines):
            continue
        thresholds = []
        if name == mc.ATTRIBUTION_NDCG:
            thresholds = [Threshold(float(sched.config.get("ndcg_threshold", 0.9)), "NDCG")]
        elif name in (mc.BIAS_VIOLATIONS, mc.ATTRIBUTION_VIOLATIONS):
            thresholds = [Threshold(0.0, "alarm above")]
        unit = "count" if name.endswith("violations") else "metric"
        spec = chart(c.new_id(f"{slug(namespace.rsplit('/', 1)[-1])}-{sched.name}-{name}"),
                     name.replace("_", " "), series=lines, y_label=name, y_unit=unit,
                     thresholds=thresholds)  # fmt: skip
        query = c.describe(namespace, name, refs[0].dimensions, start, c.tr.end, period,
                           ["Average"]) if len(refs) == 1 else None  # fmt: skip
        view.charts.append(MetricChart(spec, query))


def _serving(c: Charts, series: list[SeriesRef]) -> list[MetricChart]:
    """Latency percentiles, invocations and error rates of each variant."""
    variants = sorted({json.dumps(s.dimensions, sort_keys=True) for s in series
                       if s.namespace == sv.NAMESPACE})  # fmt: skip
    span = (c.tr.end - c.tr.start).total_seconds()
    period = pick_period(span, minimum=60, max_points=MAX_POINTS)
    start = c.tr.start
    out: list[MetricChart] = []
    for key in variants:
        dims = json.loads(key)
        variant = dims.get("VariantName", "")
        suffix = f" ({variant})" if len(variants) > 1 else ""
        # percentiles are ranked from the rows: over a range holding more than about
        # MAX_PERCENTILE_ROWS of them, the chart shows the latest part of it that holds so
        # many (the rows of the range estimated from its last PROBE, counted in SQL)
        probe = min(span, PROBE_SECONDS)
        rows = datapoint_count(c.store, sv.NAMESPACE, sv.MODEL_LATENCY, dims,
                               c.tr.end - timedelta(seconds=probe), c.tr.end) * span / probe
        lat_start, lat_title, lat_period = start, f"Model latency{suffix}", period
        if rows > MAX_PERCENTILE_ROWS:
            part = span * MAX_PERCENTILE_ROWS / rows
            lat_period = pick_period(part, minimum=60, max_points=MAX_POINTS)
            lat_start = c.tr.end - timedelta(seconds=max(lat_period, part))
            lat_title += f" (the last {_duration(c.tr.end - lat_start)}: pick a shorter range)"
        for made in (
            c.metric_chart(
                f"latency-{variant}", lat_title, sv.NAMESPACE, sv.MODEL_LATENCY,
                dims, start=lat_start, period=lat_period, y_label="ModelLatency",
                stats=[(p, p) for p in LATENCY_PERCENTILES],
                y_unit="ms", scale=0.001,
            ),
            c.metric_chart(
                f"invocations-{variant}", f"Invocations{suffix}", sv.NAMESPACE, sv.INVOCATIONS,
                dims, start=start, period=period, stats=[("Sum", "requests")],
                y_label="requests per period", y_unit="count", kind="bars",
            ),
            c.metric_chart(
                f"errors4xx-{variant}", f"4XX error rate{suffix}", sv.NAMESPACE, sv.ERRORS_4XX,
                dims, start=start, period=period, stats=[("Average", "4XX")],
                y_label="share of requests", y_unit="%", scale=100.0,
            ),
            c.metric_chart(
                f"errors5xx-{variant}", f"5XX error rate{suffix}", sv.NAMESPACE, sv.ERRORS_5XX,
                dims, start=start, period=period, stats=[("Average", "5XX")],
                y_label="share of requests", y_unit="%", scale=100.0,
            ),
        ):  # fmt: skip
            if made:
                out.append(made)
    return out


def _duration(d: timedelta) -> str:
    """``d`` in words.

    >>> _duration(timedelta(hours=30)), _duration(timedelta(minutes=90)), _duration(timedelta(0))
    ('1.2 days', '1.5 hours', '0 minutes')
    """
    seconds = d.total_seconds()
    if seconds >= 86400:
        return f"{seconds / 86400:.2g} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.2g} hours"
    return f"{seconds / 60:.0f} minutes"


def _timeline(c: Charts, executions: list[Execution]) -> dict[str, Any]:
    """The executions as points by status: x the scheduled time, y the violations."""
    by_status: dict[str, list[Execution]] = {}
    for e in sorted(executions, key=lambda e: e.scheduled_time):
        by_status.setdefault(e.status, []).append(e)
    order = [s for s in STATUS_ORDER if s in by_status] + sorted(
        s for s in by_status if s not in STATUS_ORDER
    )
    colours = {"Completed": "#009E73", "CompletedWithViolations": "#D55E00", "Failed": "#CC79A7"}
    series = [
        Series(
            status,
            [_aware(e.scheduled_time) for e in by_status[status]],
            [float(e.violation_count or 0) for e in by_status[status]],
            colours.get(status),
        )
        for status in order
    ]
    return chart(c.new_id("executions-timeline"), "Executions by status", series=series,
                 y_label="violations", y_unit="count", x_label="scheduled time (UTC)",
                 kind="points")  # fmt: skip


def _aware(t: datetime) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()


def _executions_table(executions: list[Execution]) -> Table:
    rows: list[Sequence[Any]] = [
        [
            {"text": fmt_time(e.scheduled_time), "href": f"/executions/{e.id}"},
            e.schedule_name,
            {"status": e.status},
            f"{fmt_time(e.window_start)} to {fmt_time(e.window_end)}",
            e.records_read,
            e.violation_count,
            e.failure_reason or "",
        ]
        for e in executions
    ]
    return Table(["scheduled", "schedule", "status", "window", "records", "violations",
                  "reason"], rows, empty="no execution in this time range")  # fmt: skip


def endpoint_view(request: Request, name: str, tr: TimeRange) -> dict[str, Any]:
    """Everything the endpoint page shows (raises EndpointNotFoundError)."""
    state = get_state(request)
    endpoint = get_endpoint(state.db, name)
    c = Charts(state.metrics, tr)
    executions = executions_in_range(state.db, name, tr.start, tr.end, limit=MAX_EXECUTIONS)
    counts = status_counts(state.db, name, tr.start, tr.end)
    series = endpoint_series(state.metrics, name)
    views = []
    for sched in schedules_of(state.db, name):
        view = ScheduleView(sched, MONITOR_TYPES.get(sched.monitor_type, sched.monitor_type),
                            schedule_period(sched))  # fmt: skip
        if sched.monitor_type == "ModelQuality":
            _model_quality(c, view, series, executions)
        elif sched.monitor_type == "ModelBias":
            _clarify(c, view, series, mc.BIAS_NAMESPACE)
        elif sched.monitor_type == "ModelExplainability":
            _clarify(c, view, series, mc.EXPLAINABILITY_NAMESPACE)
        else:
            _data_quality(c, view, series, executions)
        views.append(view)
    return {
        "endpoint": endpoint,
        "timeline": _timeline(c, executions),
        "executions": _executions_table(sorted(
            executions, key=lambda e: _aware(e.scheduled_time), reverse=True)[:TABLE_ROWS]),
        "table_rows": min(len(executions), TABLE_ROWS),
        "shown": len(executions),
        "total": sum(counts.values()),
        "counts": [(s, counts[s]) for s in sorted(counts)],
        "schedules": views,
        "serving": _serving(c, series),
    }


@router.get("/endpoints/{name}", response_class=HTMLResponse)
def endpoint_page(
    request: Request, name: str, viewer: Viewer = Depends(require_viewer)
) -> HTMLResponse:
    """One endpoint's executions, drift, quality and serving figures over the time range."""
    tr = time_range(request)
    try:
        view = endpoint_view(request, name, tr)
    except EndpointNotFoundError as exc:
        return error_page(request, viewer, 404, exc.message)
    return page(request, viewer, "endpoint.html", f"Endpoint {name}", time_range=tr, **view)
