"""Capture what a deployed model sees and answers, as SageMaker data-capture files.

:class:`CaptureWriter` is the SDK a serving process calls once per inference;
:class:`CaptureMiddleware` (ASGI: FastAPI, Starlette) and :class:`WSGICaptureMiddleware`
(WSGI: Flask) call it for chosen routes. :func:`recover` publishes the in-progress files of a
writer that was killed; :func:`install_sigterm_flush` makes SIGTERM write everything first.
"""

from vigil.capture.middleware import CaptureMiddleware, WSGICaptureMiddleware
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
    "WSGICaptureMiddleware",
    "Window",
    "close_all",
    "flush_all",
    "install_sigterm_flush",
    "read_window",
    "recover",
]
