"""Capture the request and response bodies of chosen routes of an ASGI or WSGI app.

:class:`CaptureMiddleware` wraps an ASGI app (FastAPI, Starlette) and
:class:`WSGICaptureMiddleware` a WSGI app (Flask). For a request whose path matches one of
``routes`` (an exact path, or a prefix written ``"/predict/*"``) they keep a copy of the request
body as the app reads it and of the response body as it is sent, and when the response is
complete they call :meth:`CaptureWriter.capture` with the request's ``Content-Type``, the
response's ``Content-Type`` as ``accept``, and the inference id and custom attributes from the
configured headers. What the client sees is unchanged (streamed responses still stream); a
failing capture is logged, never raised into the app. Responses with a status of 400 or more
are not captured unless ``capture_errors=True``.

With ``telemetry=`` (a :class:`~vigil.capture.ServingTelemetry`) they also count every request
of those routes as SageMaker's endpoint metrics: ``ModelLatency`` is the time spent in the
wrapped app, ``OverheadLatency`` the middleware's own time (header parsing, the capture
call's serialisation and enqueueing, counting), with the status the app answered (an
exception raised by the app counts as a 5xx, and is re-raised).

>>> from vigil.capture.middleware import RouteMatcher
>>> match = RouteMatcher(("/invocations", "/predict/*"))
>>> match("/invocations"), match("/predict/churn"), match("/predict"), match("/health")
(True, True, False, False)
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping, Sequence
from typing import Any

from vigil.capture.publisher import ServingTelemetry
from vigil.capture.writer import CaptureWriter

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Timer = Callable[[], int]

DEFAULT_ROUTES = ("/invocations",)


class RouteMatcher:
    """Exact paths, and prefixes written with a trailing ``/*`` (``"/predict/*"``)."""

    def __init__(self, routes: Iterable[str]) -> None:
        routes = tuple(routes)
        self.exact = frozenset(r for r in routes if not r.endswith("*"))
        self.prefixes = tuple(r[:-1] for r in routes if r.endswith("*"))

    def __call__(self, path: str) -> bool:
        return path in self.exact or (bool(self.prefixes) and path.startswith(self.prefixes))


class _Capturer:
    """What both middlewares share: routes, header names, the writer call."""

    def __init__(
        self,
        writer: CaptureWriter,
        routes: Sequence[str],
        inference_id_header: str | None,
        custom_attributes_header: str | None,
        capture_errors: bool,
        telemetry: ServingTelemetry | None = None,
        timer: Timer = time.perf_counter_ns,
    ) -> None:
        self.writer = writer
        self.telemetry = telemetry
        self.timer = timer
        self.match = RouteMatcher(routes)
        self.id_header = inference_id_header.lower() if inference_id_header else None
        self.attr_header = custom_attributes_header.lower() if custom_attributes_header else None
        self.capture_errors = capture_errors

    def record(
        self,
        status: int,
        request: bytes,
        response: bytes,
        content_type: str | None,
        accept: str | None,
        inference_id: str | None,
        attributes: str | None,
    ) -> None:
        if status >= 400 and not self.capture_errors:
            return
        try:
            self.writer.capture(
                request,
                response,
                content_type=content_type or "application/octet-stream",
                accept=accept,
                inference_id=inference_id or None,
                custom_attributes=attributes or None,
            )
        except Exception:
            log.exception("capture of a %s response failed", status)


class CaptureMiddleware(_Capturer):
    """ASGI middleware: ``app = CaptureMiddleware(app, writer, routes=("/invocations",))``.

    With FastAPI or Starlette: ``app.add_middleware(CaptureMiddleware, writer=writer)``.
    """

    def __init__(
        self,
        app: ASGIApp,
        writer: CaptureWriter,
        routes: Sequence[str] = DEFAULT_ROUTES,
        inference_id_header: str | None = "X-Inference-Id",
        custom_attributes_header: str | None = "X-Custom-Attributes",
        capture_errors: bool = False,
        telemetry: ServingTelemetry | None = None,
        timer: Timer = time.perf_counter_ns,
    ) -> None:
        super().__init__(writer, routes, inference_id_header, custom_attributes_header,
                         capture_errors, telemetry, timer)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        telemetry, timer = self.telemetry, self.timer
        entered = timer() if telemetry is not None else 0
        own = [0]  # ns of our own work inside the app's call (the capture call)
        content_type = inference_id = attributes = None
        for name, value in scope.get("headers") or ():
            key = name.decode("latin-1").lower()
            if key == "content-type":
                content_type = value.decode("latin-1")
            elif key == self.id_header:
                inference_id = value.decode("latin-1")
            elif key == self.attr_header:
                attributes = value.decode("latin-1")
        request: list[bytes] = []
        response: list[bytes] = []
        started: dict[str, Any] = {"status": 500, "accept": None}

        async def receive_copy() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request.append(message.get("body", b""))
            return message

        async def send_copy(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                started["status"] = int(message["status"])
                for name, value in message.get("headers") or ():
                    if name.lower() == b"content-type":
                        started["accept"] = value.decode("latin-1")
            await send(message)
            if kind == "http.response.body":
                response.append(message.get("body", b""))
                if not message.get("more_body", False):
                    begun = timer() if telemetry is not None else 0
                    self.record(started["status"], b"".join(request), b"".join(response),
                                content_type, started["accept"], inference_id, attributes)
                    if telemetry is not None:
                        own[0] += timer() - begun

        if telemetry is None:
            await self.app(scope, receive_copy, send_copy)
            return
        called, status = timer(), 500  # an exception raised by the app counts as a 5xx
        try:
            await self.app(scope, receive_copy, send_copy)
            status = started["status"]
        finally:
            returned = timer()
            telemetry.record(returned - called - own[0],
                             called - entered + own[0] + timer() - returned, status)


class WSGICaptureMiddleware(_Capturer):
    """WSGI middleware: ``flask_app.wsgi_app = WSGICaptureMiddleware(flask_app.wsgi_app, w)``."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        writer: CaptureWriter,
        routes: Sequence[str] = DEFAULT_ROUTES,
        inference_id_header: str | None = "X-Inference-Id",
        custom_attributes_header: str | None = "X-Custom-Attributes",
        capture_errors: bool = False,
        telemetry: ServingTelemetry | None = None,
        timer: Timer = time.perf_counter_ns,
    ) -> None:
        super().__init__(writer, routes, inference_id_header, custom_attributes_header,
                         capture_errors, telemetry, timer)
        self.app = app

    @staticmethod
    def _environ_key(header: str | None) -> str | None:
        return "HTTP_" + header.upper().replace("-", "_") if header else None

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if not self.match(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        telemetry, timer = self.telemetry, self.timer
        entered = timer() if telemetry is not None else 0
        request = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(request)
        environ["CONTENT_LENGTH"] = str(len(request))
        id_key = self._environ_key(self.id_header)
        attr_key = self._environ_key(self.attr_header)
        state: dict[str, Any] = {"status": 500, "accept": None}
        chunks: list[bytes] = []

        def start_copy(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            state["status"] = int(status.split(" ", 1)[0])
            for name, value in headers:
                if name.lower() == "content-type":
                    state["accept"] = value
            write = start_response(status, headers, exc_info) if exc_info else start_response(
                status, headers)

            def write_copy(data: bytes) -> Any:
                chunks.append(data)
                return write(data)

            return write_copy

        def done() -> None:
            self.record(state["status"], request, b"".join(chunks),
                        environ.get("CONTENT_TYPE"), state["accept"],
                        environ.get(id_key) if id_key else None,
                        environ.get(attr_key) if attr_key else None)

        if telemetry is None:
            return _CopyingIterable(self.app(environ, start_copy), chunks, done)
        count = _Counted(telemetry, timer, entered, state)
        try:
            body = self.app(environ, start_copy)
        except BaseException:
            count.finish(failed=True)
            raise
        return _CopyingIterable(body, chunks, done, count)


def _read_body(environ: dict[str, Any]) -> bytes:
    """The whole request body, by Content-Length or to the end of a terminated stream."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            n = int(length)
        except ValueError:
            n = 0
        return stream.read(n) if n > 0 else b""
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


class _Counted:
    """One WSGI request's telemetry: the app is "in" from its call until its response
    iterable is exhausted (or closed, or raises); our own work in between is subtracted."""

    def __init__(
        self, telemetry: ServingTelemetry, timer: Timer, entered: int, state: dict[str, Any]
    ) -> None:
        self.telemetry, self.timer, self.entered, self.state = telemetry, timer, entered, state
        self.called = timer()
        self.own = 0
        self.finished = False

    def finish(self, failed: bool = False) -> None:
        if self.finished:
            return
        self.finished = True
        returned = self.timer()
        self.telemetry.record(returned - self.called - self.own,
                              self.called - self.entered + self.own + self.timer() - returned,
                              500 if failed else self.state["status"])  # fmt: skip


class _CopyingIterable:
    """The app's response iterable, keeping a copy; captures once it has been sent whole."""

    def __init__(
        self,
        inner: Iterable[bytes],
        chunks: list[bytes],
        done: Callable[[], None],
        count: _Counted | None = None,
    ) -> None:
        self.inner = inner
        self.chunks = chunks
        self.done = done
        self.count = count

    def __iter__(self) -> Iterator[bytes]:
        count = self.count
        if count is None:
            for chunk in self.inner:
                self.chunks.append(chunk)
                yield chunk
            self.done()
            return
        try:
            for chunk in self.inner:
                self.chunks.append(chunk)
                yield chunk
        except Exception:
            count.finish(failed=True)
            raise
        begun = count.timer()
        self.done()
        count.own += count.timer() - begun
        count.finish()

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        try:
            if close is not None:
                close()
        finally:
            if self.count is not None:
                self.count.finish()
