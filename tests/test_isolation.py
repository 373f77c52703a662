"""A faulty alarm, schedule, rule or workflow fails alone; alarm fields get CloudWatch's bounds;
no execution is left InProgress (issue 9, item 3)."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import sagemaker_columns
from live_server import ADMIN_WRITER_READER, LiveServer
from test_alarm_service import _hour
from test_runtime import _runtime, cli, config_file
from vigil.actions.definitions import dispatch_pending, put_rule
from vigil.actions.spec import Rule
from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.notify import make_outbox
from vigil.app.catalog import register_baseline, upsert_endpoint, upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.app.scheduler import ErrorCounter, Scheduler, alarms_and_notifications, tick
from vigil.errors import ConfigError
from vigil.metrics import contract as mc
from vigil.monitor.runner import run_scheduled
from vigil.monitor.runtime import Runtime
from vigil.store.models import ActionDefinition, AlarmRecord, Event, Execution, Schedule
from vigil.store.settings import Settings

T15 = datetime(2024, 5, 1, 15, tzinfo=timezone.utc)
T16 = T15 + timedelta(hours=1)
GOOD = {
    "name": "a",
    "namespace": "n",
    "metric_name": "m",
    "statistic": "Sum",
    "period": 60,
    "evaluation_periods": 1,
    "threshold": 1.0,
    "comparison_operator": "GreaterThanThreshold",
}
HUGE = {**GOOD, "name": "huge", "period": 60_000_000_000_000}


def _setup(rt: Runtime, baseline: Path) -> None:
    upsert_endpoint(rt.db, EndpointSpec(name="churn"))
    register_baseline(
        rt.settings, rt.db, BaselineSpec(name="base", endpoint="churn", path=str(baseline))
    )
    upsert_schedule(
        rt.db,
        ScheduleSpec(name="hourly", endpoint="churn", baseline="base", expression="rate(1 hour)"),
    )


def _errors(rt: Runtime, kind: str) -> float:
    now = datetime.now(timezone.utc)
    rows = rt.metrics.query(
        mc.SCHEDULER_NAMESPACE, mc.SCHEDULER_ERRORS, mc.scheduler_error_dimensions(kind),
        now - timedelta(hours=1), now + timedelta(hours=1), 7200, ["Sum"],
    )
    return sum(r["Sum"] or 0.0 for r in rows)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"period": 60_000_000_000_000}, "period x evaluation_periods"),
        ({"period": 45}, "expected 10, 20, 30 or a multiple of 60"),
        ({"period": 0}, "expected 10, 20, 30 or a multiple of 60"),
        ({"period": 60, "evaluation_periods": 1441}, "86400 s"),
        ({"period": 3600, "evaluation_periods": 169}, "604800 s"),
        ({"evaluation_periods": 0}, "evaluation_periods"),
        ({"evaluation_periods": 2, "datapoints_to_alarm": 3}, "datapoints_to_alarm"),
        ({"datapoints_to_alarm": 0}, "datapoints_to_alarm"),
        ({"threshold": math.nan}, "threshold: expected a finite number"),
        ({"threshold": math.inf}, "threshold: expected a finite number"),
    ],
)
def test_alarm_fields_get_cloudwatchs_bounds(change: dict, message: str):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        MetricAlarm.parse({**GOOD, **change})


def test_bounds_allow_what_cloudwatch_allows():
    for change in ({"period": 10, "evaluation_periods": 8640}, {"period": 60,
                   "evaluation_periods": 1440}, {"period": 3600, "evaluation_periods": 168},
                   {"period": 604_800}):
        assert MetricAlarm.parse({**GOOD, **change}).name == "a"


def test_bad_alarm_fields_give_422_over_the_api_and_exit_2_on_the_cli(
    tmp_path: Path, sagemaker_dir: Path
):
    running = LiveServer(Settings(data_dir=tmp_path / "srv"), ADMIN_WRITER_READER)
    try:
        w = running.client("writer")
        for bad in (HUGE, {**GOOD, "threshold": math.nan}, {**GOOD, "threshold": math.inf}):
            body = json.dumps(bad)  # NaN and Infinity as Python's json writes them
            r = w.post("/alarms", content=body, headers={"content-type": "application/json"})
            assert r.status_code == 422, r.text
            assert r.json()["error"]["code"] == "validation_error"
        assert w.get("/alarms").json()["alarms"] == []
    finally:
        running.stop()
    for field, value in (("period", "60000000000000"), ("threshold", ".nan")):
        work = tmp_path / field
        work.mkdir()
        base = config_file(work, sagemaker_dir)
        alarm = {**GOOD, field: value}
        body = "".join(f"    {k}: {v}\n" for k, v in alarm.items() if k != "name")
        base.write_text(base.read_text() + f"alarms:\n  - name: a\n{body}")
        done = cli(tmp_path / f"data-{field}", "apply", "-f", str(base))
        assert done.returncode == 2, (done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and field in done.stderr


def test_an_alarm_stored_before_the_bounds_fails_alone(
    tmp_path: Path, sagemaker_dir: Path, sagemaker_baseline: Path
):
    rt = _runtime(tmp_path / "data")
    _setup(rt, sagemaker_baseline)
    with rt.db.session() as s:
        s.add(AlarmRecord(name="huge", kind="metric", spec=HUGE, state="INSUFFICIENT_DATA"))
        s.add(AlarmRecord(name="broken", kind="composite", spec={"alarm_rule": "ALARM("},
                          state="INSUFFICIENT_DATA"))
    _hour(Path(rt.settings.capture_root), sagemaker_columns(sagemaker_dir), T15, 2.0)
    run_scheduled(rt, "hourly", T16)
    counter = ErrorCounter(rt)
    found = alarms_and_notifications(rt, make_outbox(rt.db), T16 + timedelta(seconds=4), counter)
    assert {t.alarm for t in found if t.new_state == "ALARM"} == {
        "hourly-drift", "hourly-violations"
    }
    with rt.db.session() as s:
        rows = {r.name: r for r in s.scalars(select(AlarmRecord))}
    assert rows["huge"].state == "INSUFFICIENT_DATA"
    assert rows["huge"].state_reason.startswith("Evaluation error: ")
    assert "period x evaluation_periods" in rows["huge"].state_reason
    assert rows["broken"].state_reason.startswith("Evaluation error: ")
    assert _errors(rt, "alarm") == 2.0


def test_the_loop_survives_a_faulty_alarm_and_a_faulty_schedule(
    tmp_path: Path, sagemaker_baseline: Path
):
    """The server's own loop, running: every step goes on and counts the faulty objects."""
    rt = _runtime(tmp_path / "data")
    _setup(rt, sagemaker_baseline)
    with rt.db.session() as s:
        s.add(AlarmRecord(name="huge", kind="metric", spec=HUGE, state="INSUFFICIENT_DATA"))
        row = s.get(Schedule, "hourly")
        assert row is not None
        row.expression = "rate(999999999999 days)"  # stored before the bounds
        row.created_at = datetime.now(timezone.utc) - timedelta(hours=2)
    assert tick(rt) == 0  # fails alone, no raise
    scheduler = Scheduler(rt, interval=0.1)
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while (_errors(rt, "alarm") < 1 or _errors(rt, "schedule") < 1) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert _errors(rt, "alarm") >= 1 and _errors(rt, "schedule") >= 1
        assert scheduler._thread.is_alive()
    finally:
        scheduler.stop()


def test_a_faulty_rule_fails_alone(tmp_path: Path):
    rt = _runtime(tmp_path / "data")
    put_rule(rt.db, Rule.model_validate({
        "name": "needs-missing-workflow",
        "pattern": {"kind": ["execution_completed"]},
        "targets": [{"workflow": "nowhere"}],
    }))
    with rt.db.session() as s:
        s.add(ActionDefinition(kind="rule", name="garbled", spec={"pattern": 5}))
        s.add(ActionDefinition(kind="workflow", name="garbled-flow", spec={"steps": "x"}))
        s.add(Event(kind="execution_completed", time=T16, detail={}))
    told: list[tuple[str, str]] = []
    runs = dispatch_pending(rt.db, "w1", on_error=lambda k, n, m: told.append((k, n)))
    assert runs == []
    assert sorted(told) == [
        ("rule", "garbled"), ("rule", "needs-missing-workflow"), ("workflow", "garbled-flow")
    ]
    assert dispatch_pending(rt.db, "w1") == []  # the event was dispatched once, nothing stuck


def test_any_exception_ends_an_execution_failed_and_it_can_rerun(
    tmp_path: Path, sagemaker_dir: Path, sagemaker_baseline: Path
):
    running = LiveServer(Settings(data_dir=tmp_path / "data"), ADMIN_WRITER_READER)
    try:
        rt = running.server.config.app.state.vigil.extras["runtime"]
        _setup(rt, sagemaker_baseline)
        _hour(Path(rt.settings.capture_root), sagemaker_columns(sagemaker_dir), T15, 0.0)
        with rt.db.session() as s:
            row = s.get(Schedule, "hourly")
            assert row is not None
            row.config = {"features_attribute": 5}  # stored before validation: AttributeError
        w = running.client("writer")
        window = {"window_start": T15.isoformat(), "window_end": T16.isoformat()}
        r = w.post("/schedules/hourly/run", json=window)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "Failed" and "AttributeError" in r.json()["failure_reason"]
        with rt.db.session() as s:
            assert list(s.scalars(select(Execution).where(Execution.status == "InProgress"))) == []
            fixed = s.get(Schedule, "hourly")
            assert fixed is not None
            fixed.config = {}
        again = w.post("/schedules/hourly/run", json=window)
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "Completed" and again.json()["attempt"] == 2
        assert w.post("/schedules/hourly/run", json=window).status_code == 409
    finally:
        running.stop()
