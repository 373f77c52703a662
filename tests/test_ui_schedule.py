"""The schedule page and its "Run now" form in a real browser, on the demo's server: a
writer runs a schedule's current window from the page and lands on the new execution (as the
API then lists it); a reader is offered no form and a POST with its session is refused."""

from __future__ import annotations

import shutil
from typing import Any

import httpx

from ui_browser import screenshot


def _api(dashboard: Any, token: str = "admin") -> httpx.Client:
    return httpx.Client(base_url=dashboard.url + "/api/v1", timeout=60,
                        headers={"Authorization": f"Bearer {dashboard.tokens[token]}"})


def test_run_now_from_the_page(open_page: Any, dashboard: Any) -> None:
    api = _api(dashboard)
    # an endpoint of its own (other pages' tests count the demo endpoint's executions), whose
    # captures are the demo endpoint's traffic
    capture = dashboard.data_dir / "capture"
    shutil.copytree(capture / "cancer-model", capture / "ui-run-now")
    assert api.post("/endpoints", json={"name": "ui-run-now"}).status_code in (200, 201)
    created = api.post("/schedules", json={
        "name": "ui-run-now", "endpoint": "ui-run-now", "baseline": "cancer-train",
        "expression": "cron(0 * ? * * *)", "status": "Paused",
        # the demo's hours lie in the 8 hours before now
        "window_start_offset": "-PT8H", "window_end_offset": "-PT0S",
    })
    assert created.status_code in (200, 201), created.text
    w = open_page("writer")
    w.page.on("dialog", lambda dialog: dialog.accept())  # the form asks before running
    w.goto(dashboard, "/schedules/ui-run-now")
    assert w.page.locator("#schedule-executions td.empty").count() == 1
    screenshot(w.page, "schedule")
    w.page.click("#run-now button")
    w.page.wait_for_url("**/executions/*")
    execution_id = w.page.url.rsplit("/", 1)[1]
    listed = api.get("/executions", params={"schedule": "ui-run-now"}).json()["executions"]
    assert [e["id"] for e in listed] == [execution_id]
    assert listed[0]["status"] in ("Completed", "CompletedWithViolations"), listed[0]
    assert listed[0]["records_read"] == 7 * 60  # the demo's seven hours of 60 requests
    # the schedule's page now lists it, linked
    w.goto(dashboard, "/schedules/ui-run-now")
    link = w.page.locator("#schedule-executions a").first
    assert link.get_attribute("href") == f"/executions/{execution_id}"


def test_a_reader_cannot_run_a_schedule(open_page: Any, dashboard: Any) -> None:
    w = open_page("reader")
    w.goto(dashboard, "/schedules/hourly")
    assert w.page.locator("#run-now").count() == 0
    csrf = w.page.locator("form.signout input[name=csrf]").get_attribute("value")
    cookie = next(c for c in w.page.context.cookies() if c["name"] == "vigil_session")
    answer = httpx.post(dashboard.url + "/schedules/hourly/run", data={"csrf": csrf},
                        cookies={"vigil_session": cookie["value"]}, follow_redirects=False)
    assert answer.status_code == 403 and "lacks the &#39;write&#39; scope" in answer.text
    w.goto(dashboard, "/schedules/hourly")  # nothing ran
    missing = w.page.goto(dashboard.url + "/schedules/no-such-schedule")
    assert missing is not None and missing.status == 404
    w.errors.clear()  # the 404 answer is logged by the browser as a failed resource
