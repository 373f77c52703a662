"""The outbox on SQLAlchemy: SQLite by default, PostgreSQL for teams (several workers).

A claim is one ``UPDATE ... WHERE id IN (SELECT due ids LIMIT n)`` that re-checks the row is
still pending and due, so two workers never claim the same row at once (on PostgreSQL the
sub-select also skips rows locked by another worker). The subscription snapshot in each row
has its secret settings sealed (:mod:`vigil.store.secrets`) and opened again when claimed.

>>> from datetime import datetime, timezone
>>> from vigil.store.db import Database
>>> from vigil.alerts.delivery.store import NewItem
>>> store = SQLOutboxStore(Database("sqlite://")); store.create_tables()
>>> t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
>>> store.add([NewItem("m-1", "ops", "drift", "webhook", {"k": 1}, t0)] * 2)
1
>>> [(r.message_id, r.payload) for r in store.claim(t0, 10, t0, "tok")]
[('m-1', {'k': 1})]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from vigil.alerts.delivery.store import NewItem, OutboxRecord, Outcome
from vigil.alerts.delivery.subscription import secret_fields
from vigil.store.columns import utcnow
from vigil.store.db import Database, affected_rows
from vigil.store.models import OutboxItem
from vigil.store.secrets import SecretBox, box_of, seal, unseal

_T = cast(Table, OutboxItem.__table__)


def _snapshot(payload: dict[str, Any], protocol: str, fn: Any, box: SecretBox) -> dict[str, Any]:
    """``payload`` with the secret settings of its subscription snapshot sealed or opened."""
    sub = payload.get("subscription")
    if not isinstance(sub, dict) or not isinstance(sub.get("config"), dict):
        return dict(payload)
    config = fn(secret_fields(str(sub.get("protocol") or protocol)), sub["config"], box)
    return {**payload, "subscription": {**sub, "config": config}}


_COLUMNS = [c for c in _T.c if c.name != "payload"]


def _record(
    row: Any, box: SecretBox, payload: Any = None, unreadable: str | None = None
) -> OutboxRecord:
    """The record of a row (an :class:`OutboxItem`, or its columns without ``payload`` when
    that did not load); a payload that cannot be read back makes the record ``unreadable``
    with the reason, so the item fails alone."""
    opened: dict[str, Any] = {}
    if unreadable is None:
        try:
            opened = _snapshot(dict(payload), row.protocol, unseal, box)
        except Exception as exc:  # a corrupt snapshot or a secret that cannot be opened
            unreadable = f"{type(exc).__name__}: {exc}"
    return OutboxRecord(
        id=row.id, message_id=row.message_id, subscription=row.subscription, topic=row.topic,
        protocol=row.protocol, payload=opened,
        attempt=row.attempt,
        next_attempt_at=row.next_attempt_at, status=row.status, last_error=row.last_error,
        last_status=row.last_status, created_at=row.created_at, delivered_at=row.delivered_at,
        claim_token=row.claim_token, unreadable=unreadable,
    )


def _records(s: Any, where: Any, box: SecretBox) -> list[OutboxRecord]:
    """The records of the rows ``where`` selects, oldest first; a row whose stored payload
    does not even decode comes back ``unreadable`` instead of failing the others."""
    try:
        rows = s.execute(select(*_COLUMNS, _T.c.payload).where(where).order_by(_T.c.id)).all()
        return [_record(r, box, r.payload) for r in rows]
    except Exception:  # some payload does not decode: read the rows one by one
        out: list[OutboxRecord] = []
        for r in s.execute(select(*_COLUMNS).where(where).order_by(_T.c.id)).all():
            try:
                payload = s.execute(select(_T.c.payload).where(_T.c.id == r.id)).scalar_one()
                out.append(_record(r, box, payload))
            except Exception as exc:
                out.append(_record(r, box, unreadable=f"{type(exc).__name__}: {exc}"))
        return out


class SQLOutboxStore:
    """An :class:`~vigil.alerts.delivery.store.OutboxStore` in the ``delivery_outbox`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_tables(self) -> None:
        """Create the outbox table if it does not exist (``Database.create_all`` does too
        once :mod:`vigil.store.models` is imported)."""
        _T.create(self.db.engine, checkfirst=True)

    def add(self, items: Sequence[NewItem]) -> int:
        if not items:
            return 0
        now = utcnow()
        box = box_of(self.db)
        rows = [
            {"message_id": i.message_id, "subscription": i.subscription, "topic": i.topic,
             "protocol": i.protocol, "payload": _snapshot(i.payload, i.protocol, seal, box),
             "attempt": 0,
             "next_attempt_at": i.next_attempt_at, "status": "pending", "created_at": now}
            for i in items
        ]
        dialect = self.db.dialect
        if dialect == "sqlite":
            stmt: Any = sqlite.insert(_T).on_conflict_do_nothing()
        elif dialect == "postgresql":
            stmt = postgresql.insert(_T).on_conflict_do_nothing()
        else:  # pragma: no cover - other backends: skip known pairs first
            stmt = insert(_T)
        with self.db.session() as s:
            before = s.scalar(select(_T.c.id).order_by(_T.c.id.desc()).limit(1)) or 0
            s.execute(stmt, rows)
            return len(s.scalars(select(_T.c.id).where(_T.c.id > before)).all())

    def claim(
        self, now: datetime, limit: int, lease_until: datetime, token: str
    ) -> list[OutboxRecord]:
        due = (
            select(_T.c.id)
            .where(_T.c.status == "pending", _T.c.next_attempt_at <= now)
            .order_by(_T.c.next_attempt_at, _T.c.id)
            .limit(limit)
        )
        if self.db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        stmt = (
            update(_T)
            .where(_T.c.id.in_(due.scalar_subquery()), _T.c.status == "pending",
                   _T.c.next_attempt_at <= now)
            .values(next_attempt_at=lease_until, claim_token=token)
        )
        with self.db.session() as s:
            s.execute(stmt)
            return _records(s, _T.c.claim_token == token, box_of(self.db))

    def complete(self, outcomes: Sequence[Outcome], token: str) -> None:
        if not outcomes:
            return
        stmt = (
            update(_T)
            .where(_T.c.id == bindparam("b_id"), _T.c.claim_token == bindparam("b_token"))
            .values(
                status=bindparam("b_status"), attempt=bindparam("b_attempt"),
                next_attempt_at=bindparam("b_next"), last_error=bindparam("b_error"),
                last_status=bindparam("b_code"), delivered_at=bindparam("b_delivered"),
                claim_token=None,
            )
        )
        params = [
            {"b_id": o.id, "b_token": token, "b_status": o.status, "b_attempt": o.attempt,
             "b_next": o.next_attempt_at, "b_error": o.last_error, "b_code": o.last_status,
             "b_delivered": o.delivered_at}
            for o in outcomes
        ]
        with self.db.session() as s:
            s.connection().execute(stmt, params)

    def list(
        self,
        status: str | None = None,
        subscription: str | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[OutboxRecord]:
        where: Any = true()
        if status is not None:
            where = and_(where, _T.c.status == status)
        if subscription is not None:
            where = and_(where, _T.c.subscription == subscription)
        if ids is not None:
            where = and_(where, _T.c.id.in_(list(ids)))
        with self.db.session() as s:
            return _records(s, where, box_of(self.db))

    def redrive(
        self, now: datetime, ids: Iterable[int] | None = None, subscription: str | None = None
    ) -> int:
        stmt = update(_T).where(_T.c.status == "dead")
        if ids is not None:
            stmt = stmt.where(_T.c.id.in_(list(ids)))
        if subscription is not None:
            stmt = stmt.where(_T.c.subscription == subscription)
        stmt = stmt.values(status="pending", attempt=0, next_attempt_at=now, claim_token=None)
        with self.db.session() as s:
            return affected_rows(s.execute(stmt))
