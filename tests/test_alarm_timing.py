"""The time semantics of monitoring figures, at chosen instants (issue 9, item 1 and 2).

A figure describes the window its execution read and is stamped at the start of the
schedule's period that the execution closes, so the hourly run at 16:00 over [15:00, 16:00)
is evaluated in the period [15:00, 16:00) at once; a new alarm without data says nothing; no
alarm reports OK for a period whose execution found drift, has not run or failed; evaluating
at a past time is a preview that changes nothing; evaluating now queues the notifications.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import sagemaker_columns
from test_alarm_service import _hour
from test_runtime import _runtime, cli
from vigil.alerts.service import evaluate_alarms, history
from vigil.app.catalog import register_baseline, upsert_endpoint, upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.metrics import contract as mc
from vigil.monitor.runner import run_scheduled
from vigil.monitor.runtime import Runtime
from vigil.store.models import AlarmHistory, AlarmRecord

T15 = datetime(2024, 5, 1, 15, tzinfo=timezone.utc)
T16 = T15 + timedelta(hours=1)
DIMS = mc.schedule_dimensions("churn", "hourly")


@pytest.fixture
def rt(tmp_path: Path, sagemaker_baseline: Path) -> Runtime:
    """An hourly data-quality schedule over SageMaker's baseline, with its default alarms."""
    runtime = _runtime(tmp_path / "data")
    upsert_endpoint(runtime.db, EndpointSpec(name="churn"))
    register_baseline(
        runtime.settings,
        runtime.db,
        BaselineSpec(name="base", endpoint="churn", path=str(sagemaker_baseline)),
    )
    upsert_schedule(
        runtime.db,
        ScheduleSpec(name="hourly", endpoint="churn", baseline="base", expression="rate(1 hour)"),
    )
    return runtime


def _drifting_hour(rt: Runtime, sagemaker_dir: Path, start: datetime, shift: float) -> None:
    _hour(Path(rt.settings.capture_root), sagemaker_columns(sagemaker_dir), start, shift)


def _states(rt: Runtime) -> dict[str, str]:
    with rt.db.session() as s:
        return {r.name: r.state for r in s.scalars(select(AlarmRecord))}


def test_a_figure_is_stamped_at_the_start_of_the_period_it_describes(
    rt: Runtime, sagemaker_dir: Path
):
    _drifting_hour(rt, sagemaker_dir, T15, 2.0)
    done = run_scheduled(rt, "hourly", T16)
    assert done is not None and done.status == "CompletedWithViolations"
    rows = rt.metrics.query(
        mc.DATA_QUALITY_NAMESPACE, mc.DRIFTED_FEATURES, DIMS, T15 - timedelta(hours=2),
        T16 + timedelta(hours=2), 3600, ["Maximum"],
    )
    assert [r["Timestamp"] for r in rows] == [T15]
    status = rt.metrics.query(
        mc.EXECUTIONS_NAMESPACE, mc.execution_status("CompletedWithViolations"), DIMS,
        T15 - timedelta(hours=2), T16 + timedelta(hours=2), 3600, ["Sum"],
    )
    assert [(r["Timestamp"], r["Sum"]) for r in status] == [(T15, 1.0)]


def test_drift_pages_as_soon_as_the_execution_ends_and_no_ok_goes_out(
    rt: Runtime, sagemaker_dir: Path
):
    _drifting_hour(rt, sagemaker_dir, T15, 2.0)
    run_scheduled(rt, "hourly", T16)
    found = evaluate_alarms(rt.db, rt.metrics, T16 + timedelta(seconds=4))
    moves = {t.alarm: (t.old_state, t.new_state) for t in found}
    assert moves == {
        "hourly-drift": ("INSUFFICIENT_DATA", "ALARM"),
        "hourly-violations": ("INSUFFICIENT_DATA", "ALARM"),
        "hourly-failed": ("INSUFFICIENT_DATA", "OK"),
    }
    drift = next(t for t in found if t.alarm == "hourly-drift")
    assert drift.reason_data["evaluatedDatapoints"][0]["timestamp"].startswith("2024-05-01T15:00")


def test_a_new_alarm_without_data_says_nothing(rt: Runtime):
    """Applying a schedule used to send three OK notifications before any data existed."""
    for minutes in (0, 5, 90, 24 * 60):
        at = T15 + timedelta(minutes=minutes)
        assert evaluate_alarms(rt.db, rt.metrics, at) == [], at
    assert set(_states(rt).values()) == {"INSUFFICIENT_DATA"}


def test_no_ok_for_a_period_that_has_not_run_or_failed(rt: Runtime, sagemaker_dir: Path):
    _drifting_hour(rt, sagemaker_dir, T15, 2.0)
    run_scheduled(rt, "hourly", T16)
    evaluate_alarms(rt.db, rt.metrics, T16 + timedelta(seconds=4))
    # the next period's execution has not run yet, nor any after it (the schedule stopped)
    for hours in (1, 2, 3, 4, 10):
        at = T16 + timedelta(hours=hours, seconds=1)
        found = evaluate_alarms(rt.db, rt.metrics, at)
        assert [t for t in found if t.new_state == "OK"] == [], at
    # the run of [16:00, 17:00) fails (no capture): it writes no drift nor violation count
    failed = run_scheduled(rt, "hourly", T16 + timedelta(hours=1))
    assert failed is not None and failed.status == "Failed"
    found = evaluate_alarms(rt.db, rt.metrics, T16 + timedelta(hours=1, seconds=5))
    assert {(t.alarm, t.new_state) for t in found} <= {("hourly-failed", "ALARM")}
    assert _states(rt)["hourly-drift"] == "ALARM"
    assert _states(rt)["hourly-violations"] == "ALARM"


def test_evaluating_at_a_past_time_is_a_preview(rt: Runtime, sagemaker_dir: Path, tmp_path: Path):
    _drifting_hour(rt, sagemaker_dir, T15, 2.0)
    run_scheduled(rt, "hourly", T16)
    with rt.db.session() as s:
        before = s.scalar(select(func.count(AlarmHistory.id)))
    shown = cli(
        tmp_path / "data", "alarm", "evaluate", "--at", "2024-05-01T16:00:05Z", "--output", "json"
    )
    assert shown.returncode == 0, shown.stderr
    preview = json.loads(shown.stdout)
    assert preview["preview"] is True and preview["states"]["hourly-drift"] == "ALARM"
    assert {t["alarm"] for t in preview["transitions"]} >= {"hourly-drift"}
    with rt.db.session() as s:
        assert s.scalar(select(func.count(AlarmHistory.id))) == before == 0
    assert set(_states(rt).values()) == {"INSUFFICIENT_DATA"}
    # the live evaluation afterwards pages once
    found = evaluate_alarms(rt.db, rt.metrics, T16 + timedelta(seconds=6))
    assert [t.new_state for t in found if t.alarm == "hourly-drift"] == ["ALARM"]
    assert len(history(rt.db, "hourly-drift")) == 1
