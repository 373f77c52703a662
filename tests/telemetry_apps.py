"""Model apps for the serving-telemetry tests: FastAPI (ASGI) and Flask (WSGI) apps whose
"model" takes the latency the request asks for on a test clock, and answers its status.

The request names its latency (``X-Latency-Ns``) and status (``X-Status``; ``raise`` makes the
app raise). The app advances the shared :class:`ModelTimer` by that latency, so ModelLatency's
raw values are known exactly without any timing in the test. Use with
``from telemetry_apps import ...``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from flask import Flask
from flask import request as flask_request


class ModelTimer:
    """A nanosecond clock that moves only when the model says so (``timer=`` of the
    middlewares)."""

    def __init__(self) -> None:
        self.ns = 10**12

    def __call__(self) -> int:
        return self.ns


class Wall:
    """A settable wall clock in epoch seconds (``clock=`` of ServingTelemetry)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def fastapi_model(timer: ModelTimer) -> FastAPI:
    app = FastAPI()

    @app.post("/invocations")
    async def invocations(request: Request) -> Response:
        await request.body()
        timer.ns += int(request.headers["x-latency-ns"])
        status = request.headers.get("x-status", "200")
        if status == "raise":
            raise RuntimeError("the model broke")
        return Response(b"0.5", status_code=int(status), media_type="text/csv")

    @app.get("/ping")
    async def ping() -> Response:
        return Response(b"")

    return app


def flask_model(timer: ModelTimer) -> Flask:
    app = Flask("model")

    @app.post("/invocations")
    def invocations() -> tuple[bytes, int, dict[str, str]]:
        flask_request.get_data()
        timer.ns += int(flask_request.headers["X-Latency-Ns"])
        status = flask_request.headers.get("X-Status", "200")
        if status == "raise":
            raise RuntimeError("the model broke")
        return b"0.5", int(status), {"Content-Type": "text/csv"}

    @app.get("/ping")
    def ping() -> bytes:
        return b""

    return app
