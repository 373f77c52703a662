"""Platform-wide settings applied from vigil.yaml (its ``defaults`` section), one JSON
document per key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


class PlatformSetting(Base):
    """One setting: ``key`` (``defaults``) and its document."""

    __tablename__ = "platform_settings"

    key: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
