"""Durable Alertmanager-style grouping of a topic's notifications (group_wait,
group_interval, repeat_interval, resolved), kept in the database between evaluations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from pg_fixture import postgres_url  # noqa: F401
from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.notify import flush_groups, make_outbox, notify_transitions, put_topic, subscribe
from vigil.alerts.service import Transition, put_alarm
from vigil.app.bootstrap import open_database
from vigil.store.models import NotificationGroup
from vigil.store.settings import Settings

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
    from vigil.store.models import AlarmHistory, AlarmRecord

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


def test_firing_alarms_are_repushed_to_alertmanager_only(tmp_path: Path):
    from vigil.alerts.notify import repush_firing
    from vigil.store.models import AlarmRecord

    db = open_database(Settings(data_dir=tmp_path))
    put_topic(db, "team")
    subscribe(db, "team", "webhook", {"url": "http://127.0.0.1:9/x"}, id="hook")
    subscribe(db, "team", "alertmanager", {"url": "http://127.0.0.1:9"}, id="am")
    put_alarm(db, _alarm("a"))
    put_alarm(db, _alarm("b"))
    with db.session() as s:
        s.get(AlarmRecord, "a").state = "ALARM"
    outbox = make_outbox(db)
    assert repush_firing(db, outbox, T0) == 1  # a only, and only to Alertmanager
    record = outbox.store.list()[0]
    assert record.subscription == "am"
    assert record.payload["message"]["payload"]["status"] == "firing"


def test_batch_alarm_evaluation_agrees_on_postgresql_and_sqlite(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
):
    """The grouped SQL of evaluate_many gives the same states on PostgreSQL as on SQLite."""
    import numpy as np

    from vigil.alerts.alarms import evaluate_many
    from vigil.metrics.datum import MetricDatum
    from vigil.store.db import Database
    from vigil.store.metrics import MetricStore

    rng = np.random.default_rng(3)
    data = [
        MetricDatum(
            "ns", "m", {"host": f"h{h}"}, T0 + timedelta(minutes=i), float(rng.uniform(0, 2))
        )
        for h in range(20)
        for i in range(10)
        if rng.uniform() > 0.2
    ]
    alarms = [
        MetricAlarm(
            name=f"a{h}-{stat}",
            namespace="ns",
            metric_name="m",
            dimensions={"host": f"h{h}"},
            statistic=stat,
            period=60,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            threshold=1.0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data=missing,
        )
        for h in range(20)
        for stat, missing in (
            ("Average", "missing"),
            ("Maximum", "breaching"),
            ("Sum", "notBreaching"),
        )
    ]
    results = []
    for url in (f"sqlite:///{tmp_path / 'a.db'}", postgres_url):
        db = Database(url)
        db.create_all()
        store = MetricStore(db)
        store.put(data)
        results.append(evaluate_many(store, alarms, T0 + timedelta(minutes=10), {}).states)
    assert results[0] == results[1]
    assert set(results[0].values()) >= {"OK", "ALARM"}
