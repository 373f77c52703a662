"""Dashboard page: the metric explorer, ``GET /explore``.

A form of what ``GET /api/v1/metrics/query`` takes: ``namespace``, ``name``, dimensions
(``dimensions`` one ``Name:Value`` a line, or ``dimension=Name:Value`` repeated as the API
takes them), ``all_dimensions`` (every dimension set together), ``statistic`` (one or more:
``Average``, ``p99``...), ``period`` (seconds; fitted to the time range when left empty) and
the page's time range. It lists the namespaces, metric names and dimension sets that exist
(the API's metric listing) and charts the query's result, one series per statistic, with
the thresholds of the alarms that watch that metric. Bad input is a message on the page
(400), never an error.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from vigil.app.metric_views import fit_period, parse_dimensions
from vigil.errors import InputError, VigilError
from vigil.metrics.statistics import parse_statistics
from vigil.server.state import get_state
from vigil.server.ui.metric_charts import Line, metric_chart, unit_label
from vigil.server.ui.render import Table, fmt_num, fmt_time, page, time_range
from vigil.server.ui.session import Viewer, require_viewer

router = APIRouter(include_in_schema=False)

MAX_FIELD = 255
MAX_PERIOD = 86400 * 31
MAX_STATISTICS = 8
MAX_POINTS = 5000  # periods in one chart


def _form(request: Request) -> dict[str, Any]:
    q = request.query_params
    dims = [line for line in q.get("dimensions", "").splitlines() if line.strip()]
    dims += q.getlist("dimension")
    stats = [s.strip() for s in q.getlist("statistic") if s.strip()]
    if len(stats) == 1 and "," in stats[0]:
        stats = [s.strip() for s in stats[0].split(",") if s.strip()]
    return {
        "namespace": q.get("namespace", "").strip(),
        "name": q.get("name", "").strip(),
        "dimensions": dims,
        "all_dimensions": q.get("all_dimensions", "") in ("1", "true", "on"),
        "statistic": stats or ["Average"],
        "period": q.get("period", "").strip(),
    }


def _check(form: dict[str, Any], span: float) -> tuple[dict[str, str] | None, int, list[str]]:
    """The query's dimensions (None: all), period and statistics; VigilError when bad."""
    for key in ("namespace", "name"):
        if len(form[key]) > MAX_FIELD:
            raise InputError(f"{key}: at most {MAX_FIELD} characters")
    if len(form["dimensions"]) > 30:
        raise InputError("dimensions: at most 30")
    dims = None if form["all_dimensions"] else parse_dimensions(form["dimensions"])
    if len(form["statistic"]) > MAX_STATISTICS:
        raise InputError(f"statistic: at most {MAX_STATISTICS}")
    parse_statistics(form["statistic"])
    period_text = form["period"]
    if period_text:
        if not period_text.isdigit() or not 1 <= int(period_text) <= MAX_PERIOD:
            raise InputError(f"period: expected whole seconds from 1 to {MAX_PERIOD}, got "
                             f"{period_text[:40]!r}")  # fmt: skip
        period = int(period_text)
        if span / period > MAX_POINTS:
            raise InputError(f"period: {period} s gives more than {MAX_POINTS} periods over "
                             "this time range; choose a longer period or a shorter range")
    else:
        period = 0
    return dims, period, form["statistic"]


@router.get("/explore", response_class=HTMLResponse)
def explore(request: Request, viewer: Viewer = Depends(require_viewer)) -> HTMLResponse:
    state = get_state(request)
    tr = time_range(request)
    form = _form(request)
    listing = state.metrics.list_metrics()
    namespaces = sorted({ns for ns, _, _ in listing})
    names: dict[str, set[str]] = defaultdict(set)
    for ns, name, _ in listing:
        names[ns].add(name)
    sets = [d for ns, n, d in listing if ns == form["namespace"] and n == form["name"]]
    error = None
    spec = None
    result = None
    api_url = None
    shown_period: int | None = None
    status = 200
    if form["name"]:  # a namespace alone lists its metrics
        try:
            if not form["namespace"]:
                raise InputError("namespace: a metric name needs its namespace")
            dims, period, stats = _check(form, (tr.end - tr.start).total_seconds())
            period = period or fit_period(tr.start, tr.end)
            label_dims = ", ".join(f"{k} {v}" for k, v in sorted((dims or {}).items()))
            lines = [
                Line(form["namespace"], form["name"], dims, s,
                     f"{s}" + (f" ({label_dims})" if label_dims else ""))
                for s in stats
            ]
            spec = metric_chart(
                state, "explore-chart", f"{form['namespace']} {form['name']}", lines, tr, period,
                y_label=form["name"], y_unit=_unit(state, form, dims, tr, period, stats[0]),
            )
            rows = list(zip(*(s["y"] for s in spec["series"]))) if spec["series"] else []
            xs = spec["series"][0]["x"] if spec["series"] else []
            result = Table(
                ["Period start", *stats],
                [[fmt_time(x), *(fmt_num(v) for v in values)] for x, values in zip(xs, rows)],
                empty="no datapoint in this time range",
            )
            params: list[tuple[str, str]] = [
                ("namespace", form["namespace"]), ("name", form["name"]),
                ("start", tr.start.isoformat()), ("end", tr.end.isoformat()),
                ("period", str(period)), *(("statistic", s) for s in stats),
            ]  # fmt: skip
            if dims is None:
                params.append(("all_dimensions", "true"))
            else:
                params += [("dimension", f"{k}:{v}") for k, v in dims.items()]
            api_url = "/api/v1/metrics/query?" + urlencode(params)
            shown_period = period
        except VigilError as exc:
            error, status, spec, result = exc.message, 400, None, None
    return page(
        request, viewer, "explore.html", "Metric explorer", status_code=status, form=form,
        namespaces=namespaces, names=sorted(names.get(form["namespace"], ())),
        all_names=sorted({n for ns in names.values() for n in ns}), sets=sets,
        spec=spec, result=result, error=error, api_url=api_url, shown_period=shown_period,
        range_keep=_keep(form),
    )


def _unit(state: Any, form: dict[str, Any], dims: Any, tr: Any, period: int, stat: str) -> str:
    """The unit of the metric's datapoints (``%`` for ``Percent``), ``unitless`` when none."""
    rows = state.metrics.query(form["namespace"], form["name"], dims, tr.start, tr.end, period,
                               [stat])  # fmt: skip
    units = {r["Unit"] for r in rows if r.get("Unit")}
    return (unit_label(units.pop()) if len(units) == 1 else "") or "unitless"


def _keep(form: dict[str, Any]) -> dict[str, str]:
    """The form's fields the time-range picker keeps."""
    keep = {k: form[k] for k in ("namespace", "name", "period") if form[k]}
    if form["dimensions"]:
        keep["dimensions"] = "\n".join(form["dimensions"])
    if form["all_dimensions"]:
        keep["all_dimensions"] = "1"
    keep["statistic"] = ",".join(form["statistic"])
    return keep
