"""The overview and endpoint pages in a real browser over the demo's data: what they show is
checked against the REST API (executions, their violations and analyses, the metric store's
query answers) for the same endpoint and time range, not against numbers written here."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from ui_browser import chart_drawn, screenshot

ENDPOINT = "cancer-model"
DQ = "aws/sagemaker/Endpoints/data-metrics"


def _api(dashboard: Any, path: str, **params: Any) -> Any:
    answer = httpx.get(
        dashboard.url + "/api/v1" + path,
        params=params,
        headers={"Authorization": f"Bearer {dashboard.tokens['reader']}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json() if "json" in answer.headers.get("content-type", "") else answer.text


def _executions(
    dashboard: Any, start: str, end: str, schedule: str | None = None
) -> list[dict[str, Any]]:
    query = {"schedule": schedule} if schedule else {}
    found = _api(dashboard, "/executions", endpoint=ENDPOINT, since=start, until=end, limit=1000,
                 **query)
    return list(found["executions"])


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def _drift_violations(dashboard: Any, execution: dict[str, Any]) -> set[str]:
    if "constraint_violations.json" not in execution.get("outputs", []):
        return set()
    doc = _api(dashboard, f"/executions/{execution['id']}/outputs/constraint_violations.json")
    return {v["feature_name"] for v in doc["violations"]
            if v["constraint_check_type"] == "baseline_drift_check"}  # fmt: skip


def _points(dashboard: Any, wrapper: Any) -> int:
    """How many datapoints the API answers for the query a chart's wrapper names."""
    dims = json.loads(wrapper.get_attribute("data-dimensions"))
    answer = _api(
        dashboard,
        "/metrics/query",
        namespace=wrapper.get_attribute("data-namespace"),
        name=wrapper.get_attribute("data-name"),
        start=wrapper.get_attribute("data-start"),
        end=wrapper.get_attribute("data-end"),
        period=wrapper.get_attribute("data-period"),
        statistic=wrapper.get_attribute("data-statistic").split(","),
        dimension=[f"{k}:{v}" for k, v in dims.items()],
    )
    return len(answer["datapoints"])


def test_overview_lists_the_endpoint_with_its_last_execution(
    open_page: Any, dashboard: Any
) -> None:
    w = open_page("reader")
    w.goto(dashboard, "/")
    row = w.page.locator(f"#endpoints-table tr[data-endpoint='{ENDPOINT}']")
    assert row.count() == 1
    (last,) = _api(dashboard, "/executions", schedule="hourly", limit=1)["executions"]
    link = row.locator("td[data-monitor=DataQuality] a.execution-link")
    assert link.count() == 1
    assert link.get_attribute("href") == f"/executions/{last['id']}"
    assert link.get_attribute("data-status") == last["status"]
    assert link.locator(".status").inner_text() == last["status"]
    assert row.locator("td.violations").inner_text() == str(last["violation_count"] or 0)
    # alarms in ALARM that name the endpoint, as the API lists them
    firing = [a["name"] for a in _api(dashboard, "/alarms")["alarms"] if a["state"] == "ALARM"
              and ENDPOINT in (a["definition"].get("dimensions") or {}).values()]  # fmt: skip
    shown = [a.inner_text().split(" ", 1)[1] for a in row.locator("a.alarm-link").all()]
    assert shown == sorted(firing)
    # the platform events: the demo's failed pipeline run is among them
    events = w.page.locator("#events li").all_inner_texts()
    assert any("cancer-model-deploy" in e and "failed" in e for e in events), events
    screenshot(w.page, "overview")
    row.locator("a.endpoint-link").click()
    w.page.wait_for_load_state("load")
    assert w.page.url == f"{dashboard.url}/endpoints/{ENDPOINT}"
    assert w.page.locator("h1").inner_text() == f"Endpoint {ENDPOINT}"


def test_overview_execution_link_opens_the_execution_page(open_page: Any, dashboard: Any) -> None:
    w = open_page("reader")
    w.goto(dashboard, "/")
    link = w.page.locator(f"tr[data-endpoint='{ENDPOINT}'] a.execution-link").first
    href = link.get_attribute("href")
    with w.page.expect_navigation() as nav:
        link.click()
    response = nav.value
    assert w.page.url == dashboard.url + href
    assert response is not None and response.status == 200, "the execution page answers"


def test_endpoint_heatmap_flags_the_drifting_windows(open_page: Any, dashboard: Any) -> None:
    w = open_page("reader")
    w.goto(dashboard, f"/endpoints/{ENDPOINT}")
    table = w.page.locator("table#heatmap-hourly")
    assert table.count() == 1
    period = int(table.get_attribute("data-period"))
    executions = _executions(dashboard, table.get_attribute("data-range-start"),
                             table.get_attribute("data-range-end"), "hourly")  # fmt: skip
    # one column per execution window in range (figures are stamped at the window's start)
    windows = sorted({_epoch(e["window_start"]) // period * period for e in executions})
    columns = [int(c) for c in table.locator("thead th[data-column]").evaluate_all(
        "cells => cells.map(c => c.dataset.column)")]  # fmt: skip
    assert columns == windows and len(columns) >= 7
    # one row per feature that has drift figures of this schedule
    listed = _api(dashboard, "/metrics", namespace=DQ, prefix="feature_baseline_drift_")
    features = sorted({m["name"][len("feature_baseline_drift_"):] for m in listed["metrics"]
                       if m["dimensions"] == {"Endpoint": ENDPOINT,
                                              "MonitoringSchedule": "hourly"}})  # fmt: skip
    rows = table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.feature)")
    assert rows == features and len(features) == 5
    # the flagged cells are exactly the features each execution's drift violations name
    flagged: dict[int, set[str]] = {}
    for row in table.locator("tbody tr").all():
        feature = row.get_attribute("data-feature")
        for cell in row.locator("td[data-drifted]").all():
            flagged.setdefault(int(cell.get_attribute("data-column")), set()).add(feature)
    expected = {}
    for e in executions:
        names = _drift_violations(dashboard, e)
        if names:
            expected[_epoch(e["window_start"]) // period * period] = names
    assert flagged == expected
    # the demo: hours 4 to 6 of its seven drift, on two features each
    demo = sorted(executions, key=lambda e: e["window_start"])[:7]
    drifting = [_epoch(e["window_start"]) for e in demo[3:6]]
    assert sorted(flagged) == drifting
    assert all(len(v) == 2 for v in flagged.values())
    # a hover title names the value and the threshold
    title = table.locator("td[data-drifted]").first.get_attribute("title")
    assert "threshold" in title and "drifted" in title
    screenshot(w.page, "endpoint")
    # what the README shows: the heatmap and the first drift charts
    w.page.evaluate("document.querySelector('table#heatmap-hourly').closest('section, div')"
                    ".scrollIntoView()")
    screenshot(w.page, "endpoint-drift", full_page=False)


def test_endpoint_drift_charts_match_the_metric_store(open_page: Any, dashboard: Any) -> None:
    w = open_page("reader")
    w.goto(dashboard, f"/endpoints/{ENDPOINT}")
    table = w.page.locator("table#heatmap-hourly")
    executions = _executions(dashboard, table.get_attribute("data-range-start"),
                             table.get_attribute("data-range-end"), "hourly")  # fmt: skip
    done = next(e for e in executions if "analysis.json" in e["outputs"])
    analysis = _api(dashboard, f"/executions/{done['id']}/outputs/analysis.json")
    features = table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.feature)")
    for feature in features:
        wrapper = w.page.locator(f"div.metric-chart[data-name='feature_baseline_drift_{feature}']")
        assert json.loads(wrapper.get_attribute("data-dimensions")) == {
            "Endpoint": ENDPOINT, "MonitoringSchedule": "hourly"}
        figure_id = wrapper.locator("figure.chart").get_attribute("id")
        series, points = chart_drawn(w.page, figure_id)
        assert series == 1
        assert points == _points(dashboard, wrapper) and points >= 7
        spec = json.loads(w.page.locator(f"figure#{figure_id} script.chart-spec").text_content())
        assert [t["value"] for t in spec["thresholds"]] == [
            analysis["features"][feature]["threshold"]
        ]
        assert spec["y"]["label"] and spec["y"]["unit"]


def test_endpoint_serving_charts_are_drawn(open_page: Any, dashboard: Any) -> None:
    w = open_page("reader")
    w.goto(dashboard, f"/endpoints/{ENDPOINT}")
    expected_series = {"latency-alltraffic": 3, "invocations-alltraffic": 1,
                       "errors4xx-alltraffic": 1, "errors5xx-alltraffic": 1}  # fmt: skip
    for figure_id, want in expected_series.items():
        series, points = chart_drawn(w.page, figure_id)
        wrapper = w.page.locator(f"div.metric-chart:has(figure#{figure_id})")
        assert series == want
        assert points == want * _points(dashboard, wrapper) and points > 0
    # the invocations drawn add up to the requests the store counted
    wrapper = w.page.locator("div.metric-chart:has(figure#invocations-alltraffic)")
    spec = json.loads(
        w.page.locator("figure#invocations-alltraffic script.chart-spec").text_content()
    )
    answer = _api(dashboard, "/metrics/query", namespace="AWS/SageMaker", name="Invocations",
                  start=wrapper.get_attribute("data-start"),
                  end=wrapper.get_attribute("data-end"),
                  period=wrapper.get_attribute("data-period"), statistic="Sum",
                  dimension=["EndpointName:cancer-model", "VariantName:AllTraffic"])  # fmt: skip
    total = sum(d["Sum"] for d in answer["datapoints"])
    assert sum(spec["series"][0]["y"]) == pytest.approx(total, rel=1e-9)  # 10 digits shown
    assert sum(spec["series"][0]["y"]) >= 7 * 60  # the demo's requests, and some bad ones


def test_the_time_range_picker_changes_what_is_shown(open_page: Any, dashboard: Any) -> None:
    w = open_page("reader")
    w.goto(dashboard, f"/endpoints/{ENDPOINT}")

    def shown() -> tuple[int, int]:
        section = w.page.locator("section#executions")
        api = _executions(dashboard, section.get_attribute("data-range-start"),
                          section.get_attribute("data-range-end"))  # fmt: skip
        rows = w.page.locator("#executions-table tbody tr a").count()
        timeline = chart_drawn(w.page, "executions-timeline")[1]
        assert rows == len(api) == timeline == int(section.get_attribute("data-total"))
        return rows, timeline

    wide, _ = shown()
    with w.page.expect_navigation():
        w.page.select_option("#range-pick", "1h")
    assert "range=1h" in w.page.url
    narrow, _ = shown()
    assert wide >= 7 and narrow < wide


def test_an_unknown_endpoint_is_a_404_page(open_page: Any, dashboard: Any) -> None:
    w = open_page("reader")
    response = w.page.goto(dashboard.url + "/endpoints/no-such-endpoint%3Cb%3E")
    assert response is not None and response.status == 404
    assert "no endpoint named" in w.page.locator("p.error").inner_text()
    w.errors.clear()  # the browser logs the 404 answer as a failed resource


def test_the_prediction_distribution_over_time(open_page: Any, dashboard: Any) -> None:
    """The model-quality schedule's prediction distribution: p10, p50, p90 and mean of every
    capture's score per window, the p50 line equal to what the API answers for it."""
    w = open_page("reader")
    w.goto(dashboard, f"/endpoints/{ENDPOINT}")
    wrapper = w.page.locator("div.metric-chart[data-name='prediction_p50']")
    assert wrapper.count() == 1
    figure_id = wrapper.locator("figure.chart").get_attribute("id")
    series, points = chart_drawn(w.page, figure_id)
    per_series = _points(dashboard, wrapper)
    assert series == 4 and points == 4 * per_series and per_series >= 7
    spec = json.loads(w.page.locator(f"figure#{figure_id} script.chart-spec").text_content())
    by_label = {s["label"]: s["y"] for s in spec["series"]}
    assert set(by_label) == {"mean", "p10", "p50", "p90"}
    for low, mid, high in zip(by_label["p10"], by_label["p50"], by_label["p90"]):
        assert 0 <= low <= mid <= high <= 1  # the demo's scores are probabilities
    dims = json.loads(wrapper.get_attribute("data-dimensions"))
    answer = _api(dashboard, "/metrics/query", namespace=wrapper.get_attribute("data-namespace"),
                  name="prediction_p50", start=wrapper.get_attribute("data-start"),
                  end=wrapper.get_attribute("data-end"),
                  period=wrapper.get_attribute("data-period"), statistic="Average",
                  dimension=[f"{k}:{v}" for k, v in dims.items()])  # fmt: skip
    assert by_label["p50"] == pytest.approx([d["Average"] for d in answer["datapoints"]],
                                            rel=1e-9)
