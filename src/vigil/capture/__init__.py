"""Capture what a deployed model sees and answers, as SageMaker data-capture files.

:class:`CaptureWriter` is the SDK a serving process calls once per inference;
:class:`CaptureMiddleware` (ASGI: FastAPI, Starlette) and :class:`WSGICaptureMiddleware`
(WSGI: Flask) call it for chosen routes. :class:`ServingTelemetry` counts SageMaker's endpoint
metrics (invocations, 4xx/5xx errors, model and overhead latency) per minute and publishes them
from a thread; the capture middlewares take it as ``telemetry=``, and
:class:`TelemetryMiddleware` / :class:`WSGITelemetryMiddleware` record it without capturing.
:func:`recover` publishes the in-progress files of a writer that was killed;
:func:`install_sigterm_flush` makes SIGTERM write everything first (telemetry included).
"""

from vigil.capture.middleware import CaptureMiddleware, WSGICaptureMiddleware
from vigil.capture.publisher import (
    HttpSink,
    MetricSink,
    ServingTelemetry,
    TelemetryStats,
    prometheus_text,
    store_sink,
)
from vigil.capture.telemetry import TelemetryMiddleware, WSGITelemetryMiddleware
from vigil.capture.window import Window, read_window
from vigil.capture.writer import (
    CaptureStats,
    CaptureWriter,
    close_all,
    flush_all,
    install_sigterm_flush,
    recover,
)

__all__ = [
    "CaptureMiddleware",
    "CaptureStats",
    "CaptureWriter",
    "HttpSink",
    "MetricSink",
    "ServingTelemetry",
    "TelemetryMiddleware",
    "TelemetryStats",
    "WSGICaptureMiddleware",
    "WSGITelemetryMiddleware",
    "Window",
    "close_all",
    "flush_all",
    "install_sigterm_flush",
    "prometheus_text",
    "read_window",
    "recover",
    "store_sink",
]
