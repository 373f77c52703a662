"""An ASGI middleware that refuses request bodies over a size limit (413, JSON error)."""

from __future__ import annotations

from typing import Any

import orjson

from vigil.errors import VigilError
from vigil.server.errors import error_body

Scope = dict[str, Any]


class BodyLimitMiddleware:
    """Reject a body larger than ``max_bytes``, by Content-Length or while it streams."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        refused = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    raise BodyTooLargeError(f"request body over {self.max_bytes} bytes")
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLargeError:
            if refused:
                await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = orjson.dumps(
            error_body(
                "payload_too_large", f"request body over the limit of {self.max_bytes} bytes"
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class BodyTooLargeError(VigilError):
    """A body past the limit (caught here, answered with a 413)."""

    code = "payload_too_large"
