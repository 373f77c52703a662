"""The dispatcher's claim of pending events (vigil.actions.pending): on SQLite it reads the
rows through the driver and decodes them itself; every event must read exactly as the ORM
reads it (envelope_of of the ORM row is the reference), oldest first, each claimed once."""

from __future__ import annotations

import datetime as dt
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, make_url, select, text

from pg_fixture import postgres_url  # noqa: F401
from vigil.actions.pending import claim_pending
from vigil.store.db import Database
from vigil.store.event_rows import envelope_of
from vigil.store.models import DispatchedEvent, Event

T0 = dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=dt.timezone.utc)


def _events() -> list[Event]:
    return [
        Event(id="a", kind="concept_drift", time=T0, endpoint_name="churn",
              detail={"p": 0.01, "features": ["age", "income"], "nested": {"x": [1, {"y": None}]}},
              created_at=T0),
        Event(id="b", kind="external", source="aws.sagemaker", detail_type="SageMaker X",
              time=T0 + dt.timedelta(seconds=1), resources=["arn:1"], account="1", region="r",
              detail={"TrainingJobStatus": "Failed", "ünï": "cödé"}, extra={"replay-name": "r1"},
              created_at=T0 + dt.timedelta(seconds=1)),
        Event(id="c", kind="alarm_state_change", time=T0 + dt.timedelta(days=1),
              detail={"value": float("nan"), "big": 2**62}, created_at=T0 + dt.timedelta(days=1)),
        Event(id="d", kind="execution_completed", schedule_name="hourly", time=T0, detail={},
              created_at=T0 - dt.timedelta(hours=1)),
    ]  # fmt: skip


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b and type(a) is type(b)


def test_claimed_rows_read_as_the_orm_reads_them(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    with db.session() as s:
        s.add_all(_events())
    with db.session() as s:
        orm = {e.id: envelope_of(e) for e in s.scalars(select(Event))}
        times = {e.id: e.time for e in s.scalars(select(Event))}
    first = claim_pending(db, 3)
    assert [e.id for e in first] == ["d", "a", "b"]  # oldest created first, limit kept
    rest = claim_pending(db, 10)
    assert [e.id for e in rest] == ["c"]
    assert claim_pending(db, 10) == []  # each event once
    for row in first + rest:
        assert _same(envelope_of(row), orm[row.id]), row.id
        assert row.time == times[row.id] and row.time.tzinfo is not None
    with db.session() as s:
        marks = list(s.scalars(select(DispatchedEvent)))
    assert sorted(m.event_id for m in marks) == ["a", "b", "c", "d"]
    assert all(m.dispatched_at.tzinfo is not None for m in marks)


def _race(db: Database, events: int = 400, workers: int = 4) -> list[list[str]]:
    """``workers`` threads, each with its own connections, claiming in small batches until
    nothing is left: what each one claimed."""
    with db.session() as s:
        s.add_all(Event(id=f"e{i:04d}", kind="external", source="race", detail_type="x",
                        time=T0, detail={}, created_at=T0 + dt.timedelta(microseconds=i))
                  for i in range(events))  # fmt: skip
    start = threading.Barrier(workers)

    def claim_all() -> list[str]:
        start.wait()
        mine: list[str] = []
        while batch := claim_pending(db, 7):
            mine.extend(e.id for e in batch)
        return mine

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda _: claim_all(), range(workers)))


def test_concurrent_claimers_each_get_their_own_events_on_sqlite(tmp_path: Path) -> None:
    """Two dispatchers (the server's loop and `vigil demo`'s, say) claiming at once: no error,
    every event claimed exactly once (the demo met a UNIQUE failure here before)."""
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    claimed = _race(db)
    every = [e for part in claimed for e in part]
    assert sorted(every) == [f"e{i:04d}" for i in range(400)]  # each once, none lost


def test_concurrent_claimers_each_get_their_own_events_on_postgresql(
    postgres_url: str,  # noqa: F811
) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS claim_race"))
        conn.execute(text("CREATE DATABASE claim_race"))
    admin.dispose()
    db = Database(make_url(postgres_url).set(database="claim_race")
                  .render_as_string(hide_password=False))  # fmt: skip
    db.create_all()
    claimed = _race(db)
    every = [e for part in claimed for e in part]
    assert sorted(every) == [f"e{i:04d}" for i in range(400)]
    db.dispose()
