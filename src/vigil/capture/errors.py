"""Errors of the capture package, each with a stable ``code`` (see :mod:`vigil.errors`)."""

from __future__ import annotations

from vigil.errors import VigilError


class CaptureBodyTypeError(VigilError, TypeError):
    """A request or response body given to ``capture()`` that is neither bytes nor str."""

    code = "capture_body_type"


class TelemetrySendError(VigilError, RuntimeError):
    """Serving telemetry that a sink could not deliver. ``retryable`` False means the receiver
    refused the data itself (a 4xx other than 408 or 429): sending it again cannot help."""

    code = "telemetry_send"

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class CommitterClosedError(VigilError, RuntimeError):
    """Captures handed to the group committer after the server began to shut down."""

    code = "committer_closed"
