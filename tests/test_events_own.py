"""Vigil's own events on the bus: a training job's state changes (rows written where they
happen) are published by the server's loop as external events are at ingestion: archived,
counted in ``vigil/Platform`` once per run and status, and a failed run notified to the
``platform:`` topics with its severity, without a rule of the user's."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

import vigil
from live_server import Hook, LiveServer
from vigil.alerts.notify.platform import PlatformSpec, put_platform_spec
from vigil.alerts.notify.topics import put_topic, subscribe
from vigil.app.events import EventBus
from vigil.app.training import start_job, update_job
from vigil.store.db import Database
from vigil.store.event_archive import archive_path
from vigil.store.metrics import MetricStore
from vigil.store.models import Event
from vigil.store.settings import Settings


@pytest.fixture
def hook() -> Iterator[str]:
    Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def _sums(store: MetricStore, name: str, job: str) -> float:
    now = datetime.now(timezone.utc)
    rows = store.query("vigil/Platform", name, {"Kind": "training_job", "Name": job},
                       now - timedelta(hours=1), now + timedelta(minutes=1), 7200, ["Sum"])
    return sum(r["Sum"] for r in rows)


def test_publishing_counts_each_run_and_status_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    db = Database(f"sqlite:///{tmp_path / 'vigil.db'}")
    db.create_all()
    store = MetricStore(db)
    bus = EventBus(settings, db, store)
    job = start_job(db, "nightly")
    assert bus.publish_own() == 1
    done = update_job(db, job["run_id"], status="Completed")
    assert (bus.publish_own(), bus.publish_own()) == (1, 0)  # published once
    assert (_sums(store, "RunsStarted", "nightly"), _sums(store, "RunsSucceeded", "nightly")) == (
        1.0, 1.0)
    rows = store.query("vigil/Platform", "RunDuration", {"Kind": "training_job",
                       "Name": "nightly"}, datetime.now(timezone.utc) - timedelta(hours=1),
                       datetime.now(timezone.utc) + timedelta(minutes=1), 7200, ["Maximum"])
    assert rows[0]["Maximum"] == pytest.approx(done["duration_seconds"], abs=1e-3)
    with db.session() as s:
        stored = s.query(Event).filter(Event.kind == "training_job_state_change").all()
        assert {(e.run_kind, e.run_name, e.run_status) for e in stored} == {
            ("training_job", "nightly", "started"), ("training_job", "nightly", "succeeded")}
        assert all(e.published_at is not None for e in stored)
    # the archive holds both, in the envelope, under the day they were published
    lines = archive_path(tmp_path, datetime.now(timezone.utc)).read_text().splitlines()
    statuses = [json.loads(line)["detail"]["TrainingJobStatus"] for line in lines]
    assert statuses == ["InProgress", "Completed"]
    assert {json.loads(line)["source"] for line in lines} == {"vigil"}


def test_a_failed_training_job_notifies_the_platform_topic_through_the_live_loop(
    tmp_path: Path, hook: str
) -> None:
    settings = Settings(data_dir=tmp_path / "data", scheduler_interval=0.2,
                        self_metrics_interval=0)
    with LiveServer(settings, {"trainer": "read,ingest"}, start_scheduler=True) as live:
        put_topic(live.db, "ml-oncall")
        subscribe(live.db, "ml-oncall", "webhook", {"url": hook}, id="pager")
        put_platform_spec(live.db, PlatformSpec(failure_topics=["ml-oncall"]))
        with pytest.raises(ZeroDivisionError), vigil.training_job(
            "churn-train", server=live.url, token=live.tokens["trainer"]
        ) as job:
            job.log_metric("validation:loss", 0.5, step=1)
            _ = 1 / 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not Hook.received:
            time.sleep(0.1)
        assert len(Hook.received) == 1, Hook.received
        body = Hook.received[0][1]
        assert body["subject"] == "[HIGH] FAILED: training job churn-train"
        assert "ZeroDivisionError" in body["message"]
        assert body["attributes"]["severity"] == "high"
        doc = live.client("trainer").get("/jobs/churn-train").json()
        assert doc["status"] == "Failed"
        store = MetricStore(live.db)
        assert (_sums(store, "RunsStarted", "churn-train"),
                _sums(store, "RunsFailed", "churn-train")) == (1.0, 1.0)
        time.sleep(1)  # more ticks: nothing is sent or counted twice
        assert len(Hook.received) == 1
        assert _sums(store, "RunsFailed", "churn-train") == 1.0
