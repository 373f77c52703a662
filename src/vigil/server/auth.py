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
import time
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


CACHE_SECONDS = 5.0  # a token revoked by another process stops working within this long
_cache: dict[tuple[int, str], tuple[float, tuple[str, str] | None]] = {}


def authenticate(db: Database, secret: str) -> tuple[str, str] | None:
    """``(name, scopes)`` of the live token matching ``secret``, or None.

    Lookups are cached for a few seconds per database, and ``last_used_at`` is written at
    most once per cache period, so a busy client costs no database write per request.
    """
    if not secret.startswith(PREFIX):
        return None
    digest = hash_secret(secret)
    key = (id(db), digest)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    with db.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        found = None
        if token is not None and not token.revoked:
            token.last_used_at = utcnow()
            found = (token.name, token.scopes)
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[key] = (now, found)
    return found


def revoke_token(db: Database, name: str) -> bool:
    """Revoke a token by name; False when there is none."""
    with db.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.name == name))
        if token is None:
            return False
        token.revoked = True
    _cache.clear()
    return True
