"""The dashboard's alarms and notifications pages in a real browser over the demo's data
(``tests/ui_browser.py``): the list is the API's, the drift alarm's page shows the demo's
transitions and its metric as the API returns it, with the threshold and the ALARM spans;
silencing works through the form and only for a token with ``write`` and the session's CSRF
field; a dead letter made by the real outbox is shown and redriven through the form."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import httpx
import pytest

from live_server import free_port
from ui_browser import chart_drawn, screenshot
from vigil.alerts.delivery import Message, SQLOutboxStore
from vigil.alerts.notify import make_outbox, subscriptions_of
from vigil.app.bootstrap import open_database
from vigil.store.settings import Settings

T = TypeVar("T")
DRIFT = "hourly-drift"


def _api(dashboard: Any, token: str = "reader") -> httpx.Client:
    return httpx.Client(base_url=dashboard.url + "/api/v1", timeout=30,
                        headers={"Authorization": f"Bearer {dashboard.tokens[token]}"})


def _session(w: Any) -> tuple[dict[str, str], str]:
    """The page's session cookie (for httpx) and its CSRF value (from the sign-out form)."""
    cookie = next(c for c in w.page.context.cookies() if c["name"] == "vigil_session")
    csrf = w.page.locator("form.signout input[name=csrf]").get_attribute("value")
    return {"vigil_session": cookie["value"]}, str(csrf)


def _until(found: Callable[[], T | None], what: str, seconds: float = 30) -> T:
    """Poll ``found`` until it gives something (the server's loop works every second)."""
    deadline = time.monotonic() + seconds
    while True:
        value = found()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def _listed(page: Any) -> dict[str, str]:
    rows = page.locator("#alarm-list tr[data-alarm]")
    return {rows.nth(i).get_attribute("data-alarm"): rows.nth(i).get_attribute("data-state")
            for i in range(rows.count())}


def _api_states(api: httpx.Client, **params: str) -> dict[str, str]:
    answer = api.get("/alarms", params=params)
    assert answer.status_code == 200, answer.text
    return {a["name"]: a["state"] for a in answer.json()["alarms"]}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_alarms_list_is_the_apis(open_page: Any, dashboard: Any) -> None:
    w = open_page("reader")
    api = _api(dashboard)
    for _ in range(3):  # the server evaluates alarms every 10 s: retry a read that raced it
        before = _api_states(api)
        w.goto(dashboard, "/alarms")
        shown = _listed(w.page)
        if before == _api_states(api):
            break
    assert shown == before and DRIFT in shown
    row = w.page.locator(f"#alarm-list tr[data-alarm='{DRIFT}']")
    assert row.locator("a").get_attribute("href").startswith(f"/alarms/{DRIFT}")
    assert row.locator("td.reason").inner_text() == api.get(f"/alarms/{DRIFT}").json()[
        "state_reason"]
    screenshot(w.page, "alarms")

    for state in ("OK", "ALARM", "INSUFFICIENT_DATA"):
        w.goto(dashboard, f"/alarms?state={state}")
        listed = _listed(w.page)
        assert set(listed.values()) <= {state}
        assert set(listed) == set(_api_states(api, state_filter=state))
        assert w.page.locator("#alarm-state").input_value() == state

    cookies, _ = _session(w)
    bad = httpx.get(dashboard.url + "/alarms?state=<b>x</b>", cookies=cookies)
    assert bad.status_code == 400 and "<b>x</b>" not in bad.text and "state: expected" in bad.text


def _spans(history: list[dict[str, Any]], start: datetime, end: datetime) -> list[tuple[
        float, float]]:
    """The ALARM spans of ``[start, end]`` from the API's history (newest first)."""
    oldest = sorted(history, key=lambda h: _when(h["time"]))
    before = [h for h in oldest if _when(h["time"]) < start]
    inside = [h for h in oldest if start <= _when(h["time"]) <= end]
    state = before[-1]["new_state"] if before else (inside[0]["old_state"] if inside else "")
    since, out = start, []
    for h in inside:
        if state == "ALARM":
            out.append((since.timestamp(), _when(h["time"]).timestamp()))
        state, since = h["new_state"], _when(h["time"])
    if state == "ALARM":
        out.append((since.timestamp(), end.timestamp()))
    return out


def test_the_drift_alarms_page(open_page: Any, dashboard: Any) -> None:
    w = open_page("writer")
    api = _api(dashboard)
    w.goto(dashboard, f"/alarms/{DRIFT}")
    query = w.page.locator("#alarm-metric-query")
    start, end = _when(query.get_attribute("data-start")), _when(query.get_attribute("data-end"))
    alarm = api.get(f"/alarms/{DRIFT}").json()
    history = api.get(f"/alarms/{DRIFT}/history").json()["history"]

    # the history: the demo's transitions of the range, newest first, with their reasons
    inside = [h for h in history if start <= _when(h["time"]) <= end]
    items = w.page.locator("#alarm-history li[data-transition]")
    shown = [(items.nth(i).get_attribute("data-time"), items.nth(i).get_attribute("data-state"))
             for i in range(items.count())]
    assert shown == [(h["time"], h["new_state"]) for h in inside]
    states = [s for _, s in shown]
    assert "ALARM" in states[1:]  # to ALARM on drift, then (newer) back to OK
    assert states[states.index("ALARM") - 1] == "OK"
    for i, h in enumerate(inside):
        assert items.nth(i).locator(".reason").inner_text() == h["reason"]
    assert w.page.locator(".alarm-state .status").inner_text() == alarm["state"]

    # the metric as the evaluator queries it, and as the API returns it
    definition = alarm["definition"]
    assert query.get_attribute("data-namespace") == definition["namespace"]
    assert query.get_attribute("data-metric") == definition["metric_name"]
    assert query.get_attribute("data-statistic") == definition["statistic"]
    assert int(query.get_attribute("data-period")) == definition["period"]
    assert json.loads(query.get_attribute("data-dimensions")) == definition["dimensions"]
    datapoints = api.get("/metrics/query", params={
        "namespace": definition["namespace"], "name": definition["metric_name"],
        "start": start.isoformat(), "end": end.isoformat(), "period": definition["period"],
        "statistic": definition["statistic"],
        "dimension": [f"{k}:{v}" for k, v in definition["dimensions"].items()],
    }).json()["datapoints"]
    executions = api.get("/executions", params={"schedule": "hourly"}).json()["executions"]
    assert len(datapoints) == len(executions) >= 7  # one figure per hourly execution
    assert chart_drawn(w.page, "alarm-metric") == (1, len(datapoints))
    spec = json.loads(w.page.locator("figure#alarm-metric script.chart-spec").text_content())
    expected = [d[definition["statistic"]] for d in datapoints]
    assert spec["series"][0]["y"] == pytest.approx(expected, rel=1e-9)  # 10 digits shown
    assert spec["series"][0]["x"] == [_when(d["Timestamp"]).timestamp() for d in datapoints]
    assert [t["value"] for t in spec["thresholds"]] == [definition["threshold"]]
    assert spec["y"]["label"] and spec["y"]["unit"]
    expected = _spans(history, start, end)
    assert expected  # the demo's drift put it in ALARM for a while
    assert [(b["start"], b["end"]) for b in spec["bands"]] == expected

    # the state over the range: one step per transition, from the range's start to its end
    assert chart_drawn(w.page, "alarm-state") == (1, len(inside) + 2)

    # what changed: looked up before its last transition to ALARM
    fired = max(_when(h["time"]) for h in history if h["new_state"] == "ALARM")
    assert _when(w.page.locator("#alarm-context").get_attribute("data-at")) == fired
    screenshot(w.page, "alarm")


def test_what_changed_before_an_alarm_that_never_fired(open_page: Any, dashboard: Any) -> None:
    """An alarm never in ALARM shows the platform events before the range's end: the demo's
    failed CodePipeline run among them."""
    api = _api(dashboard)
    name = "hourly-failed"
    assert all(h["new_state"] != "ALARM"
               for h in api.get(f"/alarms/{name}/history").json()["history"])
    w = open_page("reader")
    w.goto(dashboard, f"/alarms/{name}?hours=12")
    at = _when(w.page.locator("#alarm-context").get_attribute("data-at"))
    events = api.get("/events", params={
        "source": "aws.codepipeline", "since": (at - timedelta(hours=12)).isoformat(),
        "until": (at + timedelta(seconds=1)).isoformat(),
    }).json()["events"]
    assert events, "the demo posts a failed pipeline run"
    listed = w.page.locator("#alarm-changes li[data-event]")
    ids = {listed.nth(i).get_attribute("data-event") for i in range(listed.count())}
    assert {e["id"] for e in events} <= ids
    assert "cancer-model-deploy" in w.page.locator("#alarm-changes").inner_text()
    cookies, _ = _session(w)
    for bad in ("hours=abc", "hours=0", "hours=1e9", "hours=nan", "done=x"):
        answer = httpx.get(f"{dashboard.url}/alarms/{name}?{bad}", cookies=cookies)
        assert answer.status_code == 400, bad
    answer = httpx.get(f"{dashboard.url}/alarms/alarms-ui-no-such-alarm", cookies=cookies)
    assert answer.status_code == 404 and "no alarm named" in answer.text


PROBE = "alarms-ui-silence-probe"


def _probe_alarm(dashboard: Any) -> None:
    answer = _api(dashboard, "writer").post("/alarms", json={
        "name": PROBE, "namespace": "alarms-ui", "metric_name": "probe", "statistic": "Maximum",
        "period": 60, "evaluation_periods": 1, "threshold": 1.0,
        "comparison_operator": "GreaterThanThreshold",
    })
    assert answer.status_code == 201, answer.text


def _probe_silences(dashboard: Any) -> list[dict[str, Any]]:
    silences = _api(dashboard).get("/silences").json()["silences"]
    return [s for s in silences if s["matchers"] == [f'alarm="{PROBE}"']]


def _cleanup_probe(dashboard: Any) -> None:
    writer = _api(dashboard, "writer")
    for s in _probe_silences(dashboard):
        writer.delete(f"/silences/{s['id']}")
    writer.delete(f"/alarms/{PROBE}")


def test_silence_and_unsilence_through_the_forms(open_page: Any, dashboard: Any) -> None:
    _probe_alarm(dashboard)
    try:
        w = open_page("writer")
        w.page.on("dialog", lambda dialog: dialog.accept())
        w.goto(dashboard, f"/alarms/{PROBE}")
        assert w.page.locator("#alarm-silences").count() == 0
        w.page.fill("#silence-hours", "1.5")
        w.page.fill("#silence-comment", "alarms-ui: deploying")
        w.page.click("form.silence button[type=submit]")
        w.page.wait_for_load_state("load")
        assert w.page.url.endswith(f"/alarms/{PROBE}?done=silenced")
        (silence,) = _probe_silences(dashboard)  # the API says it is silenced
        assert silence["comment"] == "alarms-ui: deploying"
        length = _when(silence["ends_at"]) - _when(silence["starts_at"])
        assert length == timedelta(hours=1.5)
        assert w.page.locator(f"#alarm-silences tr[data-silence='{silence['id']}']").count() == 1
        trail = _api(dashboard, "admin").get("/audit", params={
            "kind": "silence", "name": silence["id"]}).json()["entries"]
        assert [e["actor"] for e in trail] == ["token:writer"]  # the form's token, audited
        assert "silenced until" in w.page.locator(".alarm-state").inner_text()

        w.goto(dashboard, "/alarms")
        assert w.page.locator(f"tr[data-alarm='{PROBE}']").get_attribute("data-silenced") == "yes"
        assert w.page.locator(f"tr[data-alarm='{DRIFT}']").get_attribute("data-silenced") == "no"

        w.goto(dashboard, f"/alarms/{PROBE}")
        w.page.click(f"tr[data-silence='{silence['id']}'] form.unsilence button")
        w.page.wait_for_load_state("load")
        assert w.page.url.endswith(f"/alarms/{PROBE}?done=unsilenced")
        assert _probe_silences(dashboard) == []
        assert _api(dashboard).get(f"/silences/{silence['id']}").status_code == 404
        assert w.page.locator("#alarm-silences").count() == 0
    finally:
        _cleanup_probe(dashboard)


def test_a_reader_gets_no_form_and_forged_posts_are_refused(
    open_page: Any, dashboard: Any
) -> None:
    _probe_alarm(dashboard)
    try:
        reader = open_page("reader")
        reader.goto(dashboard, f"/alarms/{PROBE}")
        assert reader.page.locator("form.silence, form.unsilence").count() == 0
        reader.goto(dashboard, "/notifications")
        assert reader.page.locator("form.redrive, form.redrive-all").count() == 0
        reader_cookies, reader_csrf = _session(reader)
        writer = open_page("writer")
        writer_cookies, writer_csrf = _session(writer)
        url = f"{dashboard.url}/alarms/{PROBE}/silence"

        def post(target: str, cookies: dict[str, str], data: dict[str, str]) -> int:
            return httpx.post(target, cookies=cookies, data=data,
                              follow_redirects=False).status_code

        # the reader's own session and CSRF field, but no write scope: 403
        assert post(url, reader_cookies, {"csrf": reader_csrf, "hours": "1"}) == 403
        assert post(dashboard.url + "/notifications/redrive", reader_cookies,
                    {"csrf": reader_csrf, "all": "1"}) == 403
        # a writer's session without its CSRF field, or with another session's: 403
        assert post(url, writer_cookies, {"hours": "1"}) == 403
        assert post(url, writer_cookies, {"csrf": reader_csrf, "hours": "1"}) == 403
        assert post(dashboard.url + "/notifications/redrive", writer_cookies,
                    {"id": "1"}) == 403
        assert _probe_silences(dashboard) == []
        # hostile values are a 400, never a silence
        for hours in ("nan", "-1", "0", "inf", "1e12", "x"):
            assert post(url, writer_cookies, {"csrf": writer_csrf, "hours": hours}) == 400
        assert post(dashboard.url + "/notifications/redrive", writer_cookies,
                    {"csrf": writer_csrf, "id": "1; drop"}) == 400
        assert post(f"{dashboard.url}/alarms/{PROBE}/unsilence", writer_cookies,
                    {"csrf": writer_csrf, "silence": "no-such-silence"}) == 404
        assert _probe_silences(dashboard) == []
    finally:
        _cleanup_probe(dashboard)


TOPIC = "notifications-ui-dead"
SUBSCRIPTION = "notifications-ui-dead-hook"


def test_a_dead_letter_is_shown_and_redriven(open_page: Any, dashboard: Any) -> None:
    writer = _api(dashboard, "writer")
    assert writer.post("/topics", json={"name": TOPIC}).status_code == 201
    # a receiver that is down (a closed loopback port, or one the outbound policy refuses)
    # and no retries: the first failed attempt makes a dead letter
    answer = writer.post(f"/topics/{TOPIC}/subscriptions", json={
        "protocol": "webhook", "id": SUBSCRIPTION,
        "config": {"url": f"http://localhost:{free_port()}/hook"}, "retry": {"num_retries": 0},
    })
    assert answer.status_code == 201, answer.text
    db = open_database(Settings(data_dir=dashboard.data_dir))
    store = SQLOutboxStore(db)
    try:
        message = Message(topic=TOPIC, subject="notifications-ui probe", body="cannot arrive")
        assert make_outbox(db).enqueue(message, subscriptions_of(db, TOPIC)) == 1
        api = _api(dashboard)

        def dead() -> list[dict[str, Any]]:
            return api.get("/dead-letters",  # the server's delivery loop tries it once
                           params={"subscription": SUBSCRIPTION}).json()["dead_letters"]

        (letter,) = _until(dead, "the dead letter")
        assert letter["attempts"] == 1 and "retries exhausted" in letter["last_error"]

        w = open_page("writer")
        w.goto(dashboard, "/notifications")
        row = w.page.locator(f"#dead-letters tr[data-dead='{letter['id']}']")
        assert row.count() == 1
        assert "notifications-ui probe" in row.inner_text()
        assert letter["last_error"] in row.inner_text()
        summary = w.page.locator(f"#notify-summary tr[data-subscription='{SUBSCRIPTION}']")
        assert summary.locator("td[data-count=dead]").inner_text() == "1"
        assert summary.locator("td[data-count=delivered]").inner_text() == "0"
        item = w.page.locator(f"#outbox tr[data-item='{letter['id']}']")
        assert item.get_attribute("data-status") == "dead"
        screenshot(w.page, "notifications")

        # the filters narrow the page to the subscription
        w.goto(dashboard, f"/notifications?subscription={SUBSCRIPTION}&status=dead")
        subs = w.page.locator("#outbox tr[data-item]")
        assert {subs.nth(i).get_attribute("data-subscription")
                for i in range(subs.count())} == {SUBSCRIPTION}
        assert w.page.locator("#dead-letters tr[data-dead]").count() == 1

        clicked = datetime.now(timezone.utc)
        w.page.click(f"#dead-letters tr[data-dead='{letter['id']}'] form.redrive button")
        w.page.wait_for_load_state("load")
        assert "redriven=1" in w.page.url
        assert w.page.locator("#redrive-notice").inner_text().startswith("1 dead letter")

        # the outbox after: put back with a fresh retry policy, tried again once, dead again
        def tried_again() -> Any:
            (record,) = store.list(ids=[letter["id"]])
            again = record.status == "dead" and record.next_attempt_at >= clicked
            return record if again else None

        record = _until(tried_again, "the redriven delivery's next attempt")
        assert record.attempt == 1  # a fresh policy: one attempt, not a second one
        assert record.message_id == letter["message_id"] and record.subscription == SUBSCRIPTION

        # "redrive all" of the page's subscription
        w.page.on("dialog", lambda dialog: dialog.accept())
        w.goto(dashboard, f"/notifications?subscription={SUBSCRIPTION}")
        clicked = datetime.now(timezone.utc)
        w.page.click("form.redrive-all button")
        w.page.wait_for_load_state("load")
        assert "redriven=1" in w.page.url and f"subscription={SUBSCRIPTION}" in w.page.url
        _until(tried_again, "the delivery redriven with the others")
    finally:
        writer.delete(f"/topics/{TOPIC}/subscriptions/{SUBSCRIPTION}")
        writer.delete(f"/topics/{TOPIC}")
        db.dispose()
