"""Errors of the capture package, each with a stable ``code`` (see :mod:`vigil.errors`)."""

from __future__ import annotations

from vigil.errors import VigilError


class CaptureBodyTypeError(VigilError, TypeError):
    """A request or response body given to ``capture()`` that is neither bytes nor str."""

    code = "capture_body_type"
