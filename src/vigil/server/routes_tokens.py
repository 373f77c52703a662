"""API tokens over the API: list, create (the secret is returned once), revoke. All ``admin``.

A revoked token stays listed (``revoked: true``) and is refused at once by every server on
the database; its name cannot be reused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, field_validator

from vigil.errors import ConfigError
from vigil.server import auth
from vigil.server.errors import ApiError
from vigil.server.schemas_common import errors
from vigil.server.state import ADMIN, ServerState, get_state

router = APIRouter(responses=errors(401, 403, 422))
TOKEN_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"


class TokenOut(BaseModel):
    """A token as listed: never its secret or hash."""

    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class TokenList(BaseModel):
    """Every token, by name."""

    tokens: list[TokenOut]


class TokenCreated(TokenOut):
    """A new token with its secret: shown this once, stored only as a hash."""

    secret: str


class TokenIn(BaseModel):
    """A token to create: a unique name and its scopes (read, ingest, write, admin)."""

    name: str = Field(pattern=TOKEN_NAME)
    scopes: list[str] = Field(default_factory=lambda: ["read"], min_length=1)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        try:
            return auth.parse_scopes(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None


@router.get("/tokens", response_model=TokenList, dependencies=[ADMIN])
def list_tokens(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """Every token: name, scopes, when created and last used, whether revoked."""
    return {"tokens": auth.list_tokens(state.db)}


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenCreated,
    dependencies=[ADMIN],
    responses=errors(400, 409, 413),
)
def create_token(body: TokenIn, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """Create a token; the answer holds its secret, which is never shown again."""
    if auth.get_token(state.db, body.name) is not None:
        raise ApiError(409, "conflict", f"a token named {body.name!r} exists already")
    secret = auth.create_token(state.db, body.name, body.scopes)
    created = auth.get_token(state.db, body.name)
    return {**(created or {}), "secret": secret}


@router.delete(
    "/tokens/{name}",
    response_model=TokenOut,
    dependencies=[ADMIN],
    responses=errors(404),
)
def revoke_token(name: str, state: ServerState = Depends(get_state)) -> auth.TokenInfo | None:
    """Revoke a token: refused at once on every server; it stays listed as revoked."""
    if not auth.revoke_token(state.db, name):
        raise ApiError(404, "not_found", f"no token named {name!r}")
    return auth.get_token(state.db, name)
