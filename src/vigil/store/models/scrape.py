"""Scrape configs (``scrape_configs`` of ``vigil.yaml``): Prometheus targets the server scrapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


class ScrapeConfigRecord(Base):
    """One scrape job; ``spec`` is its ``vigil.yaml`` form with the credentials sealed."""

    __tablename__ = "scrape_configs"

    job_name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
