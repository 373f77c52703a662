"""Rendering dashboard pages: the Jinja2 environment, the page's shared time range, charts.

Every page extends ``base.html`` (navigation, the time-range picker, the viewer's name and a
sign-out button) and is rendered with :func:`page`. A chart is a ``<figure>`` whose JSON spec
(:func:`chart`) ``vigil.js`` draws with uPlot; the spec names its axes with units, its series,
its thresholds (drawn as dashed lines), and the figure says how many series and points it
drew (``data-series`` and ``data-points``), which the browser tests read.

>>> tr = TimeRange.parse({"range": "6h"}, now=datetime(2026, 1, 1, 12, tzinfo=timezone.utc))
>>> (tr.start.isoformat(), tr.end.isoformat(), tr.key)
('2026-01-01T06:00:00+00:00', '2026-01-01T12:00:00+00:00', '6h')
>>> custom = TimeRange.parse({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"})
>>> custom.query()
'from=2026-01-01T00%3A00%3A00%2B00%3A00&to=2026-01-02T00%3A00%3A00%2B00%3A00'
>>> from urllib.parse import parse_qsl
>>> TimeRange.parse(dict(parse_qsl(custom.query()))) == custom
True
>>> spec = chart("lat", "Latency", y_label="p99", y_unit="ms",
...              series=[Series("p99", [0, 60], [1.5, 2.0])], thresholds=[Threshold(3.0, "SLO")])
>>> spec["series"][0]["y"], spec["thresholds"][0]["value"], spec["y"]["unit"]
([1.5, 2.0], 3.0, 'ms')
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from vigil.server.ui.session import CSRF_FIELD, Viewer

TEMPLATES = Path(__file__).parent / "templates"

#: the picker's choices: key -> (label, length)
RANGES: dict[str, tuple[str, timedelta]] = {
    "1h": ("1 hour", timedelta(hours=1)),
    "6h": ("6 hours", timedelta(hours=6)),
    "24h": ("24 hours", timedelta(hours=24)),
    "7d": ("7 days", timedelta(days=7)),
    "30d": ("30 days", timedelta(days=30)),
    "90d": ("90 days", timedelta(days=90)),
}
DEFAULT_RANGE = "24h"

#: Okabe and Ito's colour-blind-safe palette (black last); vigil.js uses the same order
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

#: the navigation bar: (path, label)
NAV = (
    ("/", "Overview"),
    ("/alarms", "Alarms"),
    ("/notifications", "Notifications"),
    ("/jobs", "Training jobs"),
    ("/pipelines", "Pipelines"),
    ("/hosts", "Hosts"),
    ("/explore", "Metric explorer"),
    ("/dashboards", "Dashboards"),
)


def _parse_time(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class TimeRange:
    """The time range every chart of a page shows: ``?range=6h`` or ``?from=...&to=...``
    (ISO 8601); :data:`DEFAULT_RANGE` otherwise."""

    start: datetime
    end: datetime
    key: str  # a key of RANGES, or "custom"

    @classmethod
    def parse(cls, query: Mapping[str, str], now: datetime | None = None) -> TimeRange:
        now = now or datetime.now(timezone.utc)
        start, end = _parse_time(query.get("from", "")), _parse_time(query.get("to", ""))
        if start is not None and end is not None and start < end:
            return cls(start, end, "custom")
        key = query.get("range", DEFAULT_RANGE)
        if key not in RANGES:
            key = DEFAULT_RANGE
        return cls(now - RANGES[key][1], now, key)

    def query(self) -> str:
        """This range as a query string (for links that keep it)."""
        if self.key == "custom":
            return urlencode({"from": self.start.isoformat(), "to": self.end.isoformat()})
        return f"range={self.key}"


def time_range(request: Request) -> TimeRange:
    """The page's time range from its query string."""
    return TimeRange.parse(dict(request.query_params))


@dataclass
class Series:
    """One line (or bar set) of a chart: x as UNIX seconds (or any numbers), y as numbers or
    None (a gap)."""

    label: str
    x: Sequence[float]
    y: Sequence[float | None]
    color: str | None = None


@dataclass
class Threshold:
    """A horizontal line across a chart (a constraint, an alarm threshold)."""

    value: float
    label: str


@dataclass
class Band:
    """A shaded time span (an alarm in ALARM, a deployment) from ``start`` to ``end``."""

    start: float
    end: float
    label: str
    color: str = "rgba(213,94,0,0.12)"


def _clean(values: Sequence[float | None]) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            out.append(None)
        else:  # 10 significant digits: more than a chart or its hover shows, a shorter page
            out.append(float(f"{float(v):.10g}"))
    return out


def chart(
    chart_id: str,
    title: str,
    *,
    series: Sequence[Series],
    y_label: str,
    y_unit: str = "",
    x_label: str = "time (UTC)",
    x_unit: str = "",
    x_time: bool = True,
    kind: str = "line",
    thresholds: Sequence[Threshold] = (),
    bands: Sequence[Band] = (),
    height: int = 260,
) -> dict[str, Any]:
    """A chart's spec for ``vigil.js``: ``kind`` is ``line``, ``step``, ``points`` or
    ``bars``; with ``x_time`` the x values are UNIX seconds shown as UTC times."""
    return {
        "id": chart_id,
        "title": title,
        "kind": kind,
        "height": height,
        "x": {"label": x_label, "unit": x_unit, "time": x_time},
        "y": {"label": y_label, "unit": y_unit},
        "series": [
            {
                "label": s.label,
                # whole numbers (UNIX seconds, steps) as integers: a shorter page
                "x": [int(v) if float(v).is_integer() else float(v) for v in s.x],
                "y": _clean(s.y),
                "color": s.color or PALETTE[i % len(PALETTE)],
            }
            for i, s in enumerate(series)
        ],
        "thresholds": [{"value": float(t.value), "label": t.label} for t in thresholds],
        "bands": [{"start": b.start, "end": b.end, "label": b.label, "color": b.color}
                  for b in bands],
    }


def _tojson_attr(value: Any) -> Markup:
    """JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, separators=(",", ":"), default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def fmt_time(value: Any) -> str:
    """A datetime (or ISO string, or UNIX seconds) as ``2026-01-01 12:00:00Z``."""
    if value is None or value == "":
        return "-"
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        parsed = _parse_time(value)
        if parsed is None:
            return value
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def fmt_num(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; ``-`` for none."""
    if value is None:
        return "-"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(number):
        return str(number)
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.{digits}g}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tojson_script"] = _tojson_attr
    env.filters["time"] = fmt_time
    env.filters["num"] = fmt_num
    env.globals["NAV"] = NAV
    env.globals["RANGES"] = RANGES
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    return env


ENV = _environment()


def page(
    request: Request,
    viewer: Viewer | None,
    template: str,
    title: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` (which extends ``base.html``) for ``viewer``."""
    html = ENV.get_template(template).render(
        request=request,
        viewer=viewer,
        title=title,
        path=request.url.path,
        time_range=context.pop("time_range", None) or time_range(request),
        **context,
    )
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            # every script and style is the package's own: nothing inline runs
            "Content-Security-Policy": (
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                "script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
                "base-uri 'none'; form-action 'self'"
            ),
        },
    )


ERROR_TITLES = {400: "Bad request", 403: "Refused", 404: "Not found"}


def error_page(
    request: Request, viewer: Viewer | None, status: int, message: str
) -> HTMLResponse:
    """The page every refusal shows: ``status`` (400, 403, 404...) and one line saying why."""
    return page(request, viewer, "error.html", ERROR_TITLES.get(status, "Error"),
                status_code=status, message=message, show_range=False)  # fmt: skip


@dataclass
class Table:
    """A table for ``_macros.html``'s ``table``: headers and rows of cells (a cell is text or
    ``{"text": ..., "href": ...}`` or ``{"status": ...}``)."""

    headers: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    empty: str = "nothing yet"
