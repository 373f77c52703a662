"""API tokens: random secrets shown once, stored as SHA-256 hashes, with scopes.

A token carries scopes ``read``, ``ingest``, ``write`` and/or ``admin``:

- ``read``: every ``GET``;
- ``ingest``: sends data only (captures, ground truth, metrics): a serving process's token;
- ``write``: changes configuration and sends data; implies ``read`` and ``ingest``; never runs
  code on the server;
- ``admin``: implies all of them; needed to manage tokens and to define anything that runs code
  on the server (command and Python targets, preprocessors), which the operator's code policy
  must allow as well (:mod:`vigil.store.code_policy`).

The secret is ``vgl_`` followed by 43 URL-safe characters (256 bits); only its hash is stored,
so a database dump reveals no usable token. Every request looks its token up (by the unique,
indexed hash), so a revocation holds at once on every server sharing the database; a server
keeps its answers in a :class:`TokenCache` only while the database's change stamp stands still
(:mod:`vigil.store.change_stamp`), which any commit (a revocation among them) moves.

>>> secret = new_secret()
>>> secret.startswith("vgl_") and len(secret) == 47
True
>>> hash_secret("vgl_x") == hash_secret("vgl_x") != hash_secret("vgl_y")
True
>>> sorted(expand_scopes({"write"}))
['ingest', 'read', 'write']
>>> sorted(expand_scopes({"ingest"}))
['ingest']
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import or_, select, update

from vigil.errors import ConfigError
from vigil.store.change_stamp import ChangeStamp, StampedCache
from vigil.store.columns import utcnow
from vigil.store.db import Database
from vigil.store.models import ApiToken

SCOPES = ("read", "ingest", "write", "admin")
PREFIX = "vgl_"
#: what each scope grants beyond itself
IMPLIES = {"admin": ("write", "read", "ingest"), "write": ("read", "ingest")}
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often


def new_secret() -> str:
    """A fresh random token secret."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def expand_scopes(scopes: Iterable[str]) -> set[str]:
    """Scopes with what they imply (admin > write > read and ingest)."""
    granted = {s.strip() for s in scopes if s.strip()}
    for scope in list(granted):
        granted.update(IMPLIES.get(scope, ()))
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


def authenticate(db: Database, secret: str) -> tuple[str, str] | None:
    """``(name, scopes)`` of the live token matching ``secret``, or None.

    The token is looked up on every call (by its unique hash), so a token revoked by any
    server is refused at once; ``last_used_at`` is written at most once a minute per token
    (a conditional UPDATE), so a busy client costs no database write per request.
    """
    if not secret.startswith(PREFIX):
        return None
    digest = hash_secret(secret)
    # Core, not the ORM: one indexed lookup a request, without building objects
    with db.engine.connect() as conn:
        row = conn.execute(
            select(ApiToken.id, ApiToken.name, ApiToken.scopes, ApiToken.last_used_at).where(
                ApiToken.token_hash == digest, ApiToken.revoked.is_(False)
            )
        ).first()
        if row is None:
            return None
        now = utcnow()
        last = row.last_used_at  # timezone-aware UTC (the column's type)
        if last is None or now - last >= LAST_USED_EVERY:
            conn.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == row.id,
                    or_(
                        ApiToken.last_used_at.is_(None),
                        ApiToken.last_used_at <= now - LAST_USED_EVERY,
                    ),
                )
                .values(last_used_at=now)
            )
            conn.commit()
    return row.name, row.scopes


Found = tuple[str, str] | None
"""What :func:`authenticate` answers: ``(name, scopes)`` or None."""


class TokenCache:
    """:func:`authenticate`'s answers by secret hash, each kept while nothing was committed
    to the database since it was read (so a revocation by any server holds at the next
    request) and for at most :data:`LAST_USED_EVERY` (so ``last_used_at`` is still written
    once a minute). On a database without a change stamp every lookup is a query."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.stamp = ChangeStamp(db)
        self._cache: StampedCache[tuple[Found, float]] = StampedCache(self.stamp)

    def cached(self, secret: str, at: int | None = None) -> tuple[bool, Found]:
        """``(True, answer)`` when the answer is known without a query (cheap enough for the
        event loop: no lock is waited for), else ``(False, None)``; ``at`` is the database's
        change stamp when the caller has just read it."""
        if not secret.startswith(PREFIX):
            return True, None
        hit, value = self._cache.peek(hash_secret(secret), at)
        if hit and value is not None and time.monotonic() - value[1] < _FRESH_SECONDS:
            return True, value[0]
        return False, None

    def lookup(self, secret: str) -> Found:
        """:func:`authenticate`, answered from the cache when it can be (blocks on a miss)."""
        if not secret.startswith(PREFIX):
            return None
        digest = hash_secret(secret)
        known, found = self.cached(secret)
        if known:
            return found
        self._cache.drop(digest)
        return self._cache.get(digest, lambda: (authenticate(self.db, secret), time.monotonic()))[0]


_FRESH_SECONDS = LAST_USED_EVERY.total_seconds()


def revoke_token(db: Database, name: str) -> bool:
    """Revoke a token by name (at once, on every server); False when there is none."""
    with db.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.name == name))
        if token is None:
            return False
        token.revoked = True
    return True


class TokenInfo(TypedDict):
    """A token as listed: never its secret or hash."""

    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


def token_info(token: ApiToken) -> TokenInfo:
    """A token as listed (never its secret or hash)."""
    return {
        "name": token.name,
        "scopes": token.scope_list,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked": bool(token.revoked),
    }


def list_tokens(db: Database) -> list[TokenInfo]:
    """Every token, by name: name, scopes, created, last used, revoked."""
    with db.session() as session:
        return [token_info(t) for t in session.scalars(select(ApiToken).order_by(ApiToken.name))]


def get_token(db: Database, name: str) -> TokenInfo | None:
    """One token as listed, or None."""
    with db.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.name == name))
        return token_info(token) if token is not None else None


def token_scopes(db: Database, name: str) -> set[str]:
    """The scopes a live token holds, with what they imply (empty when revoked or unknown)."""
    with db.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.name == name))
        if token is None or token.revoked:
            return set()
        return expand_scopes(token.scope_list)
