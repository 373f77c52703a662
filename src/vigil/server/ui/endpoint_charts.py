"""The endpoint page's chart builder: each chart's metric query (aggregated in SQL by a period
that keeps it under :data:`MAX_POINTS` points) and the spec and ``data-*`` description that
the page shows (see :mod:`.pages_endpoint`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vigil.server.ui.heatmap import Heatmap
from vigil.server.ui.render import Series, Threshold, TimeRange, chart
from vigil.store.metrics import MetricStore
from vigil.store.models import Schedule

#: the most points one chart shows; the period grows to keep under it
MAX_POINTS = 1500
#: the most windows (columns) the heatmap shows
MAX_COLUMNS = 200
#: the most executions listed and drawn
MAX_EXECUTIONS = 1000
#: percentiles are ranked from the datapoint rows of a period: the latency chart reads at most
#: about this many (the latest part of a range that holds more)
MAX_PERCENTILE_ROWS = 50_000
#: the latest part of a range whose latency rows are counted to estimate the whole range's
PROBE_SECONDS = 6 * 3600
STATUS_ORDER = ("Completed", "CompletedWithViolations", "Failed", "InProgress", "Pending",
                "Stopped", "Stopping")  # fmt: skip
LATENCY_PERCENTILES = ("p50", "p90", "p99")


def slug(text: str) -> str:
    """A piece of an HTML id from any text.

    >>> slug("mean radius"), slug("bias_metric_DPPL / x")
    ('mean-radius', 'bias-metric-dppl-x')
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


@dataclass
class MetricChart:
    """A chart spec and the metric query it shows (None for one drawn from executions)."""

    spec: dict[str, Any]
    query: dict[str, str] | None = None


@dataclass
class ScheduleView:
    """What the page shows of one schedule."""

    schedule: Schedule
    label: str
    period: int | None
    heatmap: Heatmap | None = None
    heatmap_period: int = 0
    heatmap_query: dict[str, str] | None = None
    charts: list[MetricChart] = field(default_factory=list)


class Charts:
    """Builds the charts of one page over one time range, with unique figure ids."""

    def __init__(self, store: MetricStore, tr: TimeRange) -> None:
        self.store = store
        self.tr = tr
        self.ids: set[str] = set()

    def new_id(self, base: str) -> str:
        chart_id, n = slug(base), 2
        while chart_id in self.ids:
            chart_id, n = f"{slug(base)}-{n}", n + 1
        self.ids.add(chart_id)
        return chart_id

    def query(
        self,
        namespace: str,
        name: str,
        dims: Mapping[str, str],
        start: datetime,
        period: int,
        statistics: Sequence[str],
    ) -> list[dict[str, Any]]:
        return self.store.query(namespace, name, dict(dims), start, self.tr.end, period,
                                list(statistics))  # fmt: skip

    @staticmethod
    def describe(
        namespace: str,
        name: str,
        dims: Mapping[str, str],
        start: datetime,
        end: datetime,
        period: int,
        statistics: Sequence[str],
    ) -> dict[str, str]:
        return {
            "namespace": namespace,
            "name": name,
            "dimensions": json.dumps(dict(dims), sort_keys=True),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "period": str(period),
            "statistic": ",".join(statistics),
        }

    def metric_chart(
        self,
        base_id: str,
        title: str,
        namespace: str,
        name: str,
        dims: Mapping[str, str],
        *,
        start: datetime,
        period: int,
        stats: Sequence[tuple[str, str]],
        y_label: str,
        y_unit: str = "",
        kind: str = "line",
        scale: float = 1.0,
        thresholds: Sequence[Threshold] = (),
    ) -> MetricChart | None:
        """One metric's statistics (``(statistic, series label)``) as a chart; None when the
        range holds no datapoint of it."""
        rows = self.query(namespace, name, dims, start, period, [s for s, _ in stats])
        if not rows:
            return None
        x = [r["Timestamp"].timestamp() for r in rows]
        series = [
            Series(label, x, [None if r[stat] is None else r[stat] * scale for r in rows])
            for stat, label in stats
        ]
        spec = chart(self.new_id(base_id), title, series=series, y_label=y_label, y_unit=y_unit,
                     kind=kind, thresholds=thresholds)  # fmt: skip
        return MetricChart(
            spec, self.describe(namespace, name, dims, start, self.tr.end, period,
                                [s for s, _ in stats])
        )


