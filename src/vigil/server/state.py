"""What every request handler reaches: settings, database, metric store; auth dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request

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


def get_state(request: Request) -> ServerState:
    """The server's state (set by create_app)."""
    return request.app.state.vigil


def require(scope: str) -> Callable[..., Any]:
    """A dependency that demands a bearer token carrying ``scope``."""

    def check(request: Request, state: ServerState = Depends(get_state)) -> str:
        header = request.headers.get("authorization", "")
        kind, _, secret = header.partition(" ")
        if kind.lower() != "bearer" or not secret:
            raise ApiError(401, "unauthorized", "missing bearer token (Authorization: Bearer ...)")
        found = auth.authenticate(state.db, secret.strip())
        if found is None:
            raise ApiError(401, "unauthorized", "unknown or revoked token")
        name, scopes = found
        if scope not in auth.expand_scopes(scopes.split(",")):
            raise ApiError(403, "forbidden", f"token {name!r} lacks the {scope!r} scope")
        return name

    return check


READ = Depends(require("read"))
INGEST = Depends(require("ingest"))
WRITE = Depends(require("write"))
ADMIN = Depends(require("admin"))
