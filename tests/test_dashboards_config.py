"""Dashboards as code: the ``dashboards:`` section of vigil.yaml parsed and validated (errors
name the field and line), planned, applied, stored and exported back unchanged; the text
widget's markdown is escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.app.catalog import apply_config, current_config
from vigil.app.config import ConfigFileError, diff_config, dump_config, parse_config
from vigil.app.dashboards import DashboardNotFoundError, get_dashboard, stored_dashboards
from vigil.server.ui.pages_dashboards import render_text
from vigil.store.db import Database
from vigil.store.settings import Settings

GOOD = """
dashboards:
  - name: serving
    widgets:
      - type: metric
        title: Latency
        x: 0
        y: 0
        width: 12
        height: 6
        unit: us
        metrics:
          - namespace: AWS/SageMaker
            name: ModelLatency
            dimensions: {EndpointName: churn, VariantName: AllTraffic}
            statistic: p99
          - {namespace: AWS/SageMaker, name: ModelLatency, statistic: p50, label: median}
        thresholds: [{value: 250000, label: SLO}]
      - type: value
        x: 12
        y: 0
        metric: {namespace: vigil/Host, name: CPUUtilization, dimensions: {Host: web-1}}
      - {type: alarms, x: 18, y: 0, alarms: [churn-latency, host-web-1-memory]}
      - {type: text, x: 0, y: 6, width: 24, height: 2, text: "# Notes"}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigFileError) as info:
        parse_config(text, "vigil.yaml")
    return [str(p) for p in info.value.problems]


def test_a_dashboard_parses_with_its_defaults() -> None:
    cfg = parse_config(GOOD)
    (dash,) = cfg.dashboards
    assert [w.type for w in dash.widgets] == ["metric", "value", "alarms", "text"]
    metric, value, alarms, _ = dash.widgets
    assert metric.metrics[0].shown_label() == "ModelLatency p99 (churn, AllTraffic)"
    assert metric.metrics[1].shown_label() == "median"
    assert metric.thresholds[0].value == 250000.0
    assert (value.width, value.height, value.metric.statistic, value.metric.period) == (
        6, 6, "Average", 300)
    assert alarms.alarms == ["churn-latency", "host-web-1-memory"]


@pytest.mark.parametrize(
    ("widget", "expected"),
    [
        ("{type: text, x: 20, y: 0, text: t}",
         "vigil.yaml:5: dashboards[0].widgets[0]: x + width is 26, past the grid's 24 columns"),
        ("{type: text, x: 0, y: 0, width: 25, text: t}",
         "dashboards[0].widgets[0].width: Input should be less than or equal to 24"),
        ("{type: text, x: -1, y: 0, text: t}", "dashboards[0].widgets[0].x: Input should be"),
        ("{type: chart, x: 0, y: 0}",
         "dashboards[0].widgets[0]: type: 'chart' is not one of metric, value, alarms, text"),
        ("{x: 0, y: 0}", "dashboards[0].widgets[0]: missing required key 'type'"),
        ("{type: text, x: 0, y: 0, text: t, colour: red}",
         "dashboards[0].widgets[0].colour: unknown key 'colour'; expected one of x, y, width"),
        ("{type: metric, x: 0, y: 0, metrics: []}",
         "dashboards[0].widgets[0].metrics: List should have at least 1 item"),
        ("{type: metric, x: 0, y: 0, metrics: [{namespace: n, name: m, statistic: Mean}]}",
         "dashboards[0].widgets[0].metrics[0].statistic: 'Mean' is not one of SampleCount"),
        ("{type: metric, x: 0, y: 0, metrics: [{namespace: n, nme: m}]}",
         "dashboards[0].widgets[0].metrics[0].nme: unknown key 'nme'; expected one of "
         "namespace, name, dimensions, statistic, period, label"),
        ("{type: value, x: 0, y: 0, metric: {namespace: n}}",
         "dashboards[0].widgets[0].metric.name: missing required key 'name'"),
        ("{type: metric, x: 0, y: 0, metrics: [{namespace: n, name: m}], "
         "thresholds: [{value: high}]}",
         "dashboards[0].widgets[0].thresholds[0].value: Input should be a valid number"),
        ("{type: alarms, x: 0, y: 0, alarms: []}",
         "dashboards[0].widgets[0].alarms: List should have at least 1 item"),
    ],
)
def test_a_bad_widget_is_named_by_its_field(widget: str, expected: str) -> None:
    text = f"dashboards:\n  - name: d\n    widgets:\n\n      - {widget}\n"
    problems = _problems(text)
    assert any(expected in p for p in problems), problems


def test_overlapping_widgets_and_duplicate_names_are_refused() -> None:
    overlap = _problems(
        "dashboards:\n  - name: d\n    widgets:\n"
        "      - {type: text, x: 0, y: 0, width: 12, height: 4, text: a}\n"
        "      - {type: text, x: 11, y: 3, text: b}\n"
    )
    assert overlap == ["vigil.yaml:3: dashboards[0].widgets: widgets[1] (x 11, y 3, 6x6) overlaps "
                       "widgets[0] (x 0, y 0, 12x4)"]
    side_by_side = parse_config(
        "dashboards:\n  - name: d\n    widgets:\n"
        "      - {type: text, x: 0, y: 0, width: 12, height: 4, text: a}\n"
        "      - {type: text, x: 12, y: 0, width: 12, height: 4, text: b}\n"
        "      - {type: text, x: 0, y: 4, width: 24, text: c}\n"
    )
    assert len(side_by_side.dashboards[0].widgets) == 3
    dup = _problems("dashboards:\n  - {name: d}\n  - {name: d}\n")
    assert dup == ["vigil.yaml:3: dashboards[1].name: duplicate dashboard name 'd' "
                   "(first at dashboards[0])"]
    assert "is not a valid name" in _problems("dashboards:\n  - {name: 'a b'}\n")[0]


def test_dump_writes_what_differs_from_the_defaults_and_loads_back_equal() -> None:
    cfg = parse_config(GOOD)
    text = dump_config(cfg)
    assert parse_config(text) == cfg
    section = text[text.index("dashboards:"):]
    assert "- type: value\n    x: 12\n    y: 0\n    metric:" in section  # width 6 left out
    assert "statistic: Average" not in section


def test_plan_apply_export_and_apply_again(tmp_path: Path) -> None:
    db = Database("sqlite://")
    db.create_all()
    settings = Settings(data_dir=tmp_path)
    desired = parse_config(GOOD)
    plan = diff_config(current_config(db), desired)
    assert plan.lines() == ["+ dashboard serving"]
    assert apply_config(settings, db, desired).summary() == "created 1, updated 0, unchanged 0"
    assert get_dashboard(db, "serving") == desired.dashboards[0]
    exported = current_config(db)
    assert exported.dashboards == desired.dashboards
    assert parse_config(dump_config(exported)).dashboards == desired.dashboards
    assert diff_config(exported, desired).summary() == "created 0, updated 0, unchanged 1"
    moved = parse_config(GOOD.replace("x: 12\n        y: 0\n        metric",
                                      "x: 12\n        y: 0\n        height: 4\n        metric"))
    plan = apply_config(settings, db, moved)
    assert plan.lines() == ["~ dashboard serving (widgets)"]
    assert get_dashboard(db, "serving").widgets[1].height == 4
    assert [d.name for d in stored_dashboards(db)] == ["serving"]
    with pytest.raises(DashboardNotFoundError):
        get_dashboard(db, "absent")


def test_text_widgets_are_escaped_markdown() -> None:
    html = str(render_text(
        "# Title <img src=x onerror=alert(1)>\n\nSome **bold** and `code`, *em*.\n"
        "- one [home](/)\n- two [bad](javascript:alert(1)) [ext](https://example.com/a?b=1&c=2)"
    ))
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.startswith("<h3>Title ")
    assert "<p>Some <strong>bold</strong> and <code>code</code>, <em>em</em>.</p>" in html
    assert '<li>one <a href="/" rel="noopener noreferrer">home</a></li>' in html
    assert "javascript:" in html and 'href="javascript' not in html
    assert 'href="https://example.com/a?b=1&amp;c=2"' in html
