"""The dispatcher's claim of pending events (vigil.actions.pending): on SQLite it reads the
rows through the driver and decodes them itself; every event must read exactly as the ORM
reads it (envelope_of of the ORM row is the reference), oldest first, each claimed once."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from sqlalchemy import select

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
