"""The training jobs, pipelines, hosts, metric explorer and dashboards-as-code pages in a real
browser over the demo's data, every figure checked against the API's answer for the same
query."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest

from ui_browser import chart_drawn, screenshot

SERVING = {"EndpointName": "cancer-model", "VariantName": "AllTraffic"}


def api(dashboard: Any) -> httpx.Client:
    return httpx.Client(base_url=dashboard.url + "/api/v1", timeout=30,
                        headers={"Authorization": f"Bearer {dashboard.tokens['admin']}"})


def spec_of(page: Any, figure_id: str) -> dict[str, Any]:
    text = page.locator(f"figure#{figure_id} script.chart-spec").text_content()
    return dict(json.loads(text))


def test_job_page_draws_the_loss_curves_of_the_jobs_api(open_page: Any, dashboard: Any) -> None:
    with api(dashboard) as client:
        job = client.get("/jobs/cancer-train").json()
        curves = {m: client.get(f"/jobs/cancer-train/metrics/{m}").json()["points"]
                  for m in ("train:loss", "validation:loss")}
    assert sorted(job["metrics"]) == ["train:loss", "validation:loss"]
    assert [len(p) for p in curves.values()] == [12, 12]
    w = open_page("reader")
    w.goto(dashboard, "/jobs")
    row = w.page.locator("#jobs-table tbody tr", has_text="cancer-train").first
    assert job["status"] in row.inner_text()
    w.goto(dashboard, "/jobs/cancer-train")
    assert chart_drawn(w.page, "curve-loss") == (2, 24)
    spec = spec_of(w.page, "curve-loss")
    assert {s["label"]: s["y"] for s in spec["series"]} == {  # 10 digits shown
        "train": pytest.approx([p["value"] for p in curves["train:loss"]], rel=1e-9),
        "validation": pytest.approx([p["value"] for p in curves["validation:loss"]], rel=1e-9),
    }
    assert spec["series"][0]["x"] == [float(p["step"]) for p in curves["train:loss"]]
    assert spec["x"]["label"] == "step" and spec["y"]["label"] == "loss"
    assert job["run_id"] in w.page.locator("main").inner_text()
    screenshot(w.page, "job")


def test_a_failed_jobs_reason_and_log_search(open_page: Any, dashboard: Any) -> None:
    name = "platformui-logjob"
    log = "".join(f"epoch {i} loss {1 / i:.3f}\n" for i in range(1, 13))
    log += "Traceback: CUDA out of memory\n"
    with api(dashboard) as client:
        run = client.post("/jobs", json={"name": name}).json()["run_id"]
        client.post(f"/jobs/{run}/metrics", json={"metrics": [
            {"name": "loss", "value": 1 / i, "step": i} for i in range(1, 4)]}).raise_for_status()
        client.put(f"/jobs/{run}/log", content=log.encode()).raise_for_status()
        client.post(f"/jobs/{run}/status", json={
            "status": "Failed", "failure_reason": "CUDA out of memory"}).raise_for_status()
        wanted = client.get(f"/jobs/{run}/log", params={"search": "epoch 1"}).json()["lines"]
    w = open_page("reader")
    w.goto(dashboard, f"/jobs/{name}")
    assert w.page.locator("#job-failure").inner_text() == "Failed: CUDA out of memory"
    assert chart_drawn(w.page, "curve-loss") == (1, 3)
    lines = w.page.locator("#job-log [data-line]")
    assert lines.count() == len(log.splitlines()) == 13
    w.page.fill("#log-filter", "epoch 1")  # 1, 10, 11, 12
    visible = w.page.locator("#job-log [data-line]:not([hidden])")
    assert [t.strip() for t in visible.all_inner_texts()] == wanted and len(wanted) == 4
    w.page.fill("#log-filter", "")
    assert w.page.locator("#job-log [data-line]:not([hidden])").count() == 13
    w.page.fill("#log-q", "CUDA")
    w.page.click("#log-q ~ button")
    w.page.wait_for_load_state("load")
    assert [t.strip() for t in lines.all_inner_texts()] == ["Traceback: CUDA out of memory"]
    failed = w.goto(dashboard, "/jobs?status=Failed&q=platformui-")
    assert failed.status == 200
    assert "CUDA out of memory" in w.page.locator("#jobs-table").inner_text()
    assert w.page.goto(dashboard.url + "/jobs?status=Nope").status == 400
    assert w.page.goto(dashboard.url + "/jobs/platformui-no-such-job").status == 404
    w.errors.clear()  # the browser logs the 400 and 404 answers as failed resources


def test_the_failed_pipeline_shows_failed_with_its_reason(open_page: Any, dashboard: Any) -> None:
    with api(dashboard) as client:
        events = client.get("/events", params={"source": "aws.codepipeline"}).json()["events"]
    action = next(e for e in events if e["detail-type"].startswith("CodePipeline Action"))
    result = action["detail"]["execution-result"]
    reason = f"{result['error-code']}: {result['external-execution-summary']}"
    where = f"{action['detail']['stage']}/{action['detail']['action']}"
    w = open_page("reader")
    w.goto(dashboard, "/pipelines")
    row = w.page.locator("#pipelines-table tbody tr", has_text="cancer-model-deploy")
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "cancer-model-deploy" and cells[3] == "failed"
    assert cells[6] == f"{where}: {reason}"
    screenshot(w.page, "pipelines")
    w.page.click("#pipelines-table a:text('cancer-model-deploy')")
    w.page.wait_for_load_state("load")
    assert w.page.url.endswith("/pipelines/cancer-model-deploy")
    assert w.page.locator(".run-failure").first.inner_text() == f"Failed: {where}: {reason}"
    step = w.page.locator(".pipeline-run tbody tr", has_text=where).locator("td")
    assert step.all_inner_texts()[2] == "failed" and step.all_inner_texts()[4] == reason


def _query(client: httpx.Client, name: str, dims: dict[str, str], start: str, end: str,
           period: int, statistic: str, namespace: str = "vigil/Host") -> list[dict]:
    params = {"namespace": namespace, "name": name, "start": start, "end": end,
              "period": period, "statistic": statistic,
              "dimension": [f"{k}:{v}" for k, v in dims.items()]}
    rows: list[dict] = client.get("/metrics/query", params=params).json()["datapoints"]
    return rows


def test_the_host_page_draws_cpu_and_memory(open_page: Any, dashboard: Any) -> None:
    with api(dashboard) as client:
        listed = client.get("/metrics", params={"namespace": "vigil/Host"}).json()["metrics"]
        host = next(m["dimensions"]["Host"] for m in listed if m["name"] == "CPUUtilization")
        end = datetime.now(timezone.utc)
        window = ((end - timedelta(hours=24)).isoformat(), end.isoformat())
        cpu = _query(client, "CPUUtilization", {"Host": host}, *window, 900, "Average")
        memory = _query(client, "MemoryUtilization", {"Host": host}, *window, 900, "Average")
    assert cpu and memory
    w = open_page("reader")
    w.goto(dashboard, "/hosts?range=24h")
    assert w.page.locator("#hosts-table a", has_text=host).count() == 1
    w.goto(dashboard, f"/hosts/{quote(host, safe='')}?range=24h")
    assert chart_drawn(w.page, "host-cpuutilization") == (1, len(cpu))
    assert chart_drawn(w.page, "host-memoryutilization") == (1, len(memory))
    spec = spec_of(w.page, "host-memoryutilization")
    assert spec["series"][0]["y"] == pytest.approx([r["Average"] for r in memory], rel=1e-9)
    assert spec["y"]["unit"] == "%"
    # the default host alarm of memory draws its threshold
    with api(dashboard) as client:
        alarm = client.get(f"/alarms/host-{host}-memory")
    if alarm.status_code == 200:
        assert alarm.json()["definition"]["threshold"] in [t["value"] for t in spec["thresholds"]]
    screenshot(w.page, "host")


def test_the_explorer_draws_what_the_query_api_answers(open_page: Any, dashboard: Any) -> None:
    w = open_page("reader")
    w.goto(dashboard, "/explore?range=24h")
    with api(dashboard) as client:
        listed = {m["namespace"] for m in client.get("/metrics").json()["metrics"]}
    assert set(w.page.locator("#explore-namespaces a").all_inner_texts()) == listed
    w.page.fill("#ex-namespace", "AWS/SageMaker")
    w.page.fill("#ex-name", "Invocations")
    w.page.fill("#ex-dimensions", "EndpointName:cancer-model\nVariantName:AllTraffic")
    w.page.fill("#ex-statistic", "Sum,Maximum")
    w.page.fill("#ex-period", "3600")
    w.page.click("#explore-form button[type=submit]")
    w.page.wait_for_load_state("load")
    link = w.page.locator("#explore-summary a").get_attribute("href") or ""
    params = dict(parse_qsl(urlsplit(link).query))
    with api(dashboard) as client:
        rows = _query(client, "Invocations", SERVING, params["start"], params["end"], 3600,
                      "Sum", namespace="AWS/SageMaker")
        same = client.get(link.removeprefix("/api/v1")).json()["datapoints"]
    assert len(rows) >= 7 and [r["Sum"] for r in same] == [r["Sum"] for r in rows]
    assert chart_drawn(w.page, "explore-chart") == (2, 2 * len(rows))
    spec = spec_of(w.page, "explore-chart")
    assert spec["series"][0]["y"] == pytest.approx([r["Sum"] for r in rows], rel=1e-9)
    assert spec["series"][0]["x"] == [
        datetime.fromisoformat(r["Timestamp"]).timestamp() for r in rows]
    screenshot(w.page, "explore")
    answer = w.page.goto(dashboard.url + "/explore?namespace=AWS/SageMaker&name=Invocations"
                         "&statistic=Mean&period=abc")
    assert answer is not None and answer.status == 400
    assert "is not one of SampleCount" in w.page.locator("#explore-error").inner_text()
    for query in ("period=0", "period=99999999999", "dimension=novalue", "range=bogus",
                  "from=garbage&to=2026", "statistic=" + "p1," * 20):
        answer = w.page.goto(dashboard.url + "/explore?namespace=a&name=b&" + query)
        assert answer is not None and answer.status in (200, 400), query
    w.errors.clear()  # the 400 answers are logged as failed resources


BOARD = """
dashboards:
  - name: platformui-board
    widgets:
      - type: text
        x: 0
        y: 0
        width: 24
        height: 2
        text: |
          # Serving <script>document.title = "owned"</script>
          The **demo** endpoint's traffic; see [the alarms](/alarms).
      - type: metric
        title: Invocations per hour
        x: 0
        y: 2
        width: 16
        height: 7
        unit: count
        y_label: invocations
        metrics:
          - namespace: AWS/SageMaker
            name: Invocations
            dimensions: {EndpointName: cancer-model, VariantName: AllTraffic}
            statistic: Sum
            period: 3600
        thresholds: [{value: 100, label: capacity}]
      - type: value
        title: Invocations, last hour
        x: 16
        y: 2
        width: 8
        height: 3
        unit: calls
        metric: {namespace: AWS/SageMaker, name: Invocations, statistic: Sum, period: 3600,
                 dimensions: {EndpointName: cancer-model, VariantName: AllTraffic}}
      - type: alarms
        title: Alarms
        x: 16
        y: 5
        width: 8
        height: 4
        alarms: [hourly-drift, platformui-no-such-alarm]
"""


def test_a_dashboard_applied_as_code_renders_its_widgets_on_the_grid(
    open_page: Any, dashboard: Any, tmp_path: Path
) -> None:
    path = tmp_path / "vigil.yaml"
    path.write_text(BOARD)
    done = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "apply", "-f", str(path), "--data-dir",
         str(dashboard.data_dir)], capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "+ dashboard platformui-board" in done.stdout or "unchanged 1" in done.stdout
    w = open_page("reader")
    w.goto(dashboard, "/dashboards")
    assert w.page.locator("#dashboards-table a", has_text="platformui-board").count() == 1
    w.goto(dashboard, "/dashboards/platformui-board?range=24h")
    boxes = w.page.locator("#dash-grid > section.widget")
    assert boxes.count() == 4
    assert [boxes.nth(i).get_attribute("data-type") for i in range(4)] == [
        "text", "metric", "value", "alarms"]
    grid = w.page.locator("#dash-grid").bounding_box()
    text, metric, value, alarms = (boxes.nth(i).bounding_box() for i in range(4))
    assert abs(text["width"] - grid["width"]) < 2  # 24 of 24 columns
    assert abs(metric["width"] / grid["width"] - 16 / 24) < 0.03
    assert value["x"] > metric["x"] + metric["width"] - 1 and abs(value["y"] - metric["y"]) < 2
    assert alarms["y"] > value["y"] + value["height"] - 1 and abs(alarms["x"] - value["x"]) < 2
    assert metric["y"] > text["y"] + text["height"] - 1
    # the text is escaped markdown: no script ran, none was added
    assert w.page.title() != "owned"
    assert w.page.locator("#widget-box-0 script").count() == 0
    assert "<script>" in w.page.locator("#widget-box-0 h3").inner_text()
    assert w.page.locator("#widget-box-0 strong").inner_text() == "demo"
    # the chart and the value: what the API answers for the same query
    spec = spec_of(w.page, "widget-1")
    start = datetime.fromtimestamp(spec["series"][0]["x"][0], timezone.utc)
    with api(dashboard) as client:
        rows = _query(client, "Invocations", SERVING, start.isoformat(),
                      datetime.now(timezone.utc).isoformat(), 3600, "Sum",
                      namespace="AWS/SageMaker")
        drift = client.get("/alarms/hourly-drift").json()["state"]
    assert chart_drawn(w.page, "widget-1") == (1, len(rows))
    assert spec["series"][0]["y"] == pytest.approx([r["Sum"] for r in rows], rel=1e-9)
    assert spec["thresholds"] == [{"value": 100.0, "label": "capacity"}]
    shown = w.page.locator("#widget-box-2 .single-value").get_attribute("data-value")
    assert float(shown or "nan") == rows[-1]["Sum"]
    cells = w.page.locator("#widget-box-3 tbody tr").nth(0).locator("td").all_inner_texts()
    assert cells[:2] == ["hourly-drift", drift]
    assert "no alarm of that name" in w.page.locator("#widget-box-3").inner_text()
    screenshot(w.page, "dashboard")
