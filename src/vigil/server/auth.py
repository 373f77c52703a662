"""API tokens: random secrets shown once, stored as SHA-256 hashes, with scopes.

A token carries scopes ``read``, ``write`` and/or ``admin``; ``write`` implies ``read`` and
``admin`` implies both. The secret is ``vgl_`` followed by 43 URL-safe characters (256 bits);
only its hash is stored, so a database dump reveals no usable token.

>>> secret = new_secret()
>>> secret.startswith("vgl_") and len(secret) == 47
True
>>> hash_secret("vgl_x") == hash_secret("vgl_x") != hash_secret("vgl_y")
True
>>> sorted(expand_scopes({"write"}))
['read', 'write']
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import select

from vigil.errors import ConfigError
from vigil.store.columns import utcnow
from vigil.store.db import Database
from vigil.store.models import ApiToken

SCOPES = ("read", "write", "admin")
PREFIX = "vgl_"


def new_secret() -> str:
    """A fresh random token secret."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def expand_scopes(scopes: Iterable[str]) -> set[str]:
    """Scopes with what they imply (admin > write > read)."""
    granted = set(scopes)
    if "admin" in granted:
        granted |= {"write", "read"}
    if "write" in granted:
        granted.add("read")
    return granted


def parse_scopes(text: str | Iterable[str]) -> list[str]:
    """``"read,write"`` as a validated list."""
    items = [s.strip() for s in (text.split(",") if isinstance(text, str) else text)]
    items = [s for s in items if s]
    unknown = [s for s in items if s not in SCOPES]
    if unknown or not items:
        raise ConfigError(
            f"scopes {','.join(items) or '(none)'}: expected a comma-separated list of "
            f"{', '.join(SCOPES)}"
        )
    return items


def create_token(db: Database, name: str, scopes: str | Iterable[str]) -> str:
    """Store a new token and return its secret (the only time it is visible)."""
    granted = parse_scopes(scopes)
    secret = new_secret()
    with db.session() as session:
        existing = session.scalar(select(ApiToken).where(ApiToken.name == name))
        if existing is not None:
            raise ConfigError(f"a token named {name!r} exists already; pick another name")
        session.add(ApiToken(name=name, token_hash=hash_secret(secret), scopes=",".join(granted)))
    return secret


def authenticate(db: Database, secret: str) -> ApiToken | None:
    """The live token matching ``secret``, or None; records when it was last used."""
    if not secret.startswith(PREFIX):
        return None
    with db.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
        if token is None or token.revoked:
            return None
        token.last_used_at = utcnow()
        return token


def revoke_token(db: Database, name: str) -> bool:
    """Revoke a token by name; False when there is none."""
    with db.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.name == name))
        if token is None:
            return False
        token.revoked = True
        return True
