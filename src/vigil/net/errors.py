"""Errors of the outbound policy, each with a stable ``code`` (see :mod:`vigil.errors`)."""

from __future__ import annotations

from vigil.errors import VigilError


class OutboundRefusedError(VigilError, PermissionError):
    """A connection the outbound policy refuses: the destination's address (as resolved when
    connecting) is loopback, link-local, private or otherwise not public, and
    ``VIGIL_OUTBOUND_ALLOW`` does not allow it.

    It is a :class:`PermissionError` (an :class:`OSError`), so code that treats a failed
    connection as a failed attempt (``smtplib``'s callers, delivery retries) does so here too.
    """

    code = "outbound_refused"
