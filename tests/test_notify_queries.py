"""notify_transitions loads labels, subscriptions, silences, inhibition and flap state once
per call: the SQL statements it executes do not grow with the number of transitions, and
what it queues is what notifying the transitions one call at a time queues."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

from pg_fixture import postgres_url  # noqa: F401
from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.notify import (
    add_silence,
    flush_groups,
    make_outbox,
    notify_transitions,
    put_topic,
    subscribe,
)
from vigil.alerts.service import Transition, put_alarm
from vigil.store.db import Database
from vigil.store.models import AlarmHistory, AlarmRecord, NotificationGroup, NotifiedState

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
# name -> Endpoint; e0-failed fires and inhibits e0-drift, e2-drift is silenced,
# e1-latency flaps, e3-quality is quiet
ALARMS = {
    "e3-quality": "e3",
    "e0-drift": "e0",
    "e0-failed": "e0",
    "e1-drift": "e1",
    "e1-latency": "e1",
    "e2-drift": "e2",
}
ACTIONS = [["ops", "team"], ["oncall"], ["ops", "oncall", "team", "retrain"], ["team"]]
CYCLE = ["ALARM", "OK", "INSUFFICIENT_DATA", "ALARM", "INSUFFICIENT_DATA", "OK", "ALARM"]


def _alarm(name: str, endpoint: str) -> MetricAlarm:
    return MetricAlarm(
        name=name,
        namespace="ns",
        metric_name=name,
        dimensions={"Endpoint": endpoint},
        statistic="Maximum",
        period=60,
        evaluation_periods=1,
        threshold=1.0,
        comparison_operator="GreaterThanThreshold",
    )


def _setup(tmp_path: Path, name: str) -> Database:
    db = Database(f"sqlite:///{tmp_path / name}.db")
    db.create_all()
    return _populate(db)


def _populate(db: Database) -> Database:
    put_topic(db, "ops")
    put_topic(db, "oncall")
    put_topic(
        db,
        "team",
        {
            "group_by": ["Endpoint"],
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
    subscribe(db, "ops", "webhook", {"url": "http://127.0.0.1:9/ops"}, id="ops-hook")
    subscribe(
        db,
        "ops",
        "webhook",
        {"url": "http://127.0.0.1:9/pager"},
        id="ops-pager",
        filter_policy={"state": ["ALARM"]},
    )
    subscribe(db, "oncall", "alertmanager", {"url": "http://127.0.0.1:9"}, id="oncall-am")
    subscribe(db, "team", "webhook", {"url": "http://127.0.0.1:9/team"}, id="team-hook")
    for name, endpoint in ALARMS.items():
        put_alarm(db, _alarm(name, endpoint))
    with db.session() as s:
        s.get(AlarmRecord, "e0-failed").state = "ALARM"  # the inhibition source fires
        for i in range(5):  # e1-latency flaps: five changes in the last 30 minutes
            s.add(
                AlarmHistory(
                    alarm_name="e1-latency",
                    time=T0 - timedelta(minutes=i),
                    old_state="OK",
                    new_state="ALARM",
                    reason="",
                    reason_data={},
                    actions=[],
                )
            )
    add_silence(db, ['alarm="e2-drift"'], T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    return db


def _transitions(n: int) -> list[Transition]:
    """``n`` transitions over the alarms, each alarm walking through CYCLE."""
    names = [n for n in ALARMS if n != "e0-failed"]
    state = dict.fromkeys(names, "INSUFFICIENT_DATA")
    out = []
    for i in range(n):
        name = names[i % len(names)]
        new = CYCLE[(i // len(names)) % len(CYCLE)]
        if new == state[name]:
            new = "ALARM" if new != "ALARM" else "OK"
        out.append(
            Transition(
                name,
                state[name],
                new,
                f"{name} went {new}",
                {"i": i},
                ACTIONS[i % len(ACTIONS)],
                T0 + timedelta(seconds=i),
            )
        )
        state[name] = new
    return out


@contextmanager
def _counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _snapshot(db: Database) -> dict[str, Any]:
    """What was queued and remembered, without the random message ids."""
    outbox = make_outbox(db)
    queued = []
    for r in outbox.store.list():
        message = {k: v for k, v in r.payload["message"].items() if k != "id"}
        queued.append((r.subscription, r.topic, r.protocol, message))
    with db.session() as s:
        notified = sorted((n.alarm, n.topic, n.state) for n in s.scalars(select(NotifiedState)))
        groups = sorted(
            (g.topic, g.group_key, g.labels, g.members, g.sent_firing, g.changed)
            for g in s.scalars(select(NotificationGroup))
        )
    return {"queued": queued, "notified": notified, "groups": groups}


def _count(db: Database, transitions: list[Transition]) -> tuple[int, int]:
    """The statements of one notify_transitions call, and the deliveries it queued."""
    with _counting(db) as statements:
        queued = notify_transitions(db, make_outbox(db), transitions, T0)
    repeated = [s for s, n in Counter(statements).items() if n > 1]
    assert not repeated, f"executed more than once in one call: {repeated}"
    return len(statements), queued


def test_statements_do_not_grow_with_the_transitions(tmp_path: Path):
    first, second = {}, {}  # on a fresh database; then with groups and states stored
    for n in (1, 10, 50):
        db = _setup(tmp_path, f"n{n}")
        transitions = _transitions(2 * n)
        first[n], queued = _count(db, transitions[:n])
        assert queued > 0
        second[n], _ = _count(db, transitions[n:])
    print("statements per notify_transitions call:", first, second)
    # 7 reads, one insert per table written, 3 for the outbox (one insert of every delivery)
    assert first[1] == first[10] == first[50] == 12, first
    # then updates of the stored groups and states besides: one statement each, batched
    assert max(second.values()) <= first[1] + 2, (first, second)


def test_one_call_queues_what_one_call_per_transition_queues(tmp_path: Path):
    transitions = _transitions(50)
    batch = _setup(tmp_path, "batch")
    one_by_one = _setup(tmp_path, "one")
    queued_batch = notify_transitions(batch, make_outbox(batch), transitions, T0)
    queued_each = sum(
        notify_transitions(one_by_one, make_outbox(one_by_one), [t], T0) for t in transitions
    )
    assert queued_batch == queued_each
    assert _snapshot(batch) == _snapshot(one_by_one)
    for db in (batch, one_by_one):
        flush_groups(db, make_outbox(db), T0 + timedelta(minutes=1))
    after = _snapshot(batch)
    assert after == _snapshot(one_by_one)
    sent = [
        (sub, m["attributes"].get("alarm"), m["attributes"].get("state"))
        for sub, _, _, m in after["queued"]
    ]
    alarms = {alarm for _, alarm, _ in sent}
    assert "e2-drift" not in alarms  # silenced
    assert ("ops-hook", "e0-drift", "ALARM") not in sent  # inhibited by e0-failed
    assert all(state == "ALARM" for sub, _, state in sent if sub == "ops-pager")  # filtered
    assert not any(
        alarm == "e1-latency" and state != "OK" for _, alarm, state in sent
    )  # flapping, damped
    assert {sub for sub, _, _ in sent} == {"ops-hook", "ops-pager", "oncall-am", "team-hook"}


def test_transitions_of_one_call_see_each_other(tmp_path: Path):
    """An ALARM then its OK in one call: the OK's resolve is owed, as it was in two calls."""
    db = _setup(tmp_path, "db")
    outbox = make_outbox(db)
    firing = Transition("e3-quality", "OK", "ALARM", "up", {}, ["ops", "team"], T0)
    back = Transition("e3-quality", "ALARM", "OK", "down", {}, ["ops", "team"], T0)
    assert notify_transitions(db, outbox, [firing, back], T0) == 3  # hook + pager, then hook
    subjects = [(r.subscription, r.payload["message"]["subject"]) for r in outbox.store.list()]
    assert subjects == [
        ("ops-hook", '[WARNING] ALARM: "e3-quality" in vigil'),
        ("ops-pager", '[WARNING] ALARM: "e3-quality" in vigil'),
        ("ops-hook", '[WARNING] OK: "e3-quality" in vigil'),
    ]
    with db.session() as s:
        group = s.get(NotificationGroup, ("team", '{"Endpoint":"e3"}'))
        assert group.members == {
            "e3-quality": {"state": "OK", "reason": "down", "severity": "warning"}
        }
        assert s.get(NotifiedState, ("e3-quality", "ops")).state == "OK"


def _fresh_postgres(url: str, name: str) -> Database:
    """A new, empty database ``name`` on the test cluster."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    db = Database(make_url(url).set(database=name).render_as_string(hide_password=False))
    db.create_all()
    return _populate(db)


def test_the_same_on_postgresql(postgres_url: str):  # noqa: F811
    transitions = _transitions(100)
    batch = _fresh_postgres(postgres_url, "notify_batch")
    one_by_one = _fresh_postgres(postgres_url, "notify_each")
    try:
        counts = [_count(batch, transitions[:50])[0], _count(batch, transitions[50:])[0]]
        for t in transitions:
            notify_transitions(one_by_one, make_outbox(one_by_one), [t], T0)
        assert _snapshot(batch) == _snapshot(one_by_one)
        print("statements on PostgreSQL (fresh, stored):", counts)
        assert max(counts) <= 14, counts
    finally:
        batch.dispose()
        one_by_one.dispose()
