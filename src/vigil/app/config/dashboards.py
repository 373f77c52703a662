"""Dashboards as code: the ``dashboards:`` section of ``vigil.yaml``.

A dashboard is a name and widgets laid on a 24-column grid, as CloudWatch dashboards are:
each widget has ``x`` (column, 0-23), ``y`` (row), ``width`` (1-24 columns) and ``height``
(rows) and is one of ``metric`` (a chart of one or more metric queries, with threshold lines),
``value`` (the latest datapoint of one query), ``alarms`` (the state of the alarms it names)
and ``text`` (a little markdown, shown escaped). Widgets must stay inside the 24 columns and
must not overlap; every problem names the field::

    dashboards:
      - name: serving
        widgets:
          - type: metric
            title: Latency
            x: 0
            y: 0
            width: 12
            height: 6
            metrics:
              - namespace: AWS/SageMaker
                name: ModelLatency
                dimensions: {EndpointName: churn, VariantName: AllTraffic}
                statistic: p99
            thresholds: [{value: 250000, label: SLO}]
            unit: us

>>> d = DashboardSpec.model_validate({"name": "ops", "widgets": [
...     {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "text": "# Ops"}]})
>>> d.widgets[0].type, d.widgets[0].width
('text', 24)
>>> from vigil.app.config import parse_config
>>> parse_config("dashboards: [{name: ops, widgets: [{type: text, x: 20, y: 0, text: x}]}]")
... # doctest: +ELLIPSIS
Traceback (most recent call last):
...
vigil.app.config.ConfigFileError: [config_error] <string>:1: dashboards[0].widgets[0]: x + width is 26, past the grid's 24 columns (x 20, width 6)
"""  # noqa: E501

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from vigil.app.config.base import KeyedConfigError, Name, SpecModel
from vigil.errors import ConfigError, InputError
from vigil.metrics.statistics import parse_statistics

__all__ = [
    "COLUMNS",
    "AlarmsWidget",
    "DashboardSpec",
    "MetricQuery",
    "MetricWidget",
    "TextWidget",
    "ThresholdSpec",
    "ValueWidget",
    "Widget",
    "dashboard_document",
]

COLUMNS = 24  # the grid's width, as CloudWatch's
MAX_ROWS = 1000
MAX_WIDGETS = 100
MAX_PERIOD = 86400 * 31


class MetricQuery(SpecModel):
    """One metric query: what ``GET /api/v1/metrics/query`` takes (one statistic)."""

    namespace: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    dimensions: dict[str, str] = {}
    statistic: str = "Average"
    period: int = Field(default=300, ge=1, le=MAX_PERIOD)
    label: str | None = Field(default=None, max_length=255)

    @field_validator("statistic")
    @classmethod
    def _statistic(cls, v: str) -> str:
        try:
            parse_statistics([v])
        except InputError as exc:
            raise ConfigError(exc.message.removeprefix("statistics: ")) from None
        return v

    def shown_label(self) -> str:
        """The series' label: ``label``, else ``name statistic (dimension values)``."""
        if self.label:
            return self.label
        dims = ", ".join(self.dimensions.values())
        return f"{self.name} {self.statistic}" + (f" ({dims})" if dims else "")


class ThresholdSpec(SpecModel):
    """A horizontal line across a metric widget."""

    value: float
    label: str = Field(default="threshold", max_length=100)


class _Placed(SpecModel):
    """Where a widget sits on the grid, and its title."""

    x: int = Field(ge=0, lt=COLUMNS)
    y: int = Field(ge=0, lt=MAX_ROWS)
    width: int = Field(default=6, ge=1, le=COLUMNS)
    height: int = Field(default=6, ge=1, le=100)
    title: str = Field(default="", max_length=255)

    @model_validator(mode="after")
    def _inside(self) -> _Placed:
        if self.x + self.width > COLUMNS:
            raise ConfigError(
                f"x + width is {self.x + self.width}, past the grid's {COLUMNS} columns "
                f"(x {self.x}, width {self.width})"
            )
        return self


class MetricWidget(_Placed):
    """A chart of one or more metric queries over the page's time range."""

    type: Literal["metric"]
    metrics: list[MetricQuery] = Field(min_length=1, max_length=20)
    thresholds: list[ThresholdSpec] = []
    unit: str = Field(default="", max_length=32)  # the y axis' unit
    y_label: str = Field(default="", max_length=100)
    kind: Literal["line", "step", "points", "bars"] = "line"


class ValueWidget(_Placed):
    """The latest datapoint of one query, as a big number."""

    type: Literal["value"]
    metric: MetricQuery
    unit: str = Field(default="", max_length=32)


class AlarmsWidget(_Placed):
    """The state of the alarms it names."""

    type: Literal["alarms"]
    alarms: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        min_length=1, max_length=100
    )


class TextWidget(_Placed):
    """Text with a little markdown (``#`` headings, ``-`` lists, ``**bold**``, ```code```),
    always escaped: it never holds HTML."""

    type: Literal["text"]
    text: str = Field(max_length=10_000)


Widget = Annotated[
    MetricWidget | ValueWidget | AlarmsWidget | TextWidget, Field(discriminator="type")
]
WIDGET_MODELS: dict[str, type[SpecModel]] = {
    "metric": MetricWidget, "value": ValueWidget, "alarms": AlarmsWidget, "text": TextWidget,
}  # fmt: skip


def _overlap(a: _Placed, b: _Placed) -> bool:
    return (a.x < b.x + b.width and b.x < a.x + a.width
            and a.y < b.y + b.height and b.y < a.y + a.height)  # fmt: skip


class DashboardSpec(SpecModel):
    """A named dashboard: widgets on the grid, none overlapping another."""

    name: Name
    widgets: list[Widget] = Field(default=[], max_length=MAX_WIDGETS)

    @model_validator(mode="after")
    def _no_overlap(self) -> DashboardSpec:
        for j, b in enumerate(self.widgets):
            for i, a in enumerate(self.widgets[:j]):
                if _overlap(a, b):
                    raise KeyedConfigError("widgets",
                        f"widgets[{j}] (x {b.x}, y {b.y}, {b.width}x{b.height}) overlaps "
                        f"widgets[{i}] (x {a.x}, y {a.y}, {a.width}x{a.height})"
                    )
        return self


def dashboard_document(spec: DashboardSpec) -> dict[str, Any]:
    """The dashboard as ``vigil export`` writes it: what differs from the defaults, each
    widget's ``type`` first."""
    doc = spec.model_dump(mode="json", exclude_defaults=True)
    doc["widgets"] = [{"type": w["type"], **w} for w in doc.get("widgets", [])]
    return doc
