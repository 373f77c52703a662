"""The bus's fast SQLite insert writes rows that read back exactly as rows the ORM wrote."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from vigil.store.db import Database
from vigil.store.event_rows import envelope_of, insert_events
from vigil.store.models import Event


def _values(i: int) -> dict:
    t = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc) + timedelta(minutes=i)
    return {
        "id": f"e{i}", "kind": "external", "endpoint_name": None, "schedule_name": None,
        "time": t, "detail": {"Status": "Failed", "n": [1, 2.5, None], "ü": "é"},
        "created_at": t, "source": "aws.sagemaker",
        "detail_type": "SageMaker Training Job State Change", "account": "123456789012",
        "region": "us-east-1", "resources": ["arn:aws:sagemaker:x"],
        "extra": None if i % 2 else {"replay-name": "r"}, "dedup_key": f"k{i}" if i else None,
        "received_at": t + timedelta(seconds=1), "run_kind": "training_job",
        "run_name": "churn", "run_key": f"training_job/churn/{i}", "run_status": "failed",
        "published_at": None if i % 2 else t,
    }  # fmt: skip


def test_fast_rows_read_back_as_orm_rows(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    with db.session() as s:
        for i in range(2):
            s.add(Event(**_values(i)))
    with db.session() as s:
        insert_events(s.connection(), [{**_values(i), "id": f"f{i}",
                                        "dedup_key": _values(i)["dedup_key"] and f"g{i}"}
                                       for i in range(2)])
    with db.session() as s:
        rows = {r.id: r for r in s.scalars(select(Event))}
        for i in range(2):
            orm, fast = rows[f"e{i}"], rows[f"f{i}"]
            for column in [c.name for c in Event.__table__.columns]:
                if column in ("id", "dedup_key"):
                    continue
                assert getattr(fast, column) == getattr(orm, column), column
            assert {**envelope_of(fast), "id": "x"} == {**envelope_of(orm), "id": "x"}
        # the queries the bus and the listing make find both alike
        unpublished = set(s.scalars(select(Event.id).where(Event.published_at.is_(None))))
        assert unpublished == {"e1", "f1"}
        later = set(s.scalars(select(Event.id).where(
            Event.time >= datetime(2024, 5, 1, 12, 1, tzinfo=timezone.utc))))
        assert later == {"e1", "f1"}
