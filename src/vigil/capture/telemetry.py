"""Telemetry-only middlewares: SageMaker's endpoint metrics for services that capture nothing.

:class:`TelemetryMiddleware` wraps an ASGI app (FastAPI, Starlette) and
:class:`WSGITelemetryMiddleware` a WSGI app (Flask). For each request whose path matches
``routes`` (as the capture middlewares: exact paths or ``"/predict/*"`` prefixes; ``None``
counts every HTTP request) they call ``telemetry.record(model_ns, overhead_ns, status)`` on a
:class:`~vigil.capture.ServingTelemetry`, which aggregates per minute and publishes in its own
thread: nothing on the request path does I/O.

- ``ModelLatency``: from the call of the wrapped app until it returns (ASGI) or until its
  response iterable is exhausted or closed (WSGI): the model container's time, request
  reading and response sending included, as SageMaker measures it.
- ``OverheadLatency``: the middleware's own time around that call (route match, timers, the
  status hook's set-up). The counting call itself cannot time itself, so it is not in the
  figure (the benchmark measures it: bench/bench_telemetry.py).
- Status: the one the app sent in ``http.response.start`` (ASGI) or ``start_response``
  (WSGI); an app that raises counts as a 5xx, and the exception propagates unchanged.

>>> import asyncio
>>> from vigil.capture.publisher import ServingTelemetry
>>> sent = []
>>> telemetry = ServingTelemetry("churn", sink=sent.extend)
>>> async def model(scope, receive, send):
...     await send({"type": "http.response.start", "status": 200, "headers": []})
...     await send({"type": "http.response.body", "body": b"0.93"})
>>> app = TelemetryMiddleware(model, telemetry)
>>> async def call(path):
...     async def receive(): return {"type": "http.request", "body": b""}
...     async def send(message): pass
...     await app({"type": "http", "path": path, "headers": []}, receive, send)
>>> asyncio.run(call("/invocations")); asyncio.run(call("/ping"))
>>> telemetry.close()
>>> sorted({(d.name, d.sample_count) for d in sent if d.name.startswith("Invoc")})
[('Invocation4XXErrors', 1.0), ('Invocation5XXErrors', 1.0), ('Invocations', 1.0)]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from vigil.capture.middleware import (
    DEFAULT_ROUTES,
    ASGIApp,
    Message,
    Receive,
    RouteMatcher,
    Scope,
    Send,
    Timer,
)
from vigil.capture.publisher import ServingTelemetry
from vigil.errors import ConfigError

__all__ = ["TelemetryMiddleware", "WSGITelemetryMiddleware"]


def _matcher(routes: Sequence[str] | None) -> Callable[[str], bool] | None:
    if routes is None:
        return None
    if isinstance(routes, str):
        raise ConfigError(f"routes: expected a list of paths, got the string {routes!r}")
    return RouteMatcher(routes)


def _check(telemetry: object) -> ServingTelemetry:
    if not isinstance(telemetry, ServingTelemetry):
        raise ConfigError(f"telemetry: expected a ServingTelemetry, got {telemetry!r}")
    return telemetry


class TelemetryMiddleware:
    """ASGI: ``app = TelemetryMiddleware(app, ServingTelemetry("churn", sink=...))``.

    With FastAPI or Starlette: ``app.add_middleware(TelemetryMiddleware, telemetry=t)``.
    ``timer`` (nanoseconds, monotonic) is ``time.perf_counter_ns``.
    """

    def __init__(
        self,
        app: ASGIApp,
        telemetry: ServingTelemetry,
        routes: Sequence[str] | None = DEFAULT_ROUTES,
        timer: Timer = time.perf_counter_ns,
    ) -> None:
        self.app = app
        self.telemetry = _check(telemetry)
        self.match = _matcher(routes)
        self.timer = timer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = self.match
        if scope["type"] != "http" or (match is not None and not match(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        timer = self.timer
        entered = timer()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        called, failed = timer(), True
        try:
            await self.app(scope, receive, send_status)
            failed = False
        finally:  # an exception raised by the app counts as a 5xx
            returned = timer()
            self.telemetry.record(returned - called, called - entered + timer() - returned,
                                  500 if failed else int(status[0]))


class WSGITelemetryMiddleware:
    """WSGI: ``flask_app.wsgi_app = WSGITelemetryMiddleware(flask_app.wsgi_app, telemetry)``."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        telemetry: ServingTelemetry,
        routes: Sequence[str] | None = DEFAULT_ROUTES,
        timer: Timer = time.perf_counter_ns,
    ) -> None:
        self.app = app
        self.telemetry = _check(telemetry)
        self.match = _matcher(routes)
        self.timer = timer

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        match = self.match
        if match is not None and not match(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        timer = self.timer
        entered = timer()
        request = _Request(self.telemetry, timer, entered)

        def start_status(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            request.status = int(status[:3])
            if exc_info:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        request.called = timer()
        try:
            body = self.app(environ, start_status)
        except BaseException:
            request.finish(failed=True)
            raise
        return _TimedIterable(body, request)


class _Request:
    """One WSGI request in flight: its timestamps and status, recorded once."""

    __slots__ = ("called", "entered", "finished", "status", "telemetry", "timer")

    def __init__(self, telemetry: ServingTelemetry, timer: Timer, entered: int) -> None:
        self.telemetry, self.timer, self.entered = telemetry, timer, entered
        self.called = entered
        self.status = 500
        self.finished = False

    def finish(self, failed: bool = False) -> None:
        if self.finished:
            return
        self.finished = True
        returned = self.timer()
        self.telemetry.record(returned - self.called,
                              self.called - self.entered + self.timer() - returned,
                              500 if failed else self.status)  # fmt: skip


class _TimedIterable:
    """The app's response iterable; the request ends when it is exhausted, closed or raises."""

    def __init__(self, inner: Iterable[bytes], request: _Request) -> None:
        self.inner = inner
        self.request = request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.inner
        except Exception:
            self.request.finish(failed=True)
            raise
        self.request.finish()

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        try:
            if close is not None:
                close()
        finally:
            self.request.finish()
