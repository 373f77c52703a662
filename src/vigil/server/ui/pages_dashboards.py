"""Dashboard pages: dashboards as code (the ``dashboards:`` section of ``vigil.yaml``,
:mod:`vigil.app.config.dashboards`).

``GET /dashboards`` lists the applied dashboards; ``GET /dashboards/{name}`` lays one's
widgets on its 24-column grid (``x``, ``y``, ``width``, ``height`` as CloudWatch does) over
the page's time range: ``metric`` charts (one series per query, the widget's thresholds
drawn), ``value`` (the latest datapoint), ``alarms`` (their states, linked) and ``text``
(a little markdown, escaped: :func:`render_text`).

>>> str(render_text("# Hi <b>\\n- **bold** and `x`\\n- [docs](https://example.com)"))
'<h3>Hi &lt;b&gt;</h3><ul><li><strong>bold</strong> and <code>x</code></li><li><a href="https://example.com" rel="noopener noreferrer">docs</a></li></ul>'
>>> str(render_text("[x](javascript:alert(1))"))
'<p>[x](javascript:alert(1))</p>'
"""  # noqa: E501

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from vigil.app.config.dashboards import (
    AlarmsWidget,
    DashboardSpec,
    MetricQuery,
    MetricWidget,
    TextWidget,
    ValueWidget,
)
from vigil.app.dashboards import DashboardNotFoundError, get_dashboard, stored_dashboards
from vigil.app.metric_views import alarm_states, latest
from vigil.errors import VigilError
from vigil.server.state import ServerState, get_state
from vigil.server.ui.metric_charts import Line, metric_chart
from vigil.server.ui.render import (
    Table,
    Threshold,
    TimeRange,
    error_page,
    fmt_num,
    page,
    time_range,
)
from vigil.server.ui.session import Viewer, require_viewer

router = APIRouter(include_in_schema=False)

ROW_PX = 44  # the height of one grid row (vigil.css: .dash-grid's grid-auto-rows)
MAX_PERIODS = 1440  # a widget's query uses a longer period than its own past this many

_INLINE = (
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![*\w])\*([^*]+)\*(?![*\w])"), r"<em>\1</em>"),
    (re.compile(r"\[([^\]]+)\]\(((?:https?://|/(?!/))[^)\s]*)\)"),
     r'<a href="\2" rel="noopener noreferrer">\1</a>'),
)  # fmt: skip


def _inline(text: str) -> str:
    out = str(escape(text))
    for pattern, replacement in _INLINE:
        out = pattern.sub(replacement, out)
    return out


def render_text(text: str) -> Markup:
    """Markdown-ish text as HTML, every character of ``text`` escaped first: ``#``/``##``
    headings, ``-``/``*`` lists, paragraphs, ``**bold**``, ``*em*``, ```code``` and
    ``[links](https://...)`` (http, https or a path of this server only)."""
    html: list[str] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            html.append("<p>" + " ".join(para) + "</p>")
            para.clear()
        if items:
            html.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in text.splitlines():
        line = raw.strip()
        heading = re.match(r"(#{1,3})\s+(.*)", line)
        bullet = re.match(r"[-*]\s+(.*)", line)
        if not line:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1)) + 2
            html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet:
            if para:
                flush()
            items.append(_inline(bullet.group(1)))
        else:
            if items:
                flush()
            para.append(_inline(line))
    flush()
    return Markup("".join(html))  # built from escaped text only


def _period(q: MetricQuery, tr: TimeRange) -> int:
    span = (tr.end - tr.start).total_seconds()
    return max(q.period, math.ceil(span / MAX_PERIODS))


def _line(q: MetricQuery) -> Line:
    return Line(q.namespace, q.name, dict(q.dimensions), q.statistic, q.shown_label())


def _widget(state: ServerState, i: int, w: Any, tr: TimeRange) -> dict[str, Any]:
    """What the template needs of widget ``i``: its box and its content."""
    box = {
        "index": i, "type": w.type, "title": w.title,
        "style": f"grid-column: {w.x + 1} / span {w.width}; grid-row: {w.y + 1} / span {w.height};",
        "x": w.x, "y": w.y, "width": w.width, "height": w.height,
    }  # fmt: skip
    try:
        if isinstance(w, MetricWidget):
            period = max(_period(q, tr) for q in w.metrics)
            box["chart"] = metric_chart(
                state, f"widget-{i}", w.title or ", ".join(q.name for q in w.metrics),
                [_line(q) for q in w.metrics], tr, period,
                y_label=w.y_label or w.metrics[0].name, y_unit=w.unit or "unitless",
                kind=w.kind, thresholds=[Threshold(t.value, t.label) for t in w.thresholds],
                alarm_thresholds=False,
            )
            box["chart"]["height"] = max(w.height * ROW_PX - 90, 80)
        elif isinstance(w, ValueWidget):
            q = w.metric
            found = latest(state.metrics, q.namespace, q.name, dict(q.dimensions), tr.start,
                           tr.end, _period(q, tr), q.statistic)  # fmt: skip
            box["value"] = fmt_num(found[1]) if found else None
            box["at"] = found[0] if found else None
            box["unit"] = w.unit
            box["label"] = q.shown_label()
        elif isinstance(w, AlarmsWidget):
            box["alarms"] = Table(
                ["Alarm", "State", "Reason"],
                [
                    [{"text": a["name"], "href": f"/alarms/{quote(a['name'], safe='')}"}
                     if a["exists"] else a["name"],
                     {"status": a["state"] or "unknown"}, a["reason"]]
                    for a in alarm_states(state.db, w.alarms)
                ],
            )
        elif isinstance(w, TextWidget):
            box["html"] = render_text(w.text)
    except VigilError as exc:  # a query the store refuses: shown in the widget
        box["error"] = exc.message
    return box


@router.get("/dashboards", response_class=HTMLResponse)
def dashboards(request: Request, viewer: Viewer = Depends(require_viewer)) -> HTMLResponse:
    found = stored_dashboards(get_state(request).db)
    table = Table(
        ["Dashboard", "Widgets", "Kinds"],
        [[{"text": d.name, "href": f"/dashboards/{quote(d.name, safe='')}"}, len(d.widgets),
          ", ".join(sorted({w.type for w in d.widgets})) or "-"] for d in found],
        empty="no dashboard yet: add a dashboards: section to vigil.yaml and vigil apply it",
    )
    return page(request, viewer, "dashboards.html", "Dashboards", table=table,
                show_range=False)


@router.get("/dashboards/{name}", response_class=HTMLResponse)
def dashboard(
    request: Request, name: str, viewer: Viewer = Depends(require_viewer)
) -> HTMLResponse:
    state = get_state(request)
    try:
        spec: DashboardSpec = get_dashboard(state.db, name)
    except DashboardNotFoundError as exc:
        return error_page(request, viewer, 404, exc.message)
    tr = time_range(request)
    widgets = [_widget(state, i, w, tr) for i, w in enumerate(spec.widgets)]
    rows = max((w.y + w.height for w in spec.widgets), default=0)
    return page(request, viewer, "dashboard.html", f"Dashboard {spec.name}", spec=spec,
                widgets=widgets, rows=rows)
