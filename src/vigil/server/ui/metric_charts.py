"""Charts of stored metrics for the hosts, explorer and dashboards pages: one query per
series through :mod:`vigil.app.metric_views` (the store query ``GET /api/v1/metrics/query``
answers with), over the page's time range, thresholds from the alarms that watch the metric.

>>> unit_label("Percent"), unit_label("Bytes"), unit_label("None"), unit_label(None)
('%', 'bytes', '', '')
>>> slug("DiskUtilization /var/lib")
'diskutilization-var-lib'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.app.metric_views import alarms_watching, query
from vigil.server.state import ServerState
from vigil.server.ui.render import Series, Threshold, TimeRange, chart

_UNITS = {"Percent": "%", "Bytes": "bytes", "Count": "count", "Seconds": "s",
          "Milliseconds": "ms", "Microseconds": "us", "None": ""}  # fmt: skip


def unit_label(unit: str | None) -> str:
    """A CloudWatch unit as an axis shows it (``Percent`` -> ``%``)."""
    return _UNITS.get(unit or "None", unit or "")


def slug(text: str) -> str:
    """``text`` as an HTML id part: lower case letters, digits and ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


@dataclass(frozen=True)
class Line:
    """One series of a metric chart: a query and its label."""

    namespace: str
    name: str
    dimensions: Mapping[str, str] | None
    statistic: str
    label: str


def series_of(state: ServerState, line: Line, tr: TimeRange, period: int) -> Series:
    """The series of one query over ``tr``: x as UNIX seconds (period starts)."""
    rows = query(state.metrics, line.namespace, line.name, line.dimensions, tr.start, tr.end,
                 period, line.statistic)  # fmt: skip
    return Series(line.label, [t.timestamp() for t, _ in rows], [v for _, v in rows])


def thresholds_of(state: ServerState, lines: Sequence[Line]) -> list[Threshold]:
    """The thresholds of the alarms that watch the lines' metrics (with their dimensions)."""
    seen: dict[tuple[str, float], Threshold] = {}
    for line in lines:
        for alarm in alarms_watching(state.db, line.namespace, line.name, line.dimensions):
            seen.setdefault((alarm.name, alarm.threshold),
                            Threshold(alarm.threshold, f"alarm {alarm.name}"))
    return list(seen.values())


def metric_chart(
    state: ServerState,
    chart_id: str,
    title: str,
    lines: Sequence[Line],
    tr: TimeRange,
    period: int,
    *,
    y_label: str,
    y_unit: str,
    kind: str = "line",
    thresholds: Sequence[Threshold] = (),
    alarm_thresholds: bool = True,
) -> dict[str, Any]:
    """A chart spec of ``lines`` over ``tr`` (thresholds: given ones and, with
    ``alarm_thresholds``, those of the alarms watching the metrics)."""
    drawn = list(thresholds) + (thresholds_of(state, lines) if alarm_thresholds else [])
    series = [series_of(state, line, tr, period) for line in lines]
    if y_unit == "bytes":
        series, y_unit = scaled_bytes(series)
    spec = chart(chart_id, title, series=series, y_label=y_label, y_unit=y_unit, kind=kind,
                 thresholds=drawn)
    spec["x"]["range"] = [tr.start.timestamp(), tr.end.timestamp()]
    return spec


_BYTES = (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))


def scaled_bytes(series: Sequence[Series]) -> tuple[list[Series], str]:
    """Byte series in the largest binary unit their biggest value reaches (GiB, MiB, KiB).

    >>> s, unit = scaled_bytes([Series("m", [0.0], [3 * 2.0**30])])
    >>> unit, s[0].y
    ('GiB', [3.0])
    """
    top = max((abs(v) for s in series for v in s.y if v is not None), default=0.0)
    for unit, size in _BYTES:
        if top >= size:
            return [Series(s.label, s.x, [None if v is None else v / size for v in s.y],
                           s.color) for s in series], unit  # fmt: skip
    return list(series), "bytes"
