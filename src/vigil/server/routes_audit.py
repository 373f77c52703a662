"""``GET /api/v1/audit``: the audit trail of configuration changes, newest first.

It needs the ``admin`` scope: the documents are redacted, but the trail names every token and
its scopes and keeps what deleted objects held, which is more than a ``read`` token sees.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from vigil.server.schemas_common import IsoTime, errors
from vigil.server.state import ADMIN, ServerState, get_state
from vigil.store.audit import entry_document, list_entries

router = APIRouter(responses=errors(401, 403, 422))

MAX_LIMIT = 1000


class AuditEntryOut(BaseModel):
    """One configuration change."""

    id: int
    time: str = Field(description="When, ISO-8601 UTC.")
    actor: str = Field(description="token:<name>, cli:<os user> or system.")
    action: str = Field(description="create, update, delete, pause, resume, revoke...")
    kind: str = Field(description="endpoint, baseline, schedule, alarm, topic, ...")
    name: str
    fields: list[str] = Field(description="The fields an update changed.")
    before: dict[str, Any] | None = Field(description="The object before (redacted).")
    after: dict[str, Any] | None = Field(description="The object after (redacted).")


class AuditPage(BaseModel):
    """Audit entries, newest first."""

    entries: list[AuditEntryOut]


def _utc(t: datetime | None) -> datetime | None:
    """A query time in UTC; one without a zone is taken as UTC."""
    if t is None:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


@router.get("/audit", response_model=AuditPage, dependencies=[ADMIN])
def audit(
    since: IsoTime | None = Query(None, description="From this time (inclusive, ISO-8601)."),
    until: IsoTime | None = Query(None, description="Before this time (exclusive)."),
    actor: str | None = Query(None, description="token:<name>, cli:<user>, or a token name."),
    kind: str | None = Query(None, description="The kind of object (endpoint, alarm, ...)."),
    name: str | None = Query(None, description="The object's name (or id)."),
    limit: int = Query(100, ge=1, le=MAX_LIMIT, description="At most this many entries."),
    state: ServerState = Depends(get_state),
) -> dict[str, Any]:
    """Configuration changes, newest first: who (token name), what, when, before and after."""
    entries = list_entries(
        state.db,
        since=_utc(since),
        until=_utc(until),
        actor=actor,
        kind=kind,
        name=name,
        limit=limit,
    )
    return {"entries": [entry_document(e) for e in entries]}
