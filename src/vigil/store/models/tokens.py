"""API tokens: only the SHA-256 of a secret is stored."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


class ApiToken(Base):
    """A bearer token for the HTTP API; only the SHA-256 of its secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    @staticmethod
    def hash_secret(secret: str) -> str:
        """The stored form of a token's secret: SHA-256, hex.

        >>> ApiToken.hash_secret("s3cret")[:16]
        '1ec1c26b50d5d3c5'
        """
        return hashlib.sha256(secret.encode("utf-8")).hexdigest()

    @property
    def scope_list(self) -> list[str]:
        """``scopes`` split on commas, blanks dropped."""
        return [s.strip() for s in self.scopes.split(",") if s.strip()]
