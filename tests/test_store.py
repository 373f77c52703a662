"""The storage layer against SQLite and a real PostgreSQL: models, metrics, exactly-once runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from math import ceil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

import vigil.store as store
from pg_fixture import postgres_url  # noqa: F401
from vigil.errors import ConfigError, InputError, VigilError
from vigil.store import (
    ApiToken,
    BaselineRecord,
    Database,
    Datapoint,
    Endpoint,
    Execution,
    ExecutionNotFoundError,
    ExecutionStatus,
    LeaseLostError,
    MetricDatum,
    MetricSeries,
    MetricStore,
    Schedule,
    claim_execution,
    claim_rerun,
    finish_execution,
    get_execution,
    list_executions,
    nearest_rank,
    recover_interrupted,
    renew_lease,
    series_key,
)

UTC = timezone.utc
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, empty database: a SQLite file, or the session's PostgreSQL emptied."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'vigil.db'}")
    else:
        database = Database(request.getfixturevalue("postgres_url"))
        store.Base.metadata.drop_all(database.engine)
    database.create_all()
    yield database
    database.dispose()


def exact_nearest_rank(values: list[float], p: str) -> float:
    """Nearest rank by the book, in exact arithmetic: the ceil(p/100 * N)-th smallest."""
    ordered = sorted(values)
    rank = max(ceil(Fraction(p) * len(ordered) / 100), 1)
    return ordered[rank - 1]


# -- database and models -------------------------------------------------------------------


def test_public_names() -> None:
    assert set(store.__all__) == {
        "ENV_URL", "UNITS", "ApiToken", "Base", "BaselineRecord", "Database",
        "DatabaseURLError", "Datapoint", "Endpoint", "Execution", "ExecutionNotFoundError",
        "ExecutionStatus", "LeaseLostError", "MetricDatum", "MetricSeries", "MetricStore",
        "NotFoundError", "Schedule", "UTCDateTime", "as_utc", "claim_execution", "claim_rerun",
        "dimensions_key", "finish_execution", "get_execution", "list_executions",
        "nearest_rank", "parse_statistics", "period_start", "recover_interrupted",
        "renew_lease", "series_key", "utcnow", "audit",
    }  # fmt: skip
    assert all(hasattr(store, name) for name in store.__all__)


def test_from_env_defaults_to_sqlite_under_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data" / "nested"
    db = Database.from_env(data_dir, environ={})
    assert db.dialect == "sqlite"
    db.create_all()
    assert (data_dir / "vigil.db").is_file()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    other = Database.from_env(data_dir, environ={"VIGIL_DATABASE_URL": "sqlite://"})
    assert str(other.engine.url) == "sqlite://"


def test_postgres_urls_use_psycopg3() -> None:
    db = Database("postgresql://u:secret@db.example:5432/vigil")
    assert db.engine.url.drivername == "postgresql+psycopg"
    assert "secret" not in repr(db)
    assert Database.normalize_url("postgres://h/x") == "postgresql+psycopg://h/x"
    with pytest.raises(store.DatabaseURLError, match=r"\[database_url\]"):
        Database("nosuchdialect://x")


def test_models_round_trip(db: Database) -> None:
    with db.session() as s:
        s.add(Endpoint(name="churn", capture_uri="file:///captures/churn"))
        s.add(BaselineRecord(name="churn-v1", endpoint_name="churn", uri="file:///b/churn-v1"))
        s.flush()
        s.add(
            Schedule(
                name="churn-hourly",
                endpoint_name="churn",
                baseline_name="churn-v1",
                expression="cron(0 * ? * * *)",
                config={"features": ["age"], "threshold": 0.1},
            )
        )
        s.add(ApiToken(name="ci", token_hash=ApiToken.hash_secret("s3cret"), scopes="read,write"))
    with db.session() as s:
        endpoint = s.get(Endpoint, "churn")
        schedule = s.get(Schedule, "churn-hourly")
        baseline = s.get(BaselineRecord, "churn-v1")
        token = s.scalars(select(ApiToken).where(ApiToken.name == "ci")).one()
    assert endpoint is not None and endpoint.variant == "AllTraffic"
    assert endpoint.created_at.tzinfo is UTC
    assert baseline is not None and baseline.kind == "data_quality"
    assert schedule is not None
    assert (schedule.window_start_offset, schedule.window_end_offset) == (None, None)
    assert (schedule.monitor_type, schedule.status) == ("DataQuality", "Scheduled")
    assert schedule.config == {"features": ["age"], "threshold": 0.1}
    assert schedule.updated_at.tzinfo is UTC and schedule.last_scheduled_time is None
    assert token.token_hash == ApiToken.hash_secret("s3cret") and not token.revoked
    assert token.scope_list == ["read", "write"] and len(token.id) == 32
    # Foreign keys are enforced on both backends.
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(Schedule(name="orphan", endpoint_name="nope", expression="rate(1 hour)"))


def test_timestamps_come_back_aware_utc(db: Database) -> None:
    paris = timezone(timedelta(hours=2))
    local = datetime(2024, 5, 1, 14, 30, 15, 123456, tzinfo=paris)
    with db.session() as s:
        s.add(Endpoint(name="e", created_at=local))
    with db.session() as s:
        stored = s.get(Endpoint, "e")
        assert stored is not None
        assert stored.created_at == local and stored.created_at.tzinfo is UTC
        assert stored.created_at.hour == 12
        found = s.scalars(select(Endpoint).where(Endpoint.created_at >= local)).all()
        assert [e.name for e in found] == ["e"]


# -- metric store --------------------------------------------------------------------------


def _series(
    rng: np.random.Generator, n: int, dims: dict[str, str], seconds: float
) -> list[MetricDatum]:
    offsets = rng.uniform(0, seconds, n)
    values = rng.lognormal(3.0, 1.0, n).round(3)
    return [
        MetricDatum(
            "vigil/Test",
            "latency",
            dims,
            T0 + timedelta(seconds=float(o)),
            float(v),
            unit="Milliseconds",
        )
        for o, v in zip(offsets, values)
    ]


def test_put_and_query_every_statistic(db: Database) -> None:
    rng = np.random.default_rng(7)
    ms = MetricStore(db, batch_size=500)  # several batches in one put
    a = _series(rng, 1700, {"Endpoint": "a", "Variant": "v1"}, 3600)
    b = _series(rng, 600, {"Endpoint": "b", "Variant": "v1"}, 3600)
    assert ms.put(a + b) == 2300
    stats = ["SampleCount", "Sum", "Average", "Minimum", "Maximum", "p0", "p50", "p90", "p99",
             "p99.9", "p100"]  # fmt: skip
    rows = ms.query("vigil/Test", "latency", {"Variant": "v1", "Endpoint": "a"}, T0,
                    T0 + timedelta(hours=1), 600, stats)  # fmt: skip
    assert len(rows) == 6
    for row in rows:
        start = row["Timestamp"]
        values = np.array(
            [d.value for d in a if start <= d.timestamp < start + timedelta(seconds=600)]
        )
        assert row["Unit"] == "Milliseconds"
        assert row["SampleCount"] == len(values)
        assert row["Sum"] == pytest.approx(values.sum(), rel=1e-12)
        assert row["Average"] == pytest.approx(values.mean(), rel=1e-12)
        assert (row["Minimum"], row["Maximum"]) == (values.min(), values.max())
        for p in (0, 50, 90, 99, 99.9, 100):
            key = f"p{p}"
            assert row[key] == np.percentile(values, p, method="inverted_cdf"), key
            assert row[key] == exact_nearest_rank(list(values), str(p)), key


def test_percentiles_hand_computed(db: Database) -> None:
    ms = MetricStore(db)
    ms.put(MetricDatum("ns", "m", {}, T0 + timedelta(seconds=i), float(v))
           for i, v in enumerate([7, 1, 10, 3, 5, 9, 2, 8, 4, 6]))  # fmt: skip
    (row,) = ms.query("ns", "m", {}, T0, T0 + timedelta(minutes=1), 60,
                      ["p10", "p50", "p90", "p91", "p99.99", "Average"])  # fmt: skip
    # Nearest rank of 1..10: p50 is the 5th value, p91 the 10th (ceil(9.1)), never 5.5.
    assert (row["p10"], row["p50"], row["p90"], row["p91"], row["p99.99"]) == (1, 5, 9, 10, 10)
    assert row["Average"] == 5.5


@given(
    st.lists(st.integers(-1000, 1000), min_size=1, max_size=60),
    st.lists(st.integers(1, 5), min_size=60, max_size=60),
    st.sampled_from(["0", "1", "25", "50", "66.67", "90", "99", "99.9", "100"]),
)
@settings(max_examples=150, deadline=None)
def test_nearest_rank_matches_the_definition(values: list[int], weights: list[int], p: str) -> None:
    vals = np.array(values, dtype=float)
    w = np.array(weights[: len(values)], dtype=float)
    groups = np.array([i % 2 for i in range(len(values))])
    distinct, out = nearest_rank(groups, vals, w, [float(p)])
    for row, g in enumerate(distinct):
        # A weight of k is k copies of the value: compare with the expanded list.
        expanded = list(np.repeat(vals[groups == g], w[groups == g].astype(int)))
        assert out[row, 0] == exact_nearest_rank(expanded, p)


def test_periods_align_to_the_epoch(db: Database) -> None:
    ms = MetricStore(db)
    times = [
        T0 + timedelta(minutes=4, seconds=59, microseconds=999_999),
        T0 + timedelta(minutes=5),
        T0 + timedelta(minutes=21),
    ]
    ms.put(MetricDatum("ns", "m", {}, t, float(i)) for i, t in enumerate(times))
    # The query starts off the grid: periods still start on multiples of 300 s since 1970.
    rows = ms.query("ns", "m", {}, T0 + timedelta(minutes=2), T0 + timedelta(hours=1), 300,
                    ["SampleCount", "Sum"])  # fmt: skip
    assert [(r["Timestamp"], r["SampleCount"], r["Sum"]) for r in rows] == [
        (T0, 1.0, 0.0),
        (T0 + timedelta(minutes=5), 1.0, 1.0),
        (T0 + timedelta(minutes=20), 1.0, 2.0),
    ]  # empty periods are absent
    assert all(int(r["Timestamp"].timestamp()) % 300 == 0 for r in rows)
    # start is inclusive, end exclusive.
    rows = ms.query("ns", "m", {}, T0 + timedelta(minutes=5), T0 + timedelta(minutes=21), 60,
                    ["SampleCount"])  # fmt: skip
    assert [r["Timestamp"] for r in rows] == [T0 + timedelta(minutes=5)]
    # An odd period (7 s) aligned on the epoch, not on the first datapoint.
    (row, *_) = ms.query("ns", "m", {}, T0, T0 + timedelta(hours=1), 7, ["SampleCount"])
    expected = int((T0 + timedelta(minutes=4, seconds=59)).timestamp()) // 7 * 7
    assert row["Timestamp"] == datetime.fromtimestamp(expected, UTC)


def test_dimension_filtering(db: Database) -> None:
    ms = MetricStore(db)
    t = T0 + timedelta(seconds=1)
    ms.put([
        MetricDatum("ns", "m", {"Endpoint": "a", "Feature": "age"}, t, 1.0),
        MetricDatum("ns", "m", {"Feature": "age", "Endpoint": "a"}, t, 2.0),  # same set
        MetricDatum("ns", "m", {"Endpoint": "a"}, t, 10.0),
        MetricDatum("ns", "m", {"Endpoint": "b", "Feature": "age"}, t, 100.0),
        MetricDatum("ns", "m", {}, t, 1000.0),
        MetricDatum("ns", "other", {"Endpoint": "a"}, t, 5.0),
        MetricDatum("other", "m", {"Endpoint": "a"}, t, 5.0),
    ])  # fmt: skip

    def total(dims: dict[str, str] | None) -> list[float]:
        rows = ms.query("ns", "m", dims, T0, T0 + timedelta(minutes=1), 60, ["Sum"])
        return [r["Sum"] for r in rows]

    assert total({"Feature": "age", "Endpoint": "a"}) == [3.0]
    assert total({"Endpoint": "a"}) == [10.0]  # exact set: no subset matching
    assert total({}) == [1000.0]
    assert total(None) == [1113.0]  # every dimension set of the metric
    assert total({"Endpoint": "c"}) == []
    assert ms.list_metrics(namespace="ns") == [
        ("ns", "m", {}),
        ("ns", "m", {"Endpoint": "a"}),
        ("ns", "m", {"Endpoint": "a", "Feature": "age"}),
        ("ns", "m", {"Endpoint": "b", "Feature": "age"}),
        ("ns", "other", {"Endpoint": "a"}),
    ]
    assert len(ms.list_metrics()) == 6


def test_list_metrics_by_name_prefix(db: Database) -> None:
    ms = MetricStore(db)
    names = ["feature_baseline_drift_age", "feature_non_null_age", "feature_data_age",
             "featureXbaseline", "completed_executions"]  # fmt: skip
    ms.put(MetricDatum("aws/sagemaker/Endpoints/data-metrics", n, {"Endpoint": "e"}, T0, 1.0)
           for n in names)  # fmt: skip
    found = [n for _, n, _ in ms.list_metrics(name_prefix="feature_")]
    assert found == ["feature_baseline_drift_age", "feature_data_age", "feature_non_null_age"]
    assert [n for _, n, _ in ms.list_metrics(name_prefix="feature%")] == []


def test_statistic_sets(db: Database) -> None:
    ms = MetricStore(db)
    t = T0 + timedelta(seconds=10)
    raw = [3.0, 9.0, 4.0]
    ms.put([
        *(MetricDatum("ns", "m", {}, t, v, unit="Count") for v in raw),
        MetricDatum("ns", "m", {}, t, sample_count=4, sum=20, minimum=5, maximum=5, unit="Count"),
        MetricDatum("ns", "m", {}, t + timedelta(minutes=1), sample_count=10, sum=55, minimum=1,
                    maximum=10, unit="Count"),
        MetricDatum("ns", "m", {}, t + timedelta(minutes=1), 100.0, unit="Count"),
    ])  # fmt: skip
    rows = ms.query(
        "ns",
        "m",
        {},
        T0,
        T0 + timedelta(minutes=5),
        60,
        ["SampleCount", "Sum", "Average", "Minimum", "Maximum", "p50", "p90"],
    )
    first, second = rows
    # Period 1: three values plus a set of four 5s: percentiles over the seven values.
    seven = raw + [5.0] * 4
    assert (first["SampleCount"], first["Sum"], first["Minimum"], first["Maximum"]) == (
        7.0, 36.0, 3.0, 9.0)  # fmt: skip
    assert first["Average"] == pytest.approx(36 / 7)
    assert first["p50"] == np.percentile(seven, 50, method="inverted_cdf") == 5.0
    assert first["p90"] == np.percentile(seven, 90, method="inverted_cdf") == 9.0
    # Period 2: a set with unknown values exactly in count/sum/min/max; no percentiles.
    assert (second["SampleCount"], second["Sum"], second["Minimum"], second["Maximum"]) == (
        11.0, 155.0, 1.0, 100.0)  # fmt: skip
    assert second["p50"] is None and second["p90"] is None
    assert first["Unit"] == "Count"


def test_mixed_units_and_unit_filter(db: Database) -> None:
    ms = MetricStore(db)
    ms.put([MetricDatum("ns", "m", {}, T0, 1.0, unit="Seconds"),
            MetricDatum("ns", "m", {}, T0, 1000.0, unit="Milliseconds")])  # fmt: skip
    end = T0 + timedelta(minutes=1)
    (row,) = ms.query("ns", "m", {}, T0, end, 60, ["Sum"])
    assert row["Unit"] is None and row["Sum"] == 1001.0
    (row,) = ms.query("ns", "m", {}, T0, end, 60, ["Sum"], unit="Seconds")
    assert row["Unit"] == "Seconds" and row["Sum"] == 1.0


def test_fast_path_rows_match_orm_rows(db: Database) -> None:
    ms = MetricStore(db)
    t = datetime(2024, 5, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    ms.put([MetricDatum("ns", "m", {"b": "2", "a": "1"}, t, 1.5)])
    with db.session() as s:
        series = s.scalars(select(MetricSeries)).one()
        assert (series.namespace, series.name, series.dimensions_key) == (
            "ns", "m", '{"a":"1","b":"2"}')  # fmt: skip
        assert series.series_key == series_key("ns", "m", '{"a":"1","b":"2"}')
        s.add(Datapoint(series_id=series.id, timestamp=t, value=2.5))
    with db.session() as s:
        stored = s.scalars(
            select(Datapoint).where(Datapoint.timestamp == t).order_by(Datapoint.value)
        ).all()
    assert [(d.value, d.timestamp, d.series_id, d.unit) for d in stored] == [
        (1.5, t, series.id, "None"),
        (2.5, t, series.id, "None"),
    ]
    assert stored[0].timestamp.tzinfo is UTC
    # A second store (another process) finds the series instead of creating it again.
    MetricStore(db).put([MetricDatum("ns", "m", {"a": "1", "b": "2"}, t, 3.5)])
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(MetricSeries)) == 1


def test_failed_put_leaves_no_dangling_series(db: Database) -> None:
    ms = MetricStore(db, batch_size=2)
    new = MetricDatum("ns", "fresh", {}, T0, 1.0)
    with pytest.raises(InputError):
        ms.put([new, new, "bad"])  # type: ignore[list-item]
    assert ms.put([new]) == 1  # the rolled-back series is created again, not reused
    assert ms.list_metrics() == [("ns", "fresh", {})]


def test_series_cache_survives_a_wiped_database(db: Database) -> None:
    ms = MetricStore(db)
    datum = MetricDatum("ns", "m", {}, T0, 1.0)
    ms.put([datum])
    store.Base.metadata.drop_all(db.engine)  # e.g. restored from an older backup
    db.create_all()
    with pytest.raises(IntegrityError):
        ms.put([datum])  # the cached series id points nowhere: refused, nothing stored
    assert ms.put([datum]) == 1  # looked up afresh
    assert ms.list_metrics() == [("ns", "m", {})]


def test_largest_dimension_sets(db: Database) -> None:
    ms = MetricStore(db)
    dims = {f"{i:02d}" + "k" * 253: "v" * 255 for i in range(30)}
    ms.put([MetricDatum("n" * 255, "m" * 255, dims, T0, 2.0)])
    (row,) = ms.query("n" * 255, "m" * 255, dims, T0, T0 + timedelta(minutes=1), 60, ["Sum"])
    assert row["Sum"] == 2.0
    assert ms.list_metrics()[0][2] == dims


def test_retention(db: Database) -> None:
    ms = MetricStore(db)
    ms.put(MetricDatum("ns", "m", {"d": str(i % 2)}, T0 + timedelta(hours=i), float(i))
           for i in range(10))  # fmt: skip
    assert ms.apply_retention(T0 + timedelta(hours=4)) == 4
    assert ms.apply_retention(T0 + timedelta(hours=4)) == 0
    rows = ms.query("ns", "m", None, T0, T0 + timedelta(days=1), 86400, ["SampleCount", "Minimum"])
    assert [(r["SampleCount"], r["Minimum"]) for r in rows] == [(6.0, 4.0)]


def test_bad_input_is_refused_clearly(db: Database) -> None:
    ms = MetricStore(db)
    end = T0 + timedelta(hours=1)
    with pytest.raises(InputError, match="'Mean' is not one of"):
        ms.query("ns", "m", None, T0, end, 60, ["Mean"])
    with pytest.raises(InputError, match="p101"):
        ms.query("ns", "m", None, T0, end, 60, ["p101"])
    with pytest.raises(InputError, match="period_seconds"):
        ms.query("ns", "m", None, T0, end, 0, ["Sum"])
    with pytest.raises(InputError, match="not after start"):
        ms.query("ns", "m", None, end, T0, 60, ["Sum"])
    with pytest.raises(InputError, match="start: expected a timezone-aware"):
        ms.query("ns", "m", None, datetime(2024, 1, 1), end, 60, ["Sum"])
    with pytest.raises(InputError, match="either value or a statistic set"):
        MetricDatum("ns", "m", {}, T0, 1.0, sample_count=1, sum=1, minimum=1, maximum=1)
    with pytest.raises(InputError, match="sample_count, sum, minimum and maximum together"):
        MetricDatum("ns", "m", {}, T0, sample_count=1, sum=1)
    with pytest.raises(InputError, match=r"minimum 3\.0 is greater than maximum 1\.0"):
        MetricDatum("ns", "m", {}, T0, sample_count=2, sum=4, minimum=3, maximum=1)
    with pytest.raises(InputError, match="'Furlongs' is not a CloudWatch unit"):
        MetricDatum("ns", "m", {}, T0, 1.0, unit="Furlongs")
    with pytest.raises(InputError, match=r"dimensions\['Endpoint'\]"):
        MetricDatum("ns", "m", {"Endpoint": ""}, T0, 1.0)
    with pytest.raises(InputError, match="at most 30"):
        MetricDatum("ns", "m", {str(i): "x" for i in range(31)}, T0, 1.0)
    with pytest.raises(InputError, match="value: expected a number"):
        MetricDatum("ns", "m", {}, T0, "1.0")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="1970-01-01 or later"):
        MetricDatum("ns", "m", {}, datetime(1969, 12, 31, tzinfo=UTC), 1.0)
    with pytest.raises(ConfigError, match="batch_size"):
        MetricStore(db, batch_size=0)
    # A bad item in a put stores nothing, not even the batches before it.
    good = [MetricDatum("ns", "m", {}, T0, 1.0)] * 5
    with pytest.raises(InputError, match="datum 5: expected a MetricDatum"):
        MetricStore(db, batch_size=2).put([*good, {"value": 1.0}])  # type: ignore[list-item]
    assert ms.list_metrics() == []
    assert issubclass(InputError, ValueError) and issubclass(InputError, VigilError)


# -- executions: exactly once --------------------------------------------------------------

WINDOW = (T0 - timedelta(hours=1), T0)


def _claim(db: Database, owner: str, **kw: object) -> Execution | None:
    return claim_execution(db, "churn-hourly", "churn", T0, *WINDOW, owner, 60, **kw)  # type: ignore[arg-type]


def test_claim_is_exactly_once_across_threads(db: Database) -> None:
    n = 8
    barrier = threading.Barrier(n)
    results: list[Execution | None] = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = _claim(db, f"thread-{i}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    (won,) = winners
    assert won.status == "InProgress" and won.attempt == 1
    assert won.lease_expires_at == won.started_at + timedelta(seconds=60)
    assert [e.id for e in list_executions(db)] == [won.id]
    assert _claim(db, "late") is None


RACER = """
import json, sys
from datetime import datetime, timedelta
from vigil.store import Database, claim_execution
url, owner, at = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
db = Database(url)
with db.engine.connect():
    pass
print("ready", flush=True)
sys.stdin.readline()
won = claim_execution(db, "churn-hourly", "churn", at, at - timedelta(hours=1), at, owner, 60)
print(json.dumps(won.id if won else None), flush=True)
"""


def test_claim_is_exactly_once_across_processes(db: Database) -> None:
    n = 4
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, db.url, f"proc-{i}", T0.isoformat()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(n)
    ]
    try:
        for p in procs:  # every process is connected before any claims
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    ids = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    winners = [i for i in ids if i is not None]
    assert len(winners) == 1
    assert [e.id for e in list_executions(db)] == winners


def test_finish_renew_and_list(db: Database) -> None:
    run = _claim(db, "srv-a", now=T0)
    assert run is not None
    expires = renew_lease(db, run.id, "srv-a", 120, now=T0 + timedelta(seconds=50))
    assert expires == T0 + timedelta(seconds=170)
    with pytest.raises(LeaseLostError, match="held by 'srv-a'"):
        renew_lease(db, run.id, "srv-b", 120)
    with pytest.raises(InputError, match="failure_reason"):
        finish_execution(db, run.id, "Failed")
    with pytest.raises(InputError, match="status: expected one of"):
        finish_execution(db, run.id, "Done")
    with pytest.raises(InputError, match="does not end an execution"):
        finish_execution(db, run.id, ExecutionStatus.IN_PROGRESS)
    done = finish_execution(
        db, run.id, ExecutionStatus.COMPLETED_WITH_VIOLATIONS, records_read=1000,
        records_skipped=3, violation_count=2, output_uri="file:///out/1", owner="srv-a",
        now=T0 + timedelta(minutes=2),
    )  # fmt: skip
    assert (done.status, done.records_read, done.records_skipped, done.violation_count) == (
        "CompletedWithViolations", 1000, 3, 2)  # fmt: skip
    assert done.ended_at == T0 + timedelta(minutes=2) and done.lease_expires_at is None
    with pytest.raises(LeaseLostError, match="it is CompletedWithViolations"):
        finish_execution(db, run.id, "Completed")
    with pytest.raises(ExecutionNotFoundError, match=r"\[execution_not_found\]"):
        get_execution(db, "no-such-id")
    with pytest.raises(LookupError):
        finish_execution(db, "no-such-id", "Completed")

    other = claim_execution(db, "churn-daily", "churn", T0 + timedelta(days=1), T0,
                            T0 + timedelta(days=1), "srv-a", 60)  # fmt: skip
    assert other is not None
    assert [e.id for e in list_executions(db)] == [other.id, run.id]  # newest first
    assert [e.id for e in list_executions(db, schedule="churn-hourly")] == [run.id]
    assert [e.id for e in list_executions(db, status="InProgress")] == [other.id]
    assert [e.id for e in list_executions(db, status=["InProgress", "Completed"])] == [other.id]
    assert [e.id for e in list_executions(db, since=T0 + timedelta(hours=1))] == [other.id]
    assert [e.id for e in list_executions(db, until=T0 + timedelta(hours=1))] == [run.id]
    assert list_executions(db, endpoint="other") == []
    assert len(list_executions(db, limit=1)) == 1
    with pytest.raises(InputError, match="status"):
        list_executions(db, status="Bogus")


def test_recover_interrupted_then_rerun_as_attempt_2(db: Database) -> None:
    run = _claim(db, "srv-a", now=T0)
    assert run is not None
    assert recover_interrupted(db, now=T0 + timedelta(seconds=30)) == []  # lease still live
    (failed,) = recover_interrupted(db, now=T0 + timedelta(seconds=61), owner="srv-b")
    assert failed.id == run.id and failed.status == "Failed"
    assert failed.failure_reason is not None
    assert failed.failure_reason.startswith("interrupted: the lease of owner 'srv-a' expired at")
    assert (
        "2024-05-01T12:01:00+00:00" in failed.failure_reason and "'srv-b'" in failed.failure_reason
    )
    assert recover_interrupted(db, now=T0 + timedelta(hours=1)) == []  # recovered once
    # The crashed worker comes back: its run is gone.
    with pytest.raises(LeaseLostError, match="interrupted"):
        finish_execution(db, run.id, "Completed", owner="srv-a")
    assert _claim(db, "srv-c") is None  # the window was claimed; only a rerun may run it again
    rerun = claim_rerun(db, failed, "srv-b", 60)
    assert rerun is not None and rerun.attempt == 2 and rerun.status == "InProgress"
    assert (rerun.window_start, rerun.window_end) == WINDOW
    assert claim_rerun(db, failed, "srv-c", 60) is None  # one rerun, whoever asks
    with pytest.raises(InputError, match="only a Failed execution is rerun"):
        claim_rerun(db, rerun, "srv-c", 60)
    attempts = [(e.attempt, e.status) for e in list_executions(db, schedule="churn-hourly")]
    assert attempts == [(2, "InProgress"), (1, "Failed")]


def test_recover_own_runs_at_startup(db: Database) -> None:
    mine = _claim(db, "srv-a", now=T0)
    theirs = claim_execution(db, "other", "churn", T0, *WINDOW, "srv-b", 600, now=T0)
    assert mine is not None and theirs is not None
    (failed,) = recover_interrupted(db, now=T0 + timedelta(seconds=5), owner="srv-a")
    assert failed.id == mine.id
    assert failed.failure_reason is not None and "owner 'srv-a' restarted" in failed.failure_reason
    assert get_execution(db, theirs.id).status == "InProgress"  # live lease of another server


def test_recovery_races_recover_each_run_once(db: Database) -> None:
    for i in range(5):
        assert claim_execution(db, f"s{i}", "churn", T0, *WINDOW, "dead", 1, now=T0)
    n = 6
    barrier = threading.Barrier(n)
    got: list[list[Execution]] = [[] for _ in range(n)]

    def worker(i: int) -> None:
        barrier.wait()
        got[i] = recover_interrupted(db, now=T0 + timedelta(minutes=1), owner=f"srv-{i}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recovered = sorted(e.schedule_name for batch in got for e in batch)
    assert recovered == [f"s{i}" for i in range(5)]


def test_postgres_fixture_is_real(postgres_url: str) -> None:  # noqa: F811
    db = Database(postgres_url)
    with db.engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
        address = conn.execute(text("SELECT inet_server_addr()::text")).scalar()
    db.dispose()
    assert version and int(str(version).split(".")[0]) >= 13
    assert address is not None and address.startswith("127.0.0.1")
