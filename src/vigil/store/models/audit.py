"""The audit trail: one row per change of a configuration object, who made it and when.

``before`` and ``after`` are the object's redacted documents (``None`` for a creation or a
deletion respectively); ``fields`` lists the columns that changed. Written in the same
transaction as the change itself (:mod:`vigil.store.audit`), so a change that rolls back leaves
no row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


class AuditEntry(Base):
    """One configuration change: actor, action, object kind and name, before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_time", "time"),
        Index("ix_audit_log_object", "kind", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(NAME), index=True)
    action: Mapped[str] = mapped_column(String(32))  # create | update | delete | pause | ...
    kind: Mapped[str] = mapped_column(String(64))  # endpoint | schedule | alarm | token | ...
    name: Mapped[str] = mapped_column(String(1024))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
