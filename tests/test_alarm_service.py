"""Alarms over the drift metrics of real executions: OK -> ALARM -> OK, history, events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from sqlalchemy import select

from conftest import sagemaker_columns
from test_runtime import _runtime, cli, config_file
from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.service import evaluate_alarms, history, put_alarm
from vigil.monitor.runner import run_scheduled
from vigil.store.models import Event

T0 = datetime(2024, 5, 1, 0, tzinfo=timezone.utc)


def _hour(root: Path, cols: dict[str, list[float]], t: datetime, shift: float) -> None:
    rng = np.random.default_rng(int(t.timestamp()))
    folder = root / "churn" / "AllTraffic" / f"{t:%Y/%m/%d/%H}"
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(60):
        pick = rng.integers(0, 100)
        row = ",".join(repr(cols[c][pick] + (shift if c == "_c0" else 0.0)) for c in cols)
        ts = (t + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(
            '{"captureData":{"endpointInput":{"observedContentType":"text/csv",'
            f'"mode":"INPUT","data":"{row}","encoding":"CSV"}}}},"eventMetadata":'
            f'{{"eventId":"{t:%H}-{i}","inferenceTime":"{ts}"}},"eventVersion":"0"}}'
        )
    (folder / "00-00-000-a.jsonl").write_text("\n".join(lines) + "\n")


def drift_alarm(actions: list[str]) -> MetricAlarm:
    """An alarm on feature _c0's drift of the "hourly" schedule over "churn"."""
    return MetricAlarm(
        name="drift-c0",
        namespace="aws/sagemaker/Endpoints/data-metrics",
        metric_name="feature_baseline_drift__c0",
        dimensions={"Endpoint": "churn", "MonitoringSchedule": "hourly"},
        statistic="Maximum",
        period=3600,
        evaluation_periods=1,
        threshold=0.1,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=actions,
        ok_actions=actions,
    )


def test_drift_alarm_transitions_with_reasons(tmp_path: Path, sagemaker_dir: Path):
    data = tmp_path / "data"
    assert cli(data, "apply", "-f", str(config_file(tmp_path, sagemaker_dir))).returncode == 0
    rt = _runtime(data)
    put_alarm(rt.db, drift_alarm(["email-team"]))
    cols = sagemaker_columns(sagemaker_dir)
    states = []
    for h, shift in enumerate([0.0, 0.0, 2.0, 2.0, 0.0]):
        t = T0 + timedelta(hours=h)
        _hour(data / "capture", cols, t, shift)
        run_scheduled(rt, "hourly", t + timedelta(hours=1))
        # the datapoint is stamped at the scheduled time (t + 1h); its hourly period is
        # complete, and so evaluated, once the next hour begins (as CloudWatch does)
        found = evaluate_alarms(rt.db, rt.metrics, t + timedelta(hours=2, minutes=5))
        states.append(
            [(x.old_state, x.new_state, x.actions) for x in found if x.alarm == "drift-c0"]
        )
    assert states == [
        [("INSUFFICIENT_DATA", "OK", ["email-team"])],
        [],  # still OK: actions run on transitions only
        [("OK", "ALARM", ["email-team"])],
        [],
        [("ALARM", "OK", ["email-team"])],
    ]
    entries = history(rt.db, "drift-c0")
    assert [h.new_state for h in entries] == ["OK", "ALARM", "OK"]
    alarm_entry = entries[1]
    assert (
        alarm_entry.reason.startswith("Threshold Crossed: 1 datapoint [")
        and "was greater than the threshold (0.1)" in alarm_entry.reason
    )
    assert alarm_entry.reason_data["threshold"] == 0.1
    with rt.db.session() as s:
        events = list(
            s.scalars(select(Event).where(Event.kind == "alarm_state_change").order_by(Event.time))
        )
    assert [e.detail["state"] for e in events if e.detail["alarm"] == "drift-c0"] == [
        "OK",
        "ALARM",
        "OK",
    ]
    listed = cli(data, "alarm", "list")
    assert "drift-c0  OK" in listed.stdout
    at = cli(data, "alarm", "evaluate", "--at", "2024-05-01T06:05:00Z")
    assert at.returncode == 0 and "0 transition(s)" in at.stdout


def test_a_schedule_gets_default_alarms_that_can_be_turned_off(tmp_path: Path, sagemaker_dir: Path):
    from vigil.store.models import AlarmRecord

    data = tmp_path / "data"
    assert cli(data, "apply", "-f", str(config_file(tmp_path, sagemaker_dir))).returncode == 0
    rt = _runtime(data)
    with rt.db.session() as s:  # (the endpoint's own default alarms aside)
        names = sorted(r.name for r in s.scalars(select(AlarmRecord))
                       if r.spec["description"].startswith("default alarm of schedule"))
    assert names == ["hourly-drift", "hourly-failed", "hourly-violations"]
    cols = sagemaker_columns(sagemaker_dir)
    for h, shift in enumerate([0.0, 2.0]):
        t = T0 + timedelta(hours=h)
        _hour(data / "capture", cols, t, shift)
        run_scheduled(rt, "hourly", t + timedelta(hours=1))
    found = evaluate_alarms(rt.db, rt.metrics, T0 + timedelta(hours=3, minutes=5))
    fired = {t.alarm for t in found if t.new_state == "ALARM"}
    assert fired == {"hourly-drift", "hourly-violations"}
    # a clean run afterwards clears both (execution_status_* carry 0 for the other outcomes)
    _hour(data / "capture", cols, T0 + timedelta(hours=2), 0.0)
    run_scheduled(rt, "hourly", T0 + timedelta(hours=3))
    found = evaluate_alarms(rt.db, rt.metrics, T0 + timedelta(hours=4, minutes=5))
    cleared = {t.alarm for t in found if t.old_state == "ALARM" and t.new_state == "OK"}
    assert cleared == {"hourly-drift", "hourly-violations"}
    off = tmp_path / "off"
    off.mkdir()
    quiet = config_file(off, sagemaker_dir, config="    config:\n      default_alarms: false\n")
    assert cli(tmp_path / "d2", "apply", "-f", str(quiet)).returncode == 0
    with _runtime(tmp_path / "d2").db.session() as s:
        assert [r.name for r in s.scalars(select(AlarmRecord))
                if r.spec["description"].startswith("default alarm of schedule")] == []


def test_default_alarms_use_the_gap_between_runs_as_their_period():
    """Created at any minute of the hour, an hourly schedule's alarms have a 3600 s period."""
    from types import SimpleNamespace

    from vigil.alerts.defaults import default_alarms

    for expression, seconds in [
        ("cron(0 * ? * * *)", 3600),
        ("cron(0 0 ? * * *)", 86400),
        ("rate(5 minutes)", 300),
    ]:
        schedule = SimpleNamespace(
            name="s", expression=expression, endpoint="e", config={}, monitor_type="DataQuality"
        )
        assert {a.period for a in default_alarms(schedule)} == {seconds}, expression
