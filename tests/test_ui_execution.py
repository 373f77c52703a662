"""The execution pages in a real browser over the demo's data: a drifting execution shows the
violations the API reports, its bad records, its features against the baseline and links to
every output file (each answering with the file's bytes, a name outside the outputs 404); the
report page frames the execution's report.html (sandboxed), which names the endpoint, the
schedule, the window and the execution; a model-quality execution shows its confusion matrix
and ROC and PR curves. Every expectation is read from the REST API, not assumed."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from ui_browser import screenshot


def api(dashboard: Any, path: str, **params: Any) -> httpx.Response:
    answer = httpx.get(f"{dashboard.url}/api/v1{path}", params=params, timeout=30,
                       headers={"Authorization": f"Bearer {dashboard.tokens['reader']}"})
    assert answer.status_code == 200, answer.text
    return answer


def executions(dashboard: Any, schedule: str) -> list[dict[str, Any]]:
    found = api(dashboard, "/executions", schedule=schedule).json()["executions"]
    return sorted(found, key=lambda e: e["window_start"])


def output(dashboard: Any, ex: dict[str, Any], name: str) -> Any:
    return json.loads(api(dashboard, f"/executions/{ex['id']}/outputs/{name}").content)


def utc(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def table_rows(page: Any, selector: str) -> list[list[str]]:
    return [
        [c.strip() for c in row.locator("td").all_inner_texts()]
        for row in page.locator(f"{selector} tbody tr").all()
    ]


@pytest.fixture(scope="module")
def drifting(dashboard: Any) -> dict[str, Any]:
    found = [e for e in executions(dashboard, "hourly") if e["status"] == "CompletedWithViolations"]
    assert found, "the demo's drifting hours end CompletedWithViolations"
    return found[0]


@pytest.fixture(scope="module")
def model_quality(dashboard: Any) -> dict[str, Any]:
    found = executions(dashboard, "hourly-model")
    assert found and all(e["status"] != "Failed" for e in found), found
    with_violations = [e for e in found if e["violation_count"]]
    return (with_violations or found)[0]


def test_a_drifting_execution_shows_what_the_api_reports(
    open_page: Any, dashboard: Any, drifting: dict[str, Any]
) -> None:
    w = open_page("reader")
    w.goto(dashboard, f"/executions/{drifting['id']}")
    page = w.page
    facts = page.locator("#execution-facts")
    assert facts.locator("[data-field=status]").inner_text() == drifting["status"]
    link = facts.locator("[data-field=endpoint] a")
    assert link.inner_text() == drifting["endpoint"]
    assert link.get_attribute("href") == f"/endpoints/{drifting['endpoint']}"
    assert facts.locator("[data-field=schedule]").inner_text().startswith(drifting["schedule"])
    window = facts.locator("[data-field=window]").inner_text()
    assert window == f"{utc(drifting['window_start'])} to {utc(drifting['window_end'])} (UTC)"
    assert facts.locator("[data-field=id]").inner_text() == drifting["id"]
    assert facts.locator("[data-field=records]").inner_text() == (
        f"{drifting['records_read']} read, {drifting['records_skipped'] or 0} skipped")
    # the violations: those of constraint_violations.json, in its order
    violations = output(dashboard, drifting, "constraint_violations.json")["violations"]
    assert len(violations) == drifting["violation_count"] > 0
    assert table_rows(page, "#violations") == [
        [v.get("feature_name") or v.get("metric_name"), v["constraint_check_type"],
         v["description"]] for v in violations
    ]
    # the bad records: the count the execution stored
    skipped = drifting["records_skipped"] or 0
    assert page.locator("#bad-record-count").inner_text().startswith(f"{skipped} record(s)")
    # every feature of the window's statistics against the baseline; the drifted ones say so
    stats = output(dashboard, drifting, "statistics.json")
    summary = output(dashboard, drifting, "analysis.json")
    rows = page.locator("#features tbody tr")
    assert [r.get_attribute("data-feature") for r in rows.all()] == [
        f["name"] for f in stats["features"]]
    for f in stats["features"]:
        row = page.locator(f'#features tr[data-feature="{f["name"]}"]')
        mean = f["numerical_statistics"]["mean"]
        assert f"/ {float(f'{mean:.4g}'):g}" in row.locator("td").nth(2).inner_text()
        drifted = summary["features"][f["name"]]["drifted"]
        verdict = row.locator("td").nth(5).locator("b").inner_text()
        assert verdict == ("drift" if drifted else "no drift"), f["name"]
    assert any(d["drifted"] for d in summary["features"].values())
    screenshot(page, "execution")


def test_output_file_links_answer_with_the_files_bytes(
    open_page: Any, dashboard: Any, drifting: dict[str, Any]
) -> None:
    w = open_page("reader")
    w.goto(dashboard, f"/executions/{drifting['id']}")
    hrefs = [a.get_attribute("href") for a in w.page.locator("#output-files a").all()]
    named = {h.rsplit("/", 1)[1] for h in hrefs if "/files/" in h}
    assert named == set(drifting["outputs"]) and "report.html" in named
    assert f"/executions/{drifting['id']}/report" in hrefs
    for href in hrefs:
        answer = w.page.request.get(dashboard.url + href)
        assert answer.status == 200, href
        if "/files/" in href:
            name = href.rsplit("/", 1)[1]
            expected = api(dashboard, f"/executions/{drifting['id']}/outputs/{name}")
            assert answer.body() == expected.content, name
            kind = "text/html" if name.endswith(".html") else "application/json"
            assert answer.headers["content-type"].startswith(kind)
            if name.endswith(".html"):
                assert "sandbox" in answer.headers["content-security-policy"]
            else:
                assert answer.headers["content-disposition"].startswith("attachment")


def test_a_name_that_is_not_an_output_is_404(
    open_page: Any, dashboard: Any, drifting: dict[str, Any]
) -> None:
    w = open_page("reader")
    base = f"{dashboard.url}/executions/{drifting['id']}/files/"
    for name in ("vigil.db", "..%2F..%2F..%2Fvigil.db", "..%2fsecret.key", "...", "REPORT.HTML",
                 "report.html%00.json", "statistics.json%2F..%2F..%2Fvigil.db", "x" * 300):
        answer = w.page.request.get(base + name)
        assert answer.status == 404, (name, answer.status)
        assert b"SQLite format" not in answer.body()
    for path in (f"/executions/{'0' * 36}", f"/executions/{'z' * 500}",
                 f"/executions/{'0' * 36}/report", f"/executions/{'0' * 36}/files/report.html"):
        assert w.page.request.get(dashboard.url + path).status == 404, path
    # without a session, no file at all: the sign-in page
    answer = httpx.get(base + "statistics.json", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    w.errors.clear()  # the browser logs the 404 answers as failed resources


def test_the_report_page_names_what_the_report_covers(
    open_page: Any, dashboard: Any, drifting: dict[str, Any]
) -> None:
    w = open_page("reader")
    w.goto(dashboard, f"/executions/{drifting['id']}/report")
    frame_el = w.page.locator("#report-frame")
    assert frame_el.get_attribute("sandbox") == ""  # no scripts, an opaque origin
    report = w.page.frame_locator("#report-frame")
    covers = report.locator("#report-covers")
    covers.wait_for()
    field = lambda name: covers.locator(f"[data-field={name}]").inner_text()  # noqa: E731
    assert field("endpoint") == drifting["endpoint"]
    assert field("schedule") == f"{drifting['schedule']} (DataQuality)"
    assert field("window") == (
        f"{utc(drifting['window_start'])} to {utc(drifting['window_end'])} (UTC)")
    assert field("execution") == drifting["id"]
    assert report.locator("h2", has_text="Violations").count() == 1
    screenshot(w.page, "report")


def test_a_model_quality_execution_shows_its_matrix_and_curves(
    open_page: Any, dashboard: Any, model_quality: dict[str, Any]
) -> None:
    w = open_page("reader")
    w.goto(dashboard, f"/executions/{model_quality['id']}")
    page = w.page
    metrics = output(dashboard, model_quality, "statistics.json")[
        "binary_classification_metrics"]
    cm = metrics["confusion_matrix"]
    cells = {
        (td.get_attribute("data-actual"), td.get_attribute("data-predicted")): int(td.inner_text())
        for td in page.locator("#confusion-matrix td").all()
    }
    assert cells == {(a, p): n for a, row in cm.items() for p, n in row.items()}
    assert sum(cells.values()) == model_quality["records_read"]
    roc = metrics["receiver_operating_characteristic_curve"]
    pr = metrics["precision_recall_curve"]
    for svg, n in (("#roc-curve", len(roc["false_positive_rates"])),
                   ("#pr-curve", len(pr["recalls"]))):
        points = page.locator(f"svg{svg} polyline.window").get_attribute("points")
        assert points is not None and len(points.split()) == n > 1, svg
        assert page.locator(f"svg{svg} polyline.baseline").count() == 1  # the baseline's too
    # every constrained metric against its threshold; the violated ones marked
    violations = output(dashboard, model_quality, "constraint_violations.json")["violations"]
    fired = {v["metric_name"] for v in violations}
    for name in ("accuracy", "auc", "f1"):
        row = page.locator(f'#mq-metrics tr[data-metric="{name}"]')
        assert row.count() == 1
        assert (row.get_attribute("class") == "violated") == (name in fired), name
        value = float(row.locator("td").nth(1).inner_text())
        assert value == pytest.approx(metrics[name]["value"], rel=1e-3)
    assert table_rows(page, "#violations") == [
        [v["metric_name"], v["constraint_check_type"], v["description"]] for v in violations]
    screenshot(page, "execution-model-quality")
    # ... and its report names the model-quality schedule and draws the same figures
    w.goto(dashboard, f"/executions/{model_quality['id']}/report")
    report = w.page.frame_locator("#report-frame")
    report.locator("#report-covers").wait_for()
    assert report.locator("[data-field=schedule]").inner_text() == (
        f"{model_quality['schedule']} (ModelQuality)")
    assert report.locator("#confusion-matrix td").count() == len(cells)
    assert report.locator("svg#roc-curve polyline.window").count() == 1
    assert report.locator("svg#pr-curve polyline.window").count() == 1
