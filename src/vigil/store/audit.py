"""The audit trail: every change of a configuration object, whoever made it and however.

Changes are captured where they all pass, the ORM session, not route by route: an
``after_flush`` listener on every :class:`~sqlalchemy.orm.Session` turns each new, changed or
deleted row of an audited table into an :class:`~vigil.store.models.AuditEntry`, written on the
flush's own connection (so it commits or rolls back with the change), and a ``do_orm_execute``
listener does the same for ORM bulk ``update()``/``delete()`` statements. Raw SQL text is not
seen. The actor is a context variable: the server's middleware sets ``token:<name>`` for each
request (the token's name, never its secret), the CLI sets ``cli:<os user>``; a change made
with neither (the server's own housekeeping, a library caller) is recorded as ``system``.

Audited tables (kind in the trail): ``endpoints`` (endpoint), ``baselines`` (baseline),
``schedules`` (schedule), ``alarms`` (alarm: name, kind and spec only), ``topics`` (topic),
``subscriptions`` (subscription), ``silences`` (silence), ``action_definitions`` (rule or
workflow) and ``api_tokens`` (token: name, scopes, revoked; never the hash). State the server
keeps itself is not configuration and is left to its own histories: alarm states and
``alarm_history``, executions, metrics, events, detector states, notification groups and
notified states, the delivery outbox, action runs; likewise a change of only a bookkeeping
column (``updated_at``, a schedule's ``last_scheduled_time``, a token's ``last_used_at``) is
not recorded. Another table joins with :func:`register`. Every document is redacted with
:func:`vigil.store.redaction.redact`.
"""

from __future__ import annotations

import contextlib
import enum
import getpass
import os
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, event, insert, inspect, or_, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from vigil.store.columns import UTC, utcnow
from vigil.store.models import AuditEntry
from vigil.store.redaction import MASK, redact
from vigil.store.secrets import SecretBox, SecretKeyError, box_of, is_sealed

if TYPE_CHECKING:
    from vigil.store.db import Database

__all__ = [
    "AUDITED",
    "SYSTEM",
    "Audited",
    "acting_as",
    "cli_actor",
    "current_actor",
    "entry_document",
    "list_entries",
    "register",
    "reset_actor",
    "set_actor",
    "token_actor",
]

SYSTEM = "system"
_ACTOR: ContextVar[str | None] = ContextVar("vigil_audit_actor", default=None)


def current_actor() -> str:
    """Who the changes made now are attributed to (``system`` when nobody was set)."""
    return _ACTOR.get() or SYSTEM


def set_actor(actor: str | None) -> Token[str | None]:
    """Attribute the changes of this context to ``actor``; pass the result to
    :func:`reset_actor`."""
    return _ACTOR.set(actor)


def reset_actor(token: Token[str | None]) -> None:
    """Undo a :func:`set_actor`."""
    _ACTOR.reset(token)


@contextlib.contextmanager
def acting_as(actor: str | None) -> Iterator[None]:
    """The changes made inside the block are attributed to ``actor``."""
    token = set_actor(actor)
    try:
        yield
    finally:
        reset_actor(token)


def token_actor(name: str) -> str:
    """The actor of a request made with the API token ``name``."""
    return f"token:{name}"


def cli_actor() -> str:
    """The actor of a CLI command: ``cli:`` and the operating-system user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container running as a bare uid)
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}"


@dataclass(frozen=True)
class Audited:
    """How the rows of one table appear in the trail.

    ``kind`` is the object's kind, or with ``kind_column`` the column holding it;
    ``name_column`` names the object; ``hidden`` columns never appear (state, hashes);
    ``quiet`` columns appear but a change of only these is not recorded.
    """

    kind: str
    name_column: str = "name"
    kind_column: str | None = None
    hidden: frozenset[str] = frozenset()
    quiet: frozenset[str] = frozenset({"created_at", "updated_at"})


AUDITED: dict[str, Audited] = {}


def register(table: str, spec: Audited) -> None:
    """Audit the table named ``table``."""
    AUDITED[table] = spec


register("endpoints", Audited("endpoint"))
register("baselines", Audited("baseline"))
register(
    "schedules",
    Audited("schedule", hidden=frozenset({"last_scheduled_time"})),
)
register(
    "alarms",
    Audited(
        "alarm",
        hidden=frozenset(
            {"state", "state_reason", "state_reason_data", "state_updated_at", "memory"}
        ),
    ),
)
register("topics", Audited("topic"))
register("subscriptions", Audited("subscription", name_column="id"))
register("silences", Audited("silence", name_column="id"))
register("action_definitions", Audited("rule", kind_column="kind"))
register(
    "api_tokens",
    Audited("token", hidden=frozenset({"token_hash", "last_used_at"})),
)

_MISSING = object()
_TABLE = cast(Table, AuditEntry.__table__)


def _json(value: Any) -> Any:
    """A column value as JSON (times in UTC, a naive one taken as UTC)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, enum.Enum):
        return _json(value.value)
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _action(kind: str, fields: list[str], after: Mapping[str, Any]) -> str:
    """``update``, or the verb a one-field change means (pause, resume, revoke)."""
    if kind == "schedule" and fields == ["status"]:
        return "resume" if after.get("status") == "Scheduled" else "pause"
    if kind == "token" and fields == ["revoked"]:
        return "revoke" if after.get("revoked") else "restore"
    return "update"


def _entry(
    spec: Audited,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    fields: list[str],
    opener: Callable[[Any], Any],
) -> dict[str, Any]:
    doc = after if after is not None else before or {}
    kind = str(doc.get(spec.kind_column) or spec.kind) if spec.kind_column else spec.kind
    if action == "update":
        action = _action(kind, fields, doc)
    return {
        "time": utcnow(),
        "actor": current_actor(),
        "action": action,
        "kind": kind,
        "name": str(doc.get(spec.name_column, "")),
        "fields": fields,
        "before": None if before is None else redact(kind, opener(before)),
        "after": None if after is None else redact(kind, opener(after)),
    }


def _opener(session: Session) -> Callable[[Any], Any]:
    """Opens the sealed secrets of a document (at any depth) so that redaction sees the values
    it redacts (a URL keeps its host); a secret that cannot be opened stays hidden."""
    box: list[SecretBox] = []  # looked up at the first sealed value: every flush comes here

    def opened(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: opened(v) for k, v in value.items()}
        if isinstance(value, list):
            return [opened(v) for v in value]
        if is_sealed(value):
            if not box:
                box.append(box_of(session))
            try:
                return box[0].open_value(value)[0]
            except SecretKeyError:
                return MASK
        return value

    return opened


def _changed(spec: Audited, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    keys = [k for k in after if k not in spec.quiet]
    return sorted(k for k in keys if before.get(k, _MISSING) != after[k])


def _row_entries(session: Session) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    opener = _opener(session)
    for bucket, action in ((session.new, "create"), (session.dirty, "update")):
        for obj in bucket:
            spec = AUDITED.get(getattr(getattr(obj, "__table__", None), "name", ""))
            if spec is None:
                continue
            before, after = _states(obj, spec)
            if action == "create":
                rows.append(_entry(spec, "create", None, after, [], opener))
                continue
            fields = _changed(spec, before, after)
            if fields:
                rows.append(_entry(spec, "update", before, after, fields, opener))
    for obj in session.deleted:
        spec = AUDITED.get(getattr(getattr(obj, "__table__", None), "name", ""))
        if spec is not None:
            rows.append(_entry(spec, "delete", _states(obj, spec)[0], None, [], opener))
    return rows


def _states(obj: Any, spec: Audited) -> tuple[dict[str, Any], dict[str, Any]]:
    """The object's columns before this flush and now (never loading anything)."""
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in spec.hidden:
            continue
        history = state.attrs[key].history
        if history.deleted:
            before[key] = _json(history.deleted[0])
        elif history.unchanged:
            before[key] = _json(history.unchanged[0])
        value = state.dict.get(key, _MISSING)
        if value is not _MISSING:
            after[key] = _json(value)
    return before, after


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    rows = _row_entries(session)
    if rows:
        session.connection().execute(insert(_TABLE), rows)


def _bulk(orm_state: ORMExecuteState) -> Any:
    """ORM ``update(Model)``/``delete(Model)`` statements on an audited table."""
    if not (orm_state.is_update or orm_state.is_delete) or orm_state.bind_mapper is None:
        return None
    table = cast(Table, orm_state.bind_mapper.local_table)
    spec = AUDITED.get(getattr(table, "name", ""))
    if spec is None:
        return None
    where = getattr(orm_state.statement, "whereclause", None)
    query = select(table) if where is None else select(table).where(where)
    conn = orm_state.session.connection()
    keys = [c.name for c in table.primary_key.columns]

    def snapshot(row: Any) -> dict[str, Any]:
        return {k: _json(v) for k, v in row._mapping.items() if k not in spec.hidden}

    before = [snapshot(r) for r in conn.execute(query)]
    result = orm_state.invoke_statement()
    rows: list[dict[str, Any]] = []
    opener = _opener(orm_state.session)
    for old in before:
        if orm_state.is_delete:
            rows.append(_entry(spec, "delete", old, None, [], opener))
            continue
        match = [table.c[k] == old[k] for k in keys]
        new = conn.execute(select(table).where(*match)).first()
        if new is not None and (fields := _changed(spec, old, snapshot(new))):
            rows.append(_entry(spec, "update", old, snapshot(new), fields, opener))
    if rows:
        conn.execute(insert(_TABLE), rows)
    return result


event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "do_orm_execute", _bulk)


def list_entries(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    kind: str | None = None,
    name: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Audit entries newest first. ``since`` is inclusive, ``until`` exclusive; an ``actor``
    without a colon matches that token's name (``ci`` finds ``token:ci``) as well as itself."""
    query = select(AuditEntry)
    if since is not None:
        query = query.where(AuditEntry.time >= since)
    if until is not None:
        query = query.where(AuditEntry.time < until)
    if actor:
        names = [actor] if ":" in actor else [actor, token_actor(actor)]
        query = query.where(or_(*(AuditEntry.actor == a for a in names)))
    if kind:
        query = query.where(AuditEntry.kind == kind)
    if name:
        query = query.where(AuditEntry.name == name)
    query = query.order_by(AuditEntry.time.desc(), AuditEntry.id.desc()).limit(limit)
    with db.session() as session:
        return list(session.scalars(query))


def entry_document(entry: AuditEntry) -> dict[str, Any]:
    """An audit entry as the API and ``vigil audit --output json`` show it."""
    return {
        "id": entry.id,
        "time": _json(entry.time),
        "actor": entry.actor,
        "action": entry.action,
        "kind": entry.kind,
        "name": entry.name,
        "fields": list(entry.fields or []),
        "before": entry.before,
        "after": entry.after,
    }
