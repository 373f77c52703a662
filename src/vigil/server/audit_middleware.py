"""Who is asking, for the audit trail and the request log: a pure ASGI middleware.

Before the application runs, the bearer token of an HTTP request is looked up
(:class:`vigil.server.auth.TokenCache`: on the event loop when its answer is cached, in a
worker thread when the database must be asked) and the audit actor is set to
``token:<name>`` for the request's context, which FastAPI's thread pool inherits; the routes
still check scopes themselves (an unknown token is only left anonymous here). When the response
is done, one line goes to the ``vigil.server.requests`` logger: method, path (never the query
string), status, duration and actor.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.server import auth
from vigil.server.state import CHANGE_STAMP, TOKEN_LOOKUP
from vigil.store.audit import reset_actor, set_actor, token_actor

log = logging.getLogger("vigil.server.requests")

ANONYMOUS = "anonymous"


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            kind, _, secret = value.decode("latin-1").partition(" ")
            return secret.strip() if kind.lower() == "bearer" and secret.strip() else None
    return None


class AuditMiddleware:
    """Sets the audit actor from the bearer token and logs every HTTP request."""

    def __init__(self, app: ASGIApp, tokens: auth.TokenCache) -> None:
        self.app = app
        self.tokens = tokens

    def _actor(self, scope: Scope, secret: str, found: Any) -> str:
        """The actor of the request's token, its lookup kept in the scope for ``require``
        (one lookup a request)."""
        scope.setdefault("state", {})[TOKEN_LOOKUP] = (auth.hash_secret(secret), found)
        return token_actor(str(found[0])) if found else ANONYMOUS

    def _look_up(self, scope: Scope, secret: str) -> str:
        """:meth:`_actor` after a database lookup: runs in a worker thread, never on the
        event loop."""
        try:
            found: Any = self.tokens.lookup(secret)
        except Exception:  # the database is down: the route's own check will say so
            log.exception("token lookup failed")
            return ANONYMOUS
        return self._actor(scope, secret, found)

    async def _who(self, scope: Scope) -> str:
        secret = _bearer(scope)
        if secret is None:
            return ANONYMOUS
        at = self.tokens.stamp.current()  # once a request: the ingestion path reuses it
        if at is not None:
            scope.setdefault("state", {})[CHANGE_STAMP] = at
        known, found = self.tokens.cached(secret, at)
        if known:
            return self._actor(scope, secret, found)
        return await anyio.to_thread.run_sync(self._look_up, scope, secret)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        actor = await self._who(scope)
        status = 500
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        token = set_actor(actor)
        try:
            await self.app(scope, receive, sending)
        finally:
            reset_actor(token)
            ms = round((time.perf_counter() - started) * 1000, 1)
            method, path = scope.get("method", ""), scope.get("path", "")
            (log.warning if status >= 500 else log.info)(
                "%s %s %d %.1fms %s",
                method,
                path,
                status,
                ms,
                actor,
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": ms,
                    "actor": actor,
                },
            )
