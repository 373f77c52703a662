"""The hot path of capture ingestion as plain ASGI, in front of FastAPI's router.

``POST /api/v1/endpoints/{name}/captures`` is answered here without FastAPI's routing and
dependency machinery, which cost as much as checking and storing a hundred records: the same
checks in the same order (token and ``ingest`` scope, endpoint, body), the same answers and
the same error bodies as the route :func:`vigil.server.routes_ingest.ingest_captures`, which
serves OpenAPI and every request this one does not take. It sits inside the audit and body
limit middlewares, so a request is still logged, attributed and size-limited.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from vigil.server.errors import ApiError, error_body
from vigil.server.routes_ingest import store_captures
from vigil.server.state import CHANGE_STAMP, ServerState, authorize

_CAPTURES = re.compile(r"/api/v1/endpoints/([^/]+)/captures")


class IngestFastPath:
    """Answers capture ingestion itself; passes every other request on to ``app``."""

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            root = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            found = _CAPTURES.fullmatch(path)
            if found is not None:
                await self._ingest(found.group(1), scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _ingest(self, name: str, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            secret, ctype = _headers(scope)
            await authorize(scope, self.state, secret, "ingest")
            body = await _body(receive)
            at = scope.get("state", {}).get(CHANGE_STAMP)
            status, answer = 200, await store_captures(self.state, name, body, ctype, at)
        except ApiError as exc:
            status, answer = exc.status, error_body(exc.code, exc.message, **exc.details)
        except _Disconnected:
            return
        content = orjson.dumps(answer)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(content)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


class _Disconnected(Exception):
    """The client went away before its body was read."""


def _headers(scope: Scope) -> tuple[str, str]:
    """(bearer secret or "", content type) as FastAPI's ``HTTPBearer`` and Starlette read
    them: the first header of each name."""
    authorization = ctype = None
    for key, value in scope["headers"]:
        if key == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
        elif key == b"content-type" and ctype is None:
            ctype = value.decode("latin-1")
    secret = ""
    if authorization:
        kind, _, param = authorization.partition(" ")
        param = param.strip()
        if kind and param and kind.lower() == "bearer":
            secret = param
    return secret.strip(), ctype or ""


async def _body(receive: Receive) -> bytes:
    chunks: list[Any] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
