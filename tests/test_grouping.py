"""Durable Alertmanager-style grouping of a topic's notifications (group_wait,
group_interval, repeat_interval, resolved), kept in the database between evaluations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.models import NotificationGroup
from vigil.alerts.notify import flush_groups, make_outbox, notify_transitions, put_topic, subscribe
from vigil.alerts.service import Transition, put_alarm
from vigil.server.app import open_database
from vigil.settings import Settings

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


def _alarm(name: str) -> MetricAlarm:
    return MetricAlarm(
        name=name,
        namespace="ns",
        metric_name=name,
        dimensions={"Endpoint": "churn"},
        statistic="Maximum",
        period=60,
        evaluation_periods=1,
        threshold=1.0,
        comparison_operator="GreaterThanThreshold",
        alarm_actions=["team"],
        ok_actions=["team"],
    )


def test_grouped_notifications_follow_the_timers(tmp_path: Path):
    db = open_database(Settings(data_dir=tmp_path))
    put_topic(
        db,
        "team",
        {
            "group_by": ["Endpoint"],
            "group_wait": 30,
            "group_interval": 300,
            "repeat_interval": 3600,
            "send_resolved": True,
        },
    )
    subscribe(db, "team", "webhook", {"url": "http://127.0.0.1:9/x"}, id="hook")
    for name in ("a", "b"):
        put_alarm(db, _alarm(name))
    outbox = make_outbox(db)

    def sent() -> list[str]:
        return [
            r.payload["message"]["subject"]
            if "message" in r.payload
            else r.payload.get("subject", "")
            for r in outbox.store.list()
        ]

    def tr(alarm: str, old: str, new: str, at: datetime) -> Transition:
        return Transition(alarm, old, new, f"{alarm} went {new}", {}, ["team"], at)

    at = T0
    notify_transitions(db, outbox, [tr("a", "OK", "ALARM", at)], at)
    assert flush_groups(db, outbox, T0 + timedelta(seconds=10)) == 0  # group_wait
    assert flush_groups(db, outbox, T0 + timedelta(seconds=30)) == 1
    notify_transitions(
        db, outbox, [tr("b", "OK", "ALARM", T0 + timedelta(seconds=60))], T0 + timedelta(seconds=60)
    )
    assert flush_groups(db, outbox, T0 + timedelta(seconds=100)) == 0  # group_interval
    assert flush_groups(db, outbox, T0 + timedelta(seconds=330)) == 1
    assert flush_groups(db, outbox, T0 + timedelta(seconds=1000)) == 0  # unchanged
    assert flush_groups(db, outbox, T0 + timedelta(seconds=330 + 3600)) == 1  # repeat
    back = T0 + timedelta(seconds=5000)
    notify_transitions(
        db, outbox, [tr("a", "ALARM", "OK", back), tr("b", "ALARM", "OK", back)], back
    )
    assert flush_groups(db, outbox, back + timedelta(seconds=300)) == 1
    with db.session() as s:
        assert s.query(NotificationGroup).count() == 0  # the group ended
    subjects = [r.payload["message"]["subject"] for r in outbox.store.list()]
    assert subjects == [
        "[FIRING:1] Endpoint=churn",
        "[FIRING:2] Endpoint=churn",
        "[FIRING:2] Endpoint=churn",
        "[RESOLVED:2] Endpoint=churn",
    ]
    last = outbox.store.list()[-1].payload["message"]
    assert last["payload"]["status"] == "resolved"  # PagerDuty/Alertmanager resolve on it
    assert {a["alarm"] for a in last["payload"]["alerts"]} == {"a", "b"}


def test_ungrouped_topics_still_notify_each_transition_at_once(tmp_path: Path):
    db = open_database(Settings(data_dir=tmp_path))
    put_topic(db, "team")
    subscribe(db, "team", "webhook", {"url": "http://127.0.0.1:9/x"}, id="hook")
    put_alarm(db, _alarm("a"))
    outbox = make_outbox(db)
    t = Transition("a", "OK", "ALARM", "why", {}, ["team"], T0)
    assert notify_transitions(db, outbox, [t], T0) == 1
    assert flush_groups(db, outbox, T0 + timedelta(hours=1)) == 0


def test_inhibition_and_flap_damping(tmp_path: Path):
    from vigil.alerts.models import AlarmHistory, AlarmRecord

    db = open_database(Settings(data_dir=tmp_path))
    put_topic(
        db,
        "team",
        {
            "group_by": ["alarm"],
            "group_wait": 0,
            "group_interval": 0,
            "inhibit_rules": [
                {
                    "source": ['alarm=~".*-failed"'],
                    "target": ['alarm=~".*-drift"'],
                    "equal": ["Endpoint"],
                }
            ],
        },
    )
    subscribe(db, "team", "webhook", {"url": "http://127.0.0.1:9/x"}, id="hook")
    for name in ("s-failed", "s-drift"):
        put_alarm(db, _alarm(name))
    put_alarm(db, _alarm("other-drift").model_copy(update={"dimensions": {"Endpoint": "fraud"}}))
    with db.session() as s:
        s.get(AlarmRecord, "s-failed").state = "ALARM"  # the source fires
    outbox = make_outbox(db)
    drift = Transition("s-drift", "OK", "ALARM", "why", {}, ["team"], T0)
    notify_transitions(db, outbox, [drift], T0)
    assert flush_groups(db, outbox, T0) == 0, "inhibited by s-failed on the same Endpoint"
    # a flapping alarm: more than 4 changes in 30 minutes are damped
    with db.session() as s:
        for i in range(5):
            s.add(
                AlarmHistory(
                    alarm_name="other-drift",
                    time=T0 - timedelta(minutes=i),
                    old_state="OK",
                    new_state="ALARM",
                    reason="",
                    reason_data={},
                    actions=[],
                )
            )
    flap = Transition("other-drift", "OK", "ALARM", "why", {}, ["team"], T0)
    notify_transitions(db, outbox, [flap], T0)
    assert flush_groups(db, outbox, T0) == 0, "damped while flapping"
    calm = T0 + timedelta(hours=2)
    later = Transition("other-drift", "OK", "ALARM", "why", {}, ["team"], calm)
    notify_transitions(db, outbox, [later], calm)
    assert flush_groups(db, outbox, calm) == 1, "stable again: notified"
