"""The metric store on a real PostgreSQL: datapoints partitioned by UTC day.

Partitions are read from PostgreSQL's own catalog (``pg_partition_tree``, ``pg_inherits``,
``pg_get_expr`` of the bounds, ``tableoid`` of each row), never from the store's code. The
same datapoints put into SQLite (one plain table, checked against brute force in
tests/test_store.py) are the reference for the query results and the alarm states.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pg_fixture import postgres_url  # noqa: F401
from vigil.alerts.alarms import MetricAlarm, evaluate_many, fetch_and_evaluate
from vigil.app.bootstrap import open_database
from vigil.app.scheduler import apply_retention, prepare_partitions
from vigil.monitor.runtime import Runtime
from vigil.store import Database, MetricDatum, MetricStore
from vigil.store.migrations import config, differences, upgrade
from vigil.store.schema_version import head
from vigil.store.settings import Settings

UTC = timezone.utc
T0 = datetime(2024, 5, 1, 22, 0, tzinfo=UTC)
_NUMBER = 0


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:  # noqa: F811
    """A fresh database of its own on the session's cluster, created at head."""
    db = _fresh(postgres_url)
    db.create_all()
    yield db
    db.dispose()


def _fresh(url: str) -> Database:
    global _NUMBER
    _NUMBER += 1
    name = f"partitions_{_NUMBER}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return Database(make_url(url).set(database=name).render_as_string(hide_password=False))


def _partitions(db: Database) -> dict[str, str]:
    """Every partition of datapoints with its bound, as PostgreSQL's catalog has it."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.relid::regclass::text, pg_get_expr(c.relpartbound, c.oid) "
                "FROM pg_partition_tree('datapoints') t JOIN pg_class c ON c.oid = t.relid "
                "WHERE t.isleaf"
            )
        )
        return dict(rows.all())


def _rows_per_partition(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tableoid::regclass::text, count(*) FROM datapoints GROUP BY 1")
        )
        return dict(rows.all())


def _bound(day: str, after: str) -> str:
    return f"FOR VALUES FROM ('{day} 00:00:00+00') TO ('{after} 00:00:00+00')"


def _mixed(n: int, seed: int) -> list[MetricDatum]:
    """Raw values and statistic sets of a few series over three days, with ties and units."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        t = T0 + timedelta(seconds=rng.randrange(0, 3 * 86400))
        dims = {"Endpoint": f"e{rng.randrange(3)}"}
        if rng.random() < 0.2:  # a statistic set; one with min < max hides its period's ranks
            low, high = sorted(rng.choice([1.0, 2.5, 7.0]) for _ in range(2))
            if i % 40:
                high = low
            count = float(rng.randint(1, 5))
            out.append(MetricDatum("ns", "latency", dims, t, None, unit="Milliseconds",
                                   sample_count=count, sum=count * (low + high) / 2,
                                   minimum=low, maximum=high))  # fmt: skip
        else:
            value = float(rng.choice([rng.randint(0, 20), rng.random() * 100]))
            out.append(MetricDatum("ns", "latency", dims, t, value, unit="Milliseconds"))
    return out


def test_puts_make_day_partitions_ahead_of_need(pg: Database) -> None:
    store = MetricStore(pg, batch_size=7)
    data = _mixed(60, seed=1)
    assert store.put(data) == 60
    days = sorted({d.timestamp.date() for d in data})
    assert days == [date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3), date(2024, 5, 4)]
    expected = {
        f"datapoints_p{d:%Y%m%d}": _bound(f"{d}", f"{d + timedelta(days=1)}")
        for d in [*days, days[-1] + timedelta(days=1)]  # and the next day, ready before midnight
    }
    assert _partitions(pg) == expected
    # every row in the partition of its own UTC day
    per_day: dict[str, int] = {}
    for d in data:
        name = f"datapoints_p{d.timestamp:%Y%m%d}"
        per_day[name] = per_day.get(name, 0) + 1
    assert _rows_per_partition(pg) == per_day
    with pg.engine.connect() as conn:  # the parent itself is partitioned by range of timestamp
        strategy = conn.execute(text(
            "SELECT partstrat, pg_get_partkeydef('datapoints'::regclass) FROM pg_partitioned_table"
            " WHERE partrelid = 'datapoints'::regclass"
        )).one()  # fmt: skip
    assert tuple(strategy) == ("r", 'RANGE ("timestamp")')


def test_a_put_far_in_the_past_or_future_makes_its_partition(pg: Database) -> None:
    store = MetricStore(pg)
    far = [datetime(1970, 1, 1, tzinfo=UTC), datetime(2999, 6, 30, 23, 59, 59, tzinfo=UTC),
           datetime(9999, 12, 31, 23, 0, tzinfo=UTC)]  # fmt: skip
    for i, t in enumerate(far):
        assert store.put([MetricDatum("ns", "m", {}, t, float(i))]) == 1
    found = _partitions(pg)
    assert found["datapoints_p19700101"] == _bound("1970-01-01", "1970-01-02")
    assert found["datapoints_p29990630"] == _bound("2999-06-30", "2999-07-01")
    assert found["datapoints_p99991231"] == _bound("9999-12-31", "10000-01-01")
    # a second store (another process) finds them and puts into them
    other = MetricStore(pg)
    assert other.put([MetricDatum("ns", "m", {}, far[1] - timedelta(hours=1), 5.0)]) == 1
    rows = other.query("ns", "m", {}, far[1] - timedelta(days=1), far[1] + timedelta(days=1),
                       86400, ["SampleCount", "Sum"])  # fmt: skip
    assert [(r["SampleCount"], r["Sum"]) for r in rows] == [(2.0, 6.0)]
    assert len(found) == 5  # the three days, and the day after the first two


def test_a_partition_made_inside_a_put_rolls_back_with_it(pg: Database) -> None:
    """A batch after the first makes its partition in the put's own transaction: a failed
    put leaves neither its series nor that partition, and the next put makes both again."""
    store = MetricStore(pg, batch_size=1)
    good = [MetricDatum("ns", "fresh", {}, T0, 1.0),
            MetricDatum("ns", "fresh", {}, T0 + timedelta(days=5), 2.0)]  # fmt: skip
    with pytest.raises(Exception, match="expected a MetricDatum"):
        store.put([*good, "bad"])  # type: ignore[list-item]
    # the first batch's days were made in a transaction of their own; the later one not
    assert set(_partitions(pg)) == {"datapoints_p20240501", "datapoints_p20240502"}
    assert store.put(good) == 2
    assert set(_rows_per_partition(pg)) == {"datapoints_p20240501", "datapoints_p20240506"}
    assert "datapoints_p20240507" in _partitions(pg)


def test_retention_drops_whole_days_and_cuts_the_straddling_one(pg: Database) -> None:
    store = MetricStore(pg)
    data = [MetricDatum("ns", "m", {"d": str(i % 3)}, T0 + timedelta(hours=i), float(i))
            for i in range(24 * 5)]  # fmt: skip
    store.put(data)
    before = set(_partitions(pg))
    cutoff = datetime(2024, 5, 3, 6, 30, tzinfo=UTC)
    older = sum(d.timestamp < cutoff for d in data)
    assert store.apply_retention(cutoff) == older
    after = _partitions(pg)
    gone = {"datapoints_p20240501", "datapoints_p20240502"}
    assert before - set(after) == gone
    with pg.engine.connect() as conn:
        assert [conn.scalar(text(f"SELECT to_regclass('{t}')")) for t in gone] == [None, None]
        kept = conn.execute(text("SELECT value FROM datapoints ORDER BY value")).scalars().all()
    assert kept == [d.value for d in data if d.timestamp >= cutoff]
    assert store.apply_retention(cutoff) == 0
    # the store forgot the dropped days: a late put into one makes it again
    assert store.put([MetricDatum("ns", "m", {"d": "0"}, T0, 1.0)]) == 1
    assert "datapoints_p20240501" in _partitions(pg)


def test_the_scheduler_prepares_the_coming_days_and_applies_retention(
    pg: Database, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=pg.url)
    db = open_database(settings)
    rt = Runtime(settings=settings, db=db, metrics=MetricStore(db), owner="w1")
    now = datetime(2024, 6, 10, 12, tzinfo=UTC)
    assert prepare_partitions(rt, now) == 3  # today and the next two days
    assert set(_partitions(pg)) == {"datapoints_p20240610", "datapoints_p20240611",
                                    "datapoints_p20240612"}
    assert prepare_partitions(rt, now) == 0
    assert prepare_partitions(rt, now + timedelta(hours=13)) == 1  # after midnight: one more
    rt.metrics.put([MetricDatum("ns", "m", {}, now - timedelta(days=d), 1.0) for d in (1, 40)])
    rt.settings.metric_retention_days = 30
    assert apply_retention(rt, now=now) == 1
    assert "datapoints_p20240501" not in _partitions(pg)
    assert MetricStore(Database("sqlite://")).prepare_partitions(now, now) == []
    db.dispose()


STATISTICS = ["SampleCount", "Sum", "Average", "Minimum", "Maximum", "p0", "p10", "p50", "p90",
              "p99", "p99.9", "p100"]  # fmt: skip


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> int:
    """Assert the rows agree; how many percentiles they hold (not hidden)."""
    assert [r["Timestamp"] for r in a] == [r["Timestamp"] for r in b]
    ranks = 0
    for x, y in zip(a, b):
        assert x["Unit"] == y["Unit"]
        for s in STATISTICS:
            if y[s] is None:
                assert x[s] is None, (x["Timestamp"], s)
            else:
                assert x[s] == pytest.approx(y[s], rel=1e-12, abs=1e-12), (x["Timestamp"], s)
                ranks += s.startswith("p")
    return ranks


def test_queries_on_postgresql_equal_those_on_sqlite(pg: Database) -> None:
    data = _mixed(3000, seed=7)
    lite = Database("sqlite://")
    lite.create_all()
    MetricStore(lite).put(data)
    MetricStore(pg, batch_size=500).put(data)
    start, end = T0 - timedelta(hours=1), T0 + timedelta(days=3)
    pg_store, lite_store = MetricStore(pg), MetricStore(lite)
    for period in (60, 3600, 86400, 7 * 86400):
        for dims in (None, {"Endpoint": "e1"}):
            got = pg_store.query("ns", "latency", dims, start, end, period, STATISTICS)
            want = lite_store.query("ns", "latency", dims, start, end, period, STATISTICS)
            assert len(got) > 1 or period >= 86400
            assert _same(got, want) > 0
    # a range inside one day and across midnight: pruned to its partitions, same answers
    for s, e in [(T0 + timedelta(hours=3), T0 + timedelta(hours=5)),
                 (T0 + timedelta(hours=1, minutes=30), T0 + timedelta(hours=2, minutes=30))]:
        _same(pg_store.query("ns", "latency", None, s, e, 300, STATISTICS),
              lite_store.query("ns", "latency", None, s, e, 300, STATISTICS))  # fmt: skip
    assert pg_store.list_metrics() == lite_store.list_metrics()


def _alarms(n: int) -> list[MetricAlarm]:
    rng = random.Random(3)
    out = []
    stats = ["Sum", "Average", "Minimum", "Maximum", "SampleCount", "p90"]
    ops = ["GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold",
           "LessThanOrEqualToThreshold"]  # fmt: skip
    for i in range(n):
        k = rng.randint(1, 5)
        stat = stats[i % len(stats)]
        out.append(MetricAlarm(
            name=f"a{i}", namespace="ns", metric_name="score", dimensions={"Series": str(i % 40)},
            statistic=stat, period=rng.choice([60, 300]), evaluation_periods=k,
            datapoints_to_alarm=rng.randint(1, k), comparison_operator=rng.choice(ops),
            threshold=1.5 if stat == "SampleCount" else rng.uniform(0.2, 0.8),
            treat_missing_data=rng.choice(["missing", "notBreaching", "breaching", "ignore"]),
        ))  # fmt: skip
    return out


def _rounded(reason: str) -> str:
    return re.sub(r"\d+\.\d{6,}", lambda m: f"{float(m[0]):.9g}", reason)


def test_alarm_states_on_postgresql_equal_those_on_sqlite(pg: Database) -> None:
    """40 series over midnight, with holes; 120 alarms evaluated at times whose ranges lie in
    one day's partition and across two."""
    rng = random.Random(11)
    start = datetime(2024, 5, 1, 23, 20, tzinfo=UTC)
    data = [
        MetricDatum("ns", "score", {"Series": str(s)}, start + timedelta(minutes=m, seconds=5),
                    rng.random())
        for s in range(40) for m in range(80) if rng.random() > 0.15 * (s % 4)
    ]  # fmt: skip
    lite = Database("sqlite://")
    lite.create_all()
    MetricStore(lite).put(data)
    MetricStore(pg).put(data)
    assert len(_partitions(pg)) == 3  # May 1st, 2nd, and the 3rd ready
    alarms = _alarms(120)
    for now in [start + timedelta(minutes=25), start + timedelta(minutes=42),
                start + timedelta(minutes=80)]:  # fmt: skip
        current = {a.name: "INSUFFICIENT_DATA" for a in alarms}
        on_pg = evaluate_many(MetricStore(pg), alarms, now, current)
        on_lite = evaluate_many(MetricStore(lite), alarms, now, current)
        assert on_pg.states == on_lite.states
        # the reasons alike, but for the last digits of sums added in another order
        assert [_rounded(e.reason) for e in on_pg.transitions] == [
            _rounded(e.reason) for e in on_lite.transitions
        ]
        assert {"OK", "ALARM"} <= set(on_pg.states.values())
        for a in alarms[:12]:
            one = fetch_and_evaluate(MetricStore(pg), a, now, "OK")
            assert one.state == fetch_and_evaluate(MetricStore(lite), a, now, "OK").state


def test_a_cycle_of_many_alarms_on_postgresql_is_one_statement_a_period(pg: Database) -> None:
    """3,000 alarms over 2,500 series, 500 of them never written: one series lookup and one
    grouped query per period, each with the ids as one array; the states equal SQLite's."""
    from sqlalchemy import event

    start = datetime(2024, 5, 1, 10, tzinfo=UTC)
    data = [MetricDatum("ns", "load", {"Host": str(s)}, start + timedelta(minutes=m), float(s % 7))
            for s in range(2_000) for m in range(6)]  # fmt: skip
    lite = Database("sqlite://")
    lite.create_all()
    for db in (pg, lite):
        MetricStore(db).put(data)
    alarms = [MetricAlarm(
        name=f"h{i}", namespace="ns", metric_name="load", dimensions={"Host": str(i % 2_500)},
        statistic="Maximum" if i % 2 else "Average", period=60 if i % 3 else 300,
        evaluation_periods=3, threshold=3.0, comparison_operator="GreaterThanThreshold",
    ) for i in range(3_000)]  # fmt: skip
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    event.listen(pg.engine, "before_cursor_execute", seen)
    try:
        now = start + timedelta(minutes=6)
        on_pg = evaluate_many(MetricStore(pg), alarms, now, {})
    finally:
        event.remove(pg.engine, "before_cursor_execute", seen)
    assert len(statements) == 3, statements  # the lookup, then periods 60 and 300
    assert all("ANY" in s and len(s) < 2_000 for s in statements)
    assert on_pg.states == evaluate_many(MetricStore(lite), alarms, now, {}).states
    missing = {a.name for a in alarms if int(a.dimensions["Host"]) >= 2_000}
    assert {on_pg.states[n] for n in missing} == {"INSUFFICIENT_DATA"}
    assert {"OK", "ALARM"} <= set(on_pg.states.values())


def test_the_migration_partitions_an_existing_table_keeping_every_row(
    postgres_url: str,  # noqa: F811
) -> None:
    db = _fresh(postgres_url)
    try:
        upgrade(db, "0004")  # the plain table of the revisions before
        data = _mixed(400, seed=5)
        MetricStore(db).put(data)  # a plain table: no partitions made
        select_all = text("SELECT * FROM datapoints ORDER BY id")
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM pg_partitioned_table")) == 0
            before = conn.execute(select_all).all()
            last_id = conn.scalar(text("SELECT max(id) FROM datapoints"))
        start, end = T0, T0 + timedelta(days=3)
        queried = MetricStore(db).query("ns", "latency", None, start, end, 3600, STATISTICS)
        assert upgrade(db).after == head()
        with db.engine.connect() as conn:
            assert conn.execute(select_all).all() == before
        assert set(_partitions(db)) == {"datapoints_p20240501", "datapoints_p20240502",
                                        "datapoints_p20240503", "datapoints_p20240504"}
        assert sum(_rows_per_partition(db).values()) == len(data)
        assert differences(db) == []
        store = MetricStore(db)
        _same(store.query("ns", "latency", None, start, end, 3600, STATISTICS), queried)
        store.put([MetricDatum("ns", "latency", {}, T0, 1.0)])  # the id sequence goes on
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT max(id) FROM datapoints")) == last_id + 1
        with db.engine.begin() as conn:  # and back: one plain table, every row kept
            command.downgrade(config(conn), "0004")
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM pg_partitioned_table")) == 0
            assert conn.execute(select_all).all()[:-1] == before
    finally:
        db.dispose()


def test_writers_making_the_same_days_together_make_each_once(pg: Database) -> None:
    """Four stores (as four servers would) put into the same new days at once: every put
    lands, each day has one partition."""
    days = [datetime(2025, 1, d, 12, tzinfo=UTC) for d in (1, 2, 3)]
    barrier = threading.Barrier(4)

    def put(k: int) -> int:
        store = MetricStore(pg)
        barrier.wait()
        return store.put(MetricDatum("ns", "m", {"k": str(k)}, t, float(k)) for t in days)

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(put, range(4))) == [3, 3, 3, 3]
    assert set(_partitions(pg)) == {f"datapoints_p2025010{d}" for d in (1, 2, 3, 4)}
    assert sum(_rows_per_partition(pg).values()) == 12
