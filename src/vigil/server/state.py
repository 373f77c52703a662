"""What every request handler reaches: settings, database, metric store; auth dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from vigil.server import auth
from vigil.server.errors import ApiError
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.settings import Settings


@dataclass
class ServerState:
    """The shared objects of one server process."""

    settings: Settings
    db: Database
    metrics: MetricStore
    extras: dict[str, Any] = field(default_factory=dict)
    tokens: auth.TokenCache = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = auth.TokenCache(self.db)


def get_state(request: Request) -> ServerState:
    """The server's state (set by create_app)."""
    return request.app.state.vigil


TOKEN_LOOKUP = "vigil.token"
CHANGE_STAMP = "vigil.change_stamp"  # the database's change stamp read at the request's start
"""Where a request's scope keeps ``(hash of its secret, authenticate's answer)`` once looked up."""

# Declares the bearer scheme in OpenAPI; ``auto_error=False`` leaves the 401 (and its JSON
# body) to ``require``.
bearer = HTTPBearer(
    auto_error=False, description="An API token: `vigil token create` prints its secret."
)


def require(scope: str) -> Callable[..., Any]:
    """A dependency that demands a bearer token carrying ``scope``."""

    # async, the state read off the request: no thread hop when the lookup is known already
    async def check(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> str:
        secret = credentials.credentials.strip() if credentials is not None else ""
        return await authorize(request.scope, get_state(request), secret, scope)

    return check


async def authorize(request_scope: Any, state: ServerState, secret: str, scope: str) -> str:
    """The name of the token ``secret`` when it is live and carries ``scope``; else ApiError
    401 (missing, unknown or revoked) or 403 (another scope). Uses the audit middleware's
    lookup of the same request when there is one (``request_scope`` is the ASGI scope)."""
    if not secret:
        raise ApiError(401, "unauthorized", "missing bearer token (Authorization: Bearer ...)")
    looked_up = request_scope.get("state", {}).get(TOKEN_LOOKUP)
    if looked_up is not None and looked_up[0] == auth.hash_secret(secret):
        found = looked_up[1]  # this request's lookup (the audit middleware's), not another
    else:
        found = await run_in_threadpool(state.tokens.lookup, secret)
    if found is None:
        raise ApiError(401, "unauthorized", "unknown or revoked token")
    name, scopes = found
    if scope not in auth.expand_scopes(scopes.split(",")):
        raise ApiError(403, "forbidden", f"token {name!r} lacks the {scope!r} scope")
    return str(name)


READ = Depends(require("read"))
INGEST = Depends(require("ingest"))
WRITE = Depends(require("write"))
ADMIN = Depends(require("admin"))
