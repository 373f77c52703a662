"""Grafana's dashboard JSON model: panels, rows, template variables, and the sharing wrapper.

The classic dashboard JSON (``schemaVersion`` :data:`SCHEMA_VERSION`, the latest one of
Grafana's migrations) as Grafana's "Export for sharing externally" writes it: the Prometheus
data source is the input ``DS_PROMETHEUS`` (``__inputs``, ``type: datasource``, ``pluginId:
prometheus``), every panel, target and query variable names it as ``${DS_PROMETHEUS}``, and
``__requires`` lists the plugins. Given a data source uid instead (:func:`render`), the panels
name that uid and there are no inputs: the form provisioning and the HTTP API take, as they
do not resolve ``__inputs``.

Layout: each :class:`Row` is an expanded row panel followed by its panels, laid left to right
on Grafana's 24-column grid and wrapped.

>>> board = Dashboard("demo", "Demo", "A demo.", (Row("R", (Panel("P", "", (Target("up"),),
...                   unit="short"),)),))
>>> d = render(board)
>>> d["__inputs"][0]["name"], d["panels"][1]["datasource"]["uid"], d["schemaVersion"]
('DS_PROMETHEUS', '${DS_PROMETHEUS}', 42)
>>> "__inputs" in render(board, datasource_uid="prom-1")
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vigil.errors import InputError

#: the latest ``schemaVersion`` of Grafana's dashboard migrations
SCHEMA_VERSION = 42
#: the name of the data source input, as Grafana's exporter names a data source "Prometheus"
DS_INPUT = "DS_PROMETHEUS"
#: the oldest Grafana these dashboards are written for (``__requires``)
GRAFANA_VERSION = "11.0.0"
PANEL_NAMES = {"timeseries": "Time series", "stat": "Stat"}
GRID_COLUMNS = 24
_UID = re.compile(r"[A-Za-z0-9_-]{1,40}\Z")
#: Okabe-Ito colours (colour-blind safe) for the threshold steps below and above
BELOW, ABOVE = "#009E73", "#D55E00"


@dataclass(frozen=True)
class Target:
    """One PromQL query of a panel; ``legend`` is Grafana's legend format (``{{label}}``)."""

    expr: str
    legend: str = ""
    instant: bool = False


@dataclass(frozen=True)
class Threshold:
    """A value drawn as a line on a time series (and the colour change of a stat)."""

    value: float
    label: str


@dataclass(frozen=True)
class Panel:
    """A panel: ``kind`` ``timeseries`` or ``stat``, its queries, unit (a Grafana unit id),
    thresholds, axis bounds and size on the grid."""

    title: str
    description: str
    targets: tuple[Target, ...]
    unit: str
    kind: str = "timeseries"
    thresholds: tuple[Threshold, ...] = ()
    min: float | None = None
    max: float | None = None
    step: bool = False  # draw a step line (states, counts that hold until the next run)
    points: bool = False  # sparse series (one value per execution): show points, span gaps
    axis_label: str = ""
    text: str = "auto"  # a stat's text mode (``name``: the legend, e.g. a version)
    width: int = 12
    height: int = 8


@dataclass(frozen=True)
class Row:
    """A titled row of panels."""

    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Variable:
    """A query template variable: ``label_values(...)`` of the data source, refreshed when the
    time range changes; ``multi``: several values or *All* (``.*``), else exactly one."""

    name: str
    label: str
    query: str
    description: str = ""
    multi: bool = True


@dataclass(frozen=True)
class Dashboard:
    """One dashboard: fixed ``uid`` (imports replace the previous one), rows, variables."""

    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    variables: tuple[Variable, ...] = ()
    tags: tuple[str, ...] = ("vigil",)
    time_from: str = "now-6h"
    refresh: str = "1m"
    links: tuple[dict[str, Any], ...] = field(default=())


def check_datasource_uid(uid: str) -> str:
    """``uid`` when it is a valid Grafana uid (1-40 letters, digits, ``-``, ``_``).

    >>> check_datasource_uid("P1809F7CD0C75ACF3")
    'P1809F7CD0C75ACF3'
    >>> try:
    ...     check_datasource_uid("${DS}")
    ... except InputError as exc:
    ...     print(exc.message)
    --datasource-uid: '${DS}' is not a Grafana uid (1-40 letters, digits, - or _)
    """
    if not _UID.match(uid):
        raise InputError(
            f"--datasource-uid: {uid!r} is not a Grafana uid (1-40 letters, digits, - or _)"
        )
    return uid


def _thresholds(panel: Panel) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": BELOW, "value": None}]
    steps += [{"color": ABOVE, "value": t.value} for t in sorted(panel.thresholds, key=_value)]
    return {"mode": "absolute", "steps": steps}


def _value(t: Threshold) -> float:
    return t.value


def _description(panel: Panel) -> str:
    if not panel.thresholds:
        return panel.description
    lines = "; ".join(f"{t.label}: {t.value:g}" for t in panel.thresholds)
    return f"{panel.description} Threshold lines: {lines}.".strip()


def _field_defaults(panel: Panel) -> dict[str, Any]:
    out: dict[str, Any] = {"unit": panel.unit, "thresholds": _thresholds(panel)}
    if panel.min is not None:
        out["min"] = panel.min
    if panel.max is not None:
        out["max"] = panel.max
    if panel.kind == "stat":
        out["color"] = {"mode": "thresholds"}
        return out
    out["color"] = {"mode": "palette-classic"}
    out["custom"] = {
        "drawStyle": "line",
        "lineInterpolation": "stepAfter" if panel.step else "linear",
        "lineWidth": 1,
        "fillOpacity": 0,
        "showPoints": "always" if panel.points else "auto",
        "pointSize": 5,
        "spanNulls": panel.points,
        "axisLabel": panel.axis_label,
        "axisPlacement": "auto",
        "thresholdsStyle": {"mode": "dashed" if panel.thresholds else "off"},
    }
    return out


def _options(panel: Panel) -> dict[str, Any]:
    if panel.kind == "stat":
        return {
            "graphMode": "area",
            "colorMode": "value",
            "justifyMode": "auto",
            "textMode": panel.text,
            "wideLayout": True,
            "showPercentChange": False,
            "percentChangeColorMode": "standard",
            "orientation": "auto",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        }
    return {
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }


def _target(t: Target, ref: str, datasource: dict[str, str]) -> dict[str, Any]:
    return {
        "datasource": datasource,
        "editorMode": "code",
        "expr": t.expr,
        "legendFormat": t.legend or "__auto",
        "range": not t.instant,
        "instant": t.instant,
        "refId": ref,
    }


def _panel(panel: Panel, pid: int, pos: dict[str, int], ds: dict[str, str]) -> dict[str, Any]:
    if panel.kind not in PANEL_NAMES:
        raise InputError(f"panel {panel.title!r}: kind {panel.kind!r} is not one of {PANEL_NAMES}")
    return {
        "type": panel.kind,
        "id": pid,
        "title": panel.title,
        "description": _description(panel),
        "datasource": ds,
        "gridPos": pos,
        "targets": [_target(t, chr(ord("A") + i), ds) for i, t in enumerate(panel.targets)],
        "fieldConfig": {"defaults": _field_defaults(panel), "overrides": []},
        "options": _options(panel),
    }


def _variable(v: Variable, ds: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "query",
        "name": v.name,
        "label": v.label,
        "description": v.description,
        "datasource": ds,
        "query": v.query,
        "definition": v.query,
        "refresh": 2,  # on time range change: label_values over the dashboard's range
        "sort": 1,
        "multi": v.multi,
        "includeAll": v.multi,
        **({"allValue": ".*"} if v.multi else {}),
        "options": [],
        "regex": "",
        "hide": 0,
    }


def _layout(rows: tuple[Row, ...], ds: dict[str, str]) -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    y, pid = 0, 1
    for row in rows:
        panels.append({
            "type": "row", "id": pid, "title": row.title, "collapsed": False, "panels": [],
            "gridPos": {"h": 1, "w": GRID_COLUMNS, "x": 0, "y": y},
        })  # fmt: skip
        pid, y = pid + 1, y + 1
        x, tallest = 0, 0
        for p in row.panels:
            if x + p.width > GRID_COLUMNS:
                x, y, tallest = 0, y + tallest, 0
            panels.append(_panel(p, pid, {"h": p.height, "w": p.width, "x": x, "y": y}, ds))
            pid, x, tallest = pid + 1, x + p.width, max(tallest, p.height)
        y += tallest
    return panels


def _requires(board: Dashboard) -> list[dict[str, str]]:
    kinds = sorted({p.kind for row in board.rows for p in row.panels})
    out = [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": GRAFANA_VERSION},
           {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}]
    out += [{"type": "panel", "id": k, "name": PANEL_NAMES[k], "version": ""} for k in kinds]
    return sorted(out, key=lambda r: r["id"])  # as Grafana sorts them


def render(board: Dashboard, datasource_uid: str | None = None) -> dict[str, Any]:
    """The dashboard's JSON: for sharing (the data source an input) unless ``datasource_uid``
    names the data source to use."""
    if datasource_uid is None:
        ds = {"type": "prometheus", "uid": "${" + DS_INPUT + "}"}
    else:
        ds = {"type": "prometheus", "uid": check_datasource_uid(datasource_uid)}
    out: dict[str, Any] = {}
    if datasource_uid is None:
        out["__inputs"] = [{
            "name": DS_INPUT, "label": "Prometheus",
            "description": "The Prometheus that scrapes Vigil's GET /metrics",
            "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus",
        }]  # fmt: skip
        out["__elements"] = {}
        out["__requires"] = _requires(board)
    out.update({
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard",
        }]},
        "description": board.description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": list(board.links),
        "panels": _layout(board.rows, ds),
        "refresh": board.refresh,
        "schemaVersion": SCHEMA_VERSION,
        "tags": list(board.tags),
        "templating": {"list": [_variable(v, ds) for v in board.variables]},
        "time": {"from": board.time_from, "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": board.title,
        "uid": board.uid,
        "version": 1,
        "weekStart": "",
    })  # fmt: skip
    return out
