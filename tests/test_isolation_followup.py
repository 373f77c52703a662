"""Isolation leftovers of issue 9, item 3: a faulty subscription item fails alone and is
counted; a faulty rule, workflow or schedule says why where the operator reads it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text

from live_server import LiveServer
from test_runtime import _runtime
from vigil.actions.definitions import put_rule
from vigil.actions.spec import Rule
from vigil.alerts.delivery.message import Message
from vigil.alerts.notify import make_outbox
from vigil.alerts.notify.topics import put_topic, subscribe
from vigil.app.catalog import register_baseline, upsert_endpoint, upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.app.scheduler import Scheduler
from vigil.metrics import contract as mc
from vigil.monitor.runtime import Runtime
from vigil.store.metrics import MetricStore
from vigil.store.models import ActionDefinition, Event, OutboxItem, Schedule
from vigil.store.secrets import SEALED_PREFIX
from vigil.store.settings import Settings


class _Hook(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Hook.bodies.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    _Hook.bodies = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_address[1]}/hook"
    http.shutdown()


def _errors(rt: Runtime | MetricStore, kind: str) -> float:
    metrics = rt.metrics if isinstance(rt, Runtime) else rt
    now = datetime.now(timezone.utc)
    rows = metrics.query(
        mc.SCHEDULER_NAMESPACE, mc.SCHEDULER_ERRORS, mc.scheduler_error_dimensions(kind),
        now - timedelta(hours=1), now + timedelta(hours=1), 7200, ["Sum"],
    )
    return sum(r["Sum"] or 0.0 for r in rows)


def _wait(check, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_corrupt_outbox_items_fail_alone_and_are_counted(tmp_path: Path, hook: str):
    """A real outbox on SQLite, run by the server's loop: an item whose stored secret cannot be
    opened, one whose payload is not JSON and one whose snapshot names an unknown protocol
    each fail alone (a failed attempt with the reason, counted as Kind=subscription); the good
    items reach the loopback receiver."""
    rt = _runtime(tmp_path / "data")
    put_topic(rt.db, "ops")
    subs = [
        subscribe(rt.db, "ops", "webhook", {"url": hook, "headers": {"X-Key": "k"}}, id=name)
        for name in ("good-1", "good-2", "sealed", "garbled", "pigeon")
    ]
    outbox = make_outbox(rt.db)
    messages = [Message(topic="ops", subject=f"s{i}", body="b") for i in range(2)]
    for m in messages:
        outbox.enqueue(m, subs)
    with rt.db.session() as s:
        for item in s.query(OutboxItem).filter(OutboxItem.subscription == "sealed"):
            payload = json.loads(json.dumps(item.payload))
            payload["subscription"]["config"]["headers"]["X-Key"] = SEALED_PREFIX + "garbage"
            item.payload = payload
        for item in s.query(OutboxItem).filter(OutboxItem.subscription == "pigeon"):
            payload = json.loads(json.dumps(item.payload))
            payload["subscription"]["protocol"] = "carrier-pigeon"
            item.payload = payload
    with rt.db.engine.begin() as c:
        c.execute(text("UPDATE delivery_outbox SET payload = '{not json' "
                       "WHERE subscription = 'garbled'"))
    scheduler = Scheduler(rt, interval=0.1)
    scheduler.start()
    try:
        want = {m.id for m in messages}
        _wait(lambda: {b["id"] for b in _Hook.bodies} >= want
              and len(_Hook.bodies) >= 4 and _errors(rt, "subscription") >= 3)
    finally:
        scheduler.stop()
    assert len(_Hook.bodies) == 4  # good-1 and good-2, each message once
    with rt.db.engine.connect() as c:
        rows = c.execute(text("SELECT subscription, status, attempt, last_error "
                              "FROM delivery_outbox")).all()
    by = {}
    for sub, status, attempt, error in rows:
        by.setdefault(sub, []).append((status, attempt, error or ""))
    assert all(r[0] == "delivered" for r in by["good-1"] + by["good-2"])
    for status, attempt, error in by["sealed"]:
        assert (status, attempt) == ("pending", 1)  # retried: the key may come back
        assert "cannot decrypt a stored secret" in error
    for status, attempt, error in by["garbled"]:
        assert (status, attempt) == ("pending", 1)
        assert error.startswith("stored item cannot be read")
    for status, attempt, error in by["pigeon"]:
        assert (status, attempt) == ("dead", 1)  # a snapshot that cannot parse: dead letter
        assert "carrier-pigeon" in error
    assert _errors(rt, "subscription") == 3.0  # once a minute per subscription


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    # the server's own scheduler ticking, as ``vigil server`` runs it
    settings = Settings(data_dir=tmp_path / "data", scheduler_interval=0.2)
    running = LiveServer(settings, {"reader": "read"}, start_scheduler=True)
    yield running
    running.stop()


def test_a_broken_rule_says_why_and_the_good_rule_runs(srv: LiveServer, hook: str):
    """A live server: rules stored broken in the database are skipped by the scheduler's tick
    and shown with why in GET /rules, /rules/{name}, /workflows; the good rule still runs."""
    put_rule(srv.db, Rule.model_validate({
        "name": "good", "pattern": {"kind": ["execution_completed"]},
        "targets": [{"type": "http", "url": hook}],
    }))
    put_rule(srv.db, Rule.model_validate({
        "name": "dangling", "pattern": {"kind": ["never"]}, "targets": [{"workflow": "gone"}],
    }))
    with srv.db.session() as s:
        s.add(ActionDefinition(kind="rule", name="garbled", spec={"pattern": 5}))
        s.add(ActionDefinition(kind="workflow", name="garbled-flow", spec={"steps": "x"}))
        s.add(Event(kind="execution_completed", time=datetime.now(timezone.utc), detail={}))
    _wait(lambda: len(_Hook.bodies) >= 1)  # the good rule ran on the live tick
    with srv.client("reader") as c:
        listing = c.get("/rules").json()
        assert {r["name"] for r in listing["rules"]} == {"good", "dangling"}
        errors = {(e["kind"], e["name"]): e["error"] for e in listing["errors"]}
        assert set(errors) == {
            ("rule", "garbled"), ("rule", "dangling"), ("workflow", "garbled-flow")
        }
        assert errors[("rule", "garbled")].startswith("stored rule cannot be loaded")
        assert "no workflow named 'gone'" in errors[("rule", "dangling")]
        good = c.get("/rules/good").json()
        assert good.get("error") is None
        dangling = c.get("/rules/dangling").json()
        assert "no workflow named 'gone'" in dangling["error"]
        broken = c.get("/rules/garbled")
        assert broken.status_code == 409
        assert "stored rule cannot be loaded" in broken.json()["error"]["message"]
        assert c.get("/workflows/garbled-flow").status_code == 409
        assert [e["name"] for e in c.get("/workflows").json()["errors"]] == ["garbled-flow"]
        assert c.get("/rules/nothing").status_code == 404


def test_a_broken_schedule_says_why(srv: LiveServer, sagemaker_baseline: Path):
    """A live server: a schedule whose stored expression or offsets no longer parse shows why
    in GET /schedules/{name} and the listing, and the scheduler's tick counts it."""
    upsert_endpoint(srv.db, EndpointSpec(name="churn"))
    register_baseline(srv.settings, srv.db, BaselineSpec(
        name="base", endpoint="churn", path=str(sagemaker_baseline)))
    for name in ("fine", "bad-expr", "bad-offset"):
        upsert_schedule(srv.db, ScheduleSpec(name=name, endpoint="churn", baseline="base",
                                             expression="rate(1 hour)"))
    with srv.db.session() as s:
        row = s.get(Schedule, "bad-expr")
        assert row is not None
        row.expression = "rate(999999999999 days)"  # stored before the bounds
        row = s.get(Schedule, "bad-offset")
        assert row is not None
        row.window_start_offset = "yesterday"
    with srv.client("reader") as c:
        assert c.get("/schedules/fine").json()["error"] is None
        assert "rate" in c.get("/schedules/bad-expr").json()["error"]
        assert c.get("/schedules/bad-offset").json()["error"]
        listed = {x["name"]: x["error"] for x in c.get("/schedules").json()["schedules"]}
        assert listed["fine"] is None and listed["bad-expr"] and listed["bad-offset"]
    _wait(lambda: _errors(MetricStore(srv.db), "schedule") >= 1)  # the live tick counts it
