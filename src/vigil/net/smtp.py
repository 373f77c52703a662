"""SMTP connections that go only where the outbound policy allows.

:class:`GuardedSMTP` and :class:`GuardedSMTPSSL` are ``smtplib``'s clients with the socket
made by :func:`guarded_connection`: resolve the host, check every address with the policy,
connect to an allowed one. The host name stays the one ``smtplib`` knows, so STARTTLS and
implicit TLS check the certificate against it.
"""

from __future__ import annotations

import smtplib
import socket
from typing import Any

from vigil.net.policy import OutboundPolicy, resolve_allowed

__all__ = ["GuardedSMTP", "GuardedSMTPSSL", "guarded_connection"]


def guarded_connection(
    host: str,
    port: int,
    timeout: float | None = None,
    source_address: Any = None,
    policy: OutboundPolicy | None = None,
) -> socket.socket:
    """A TCP connection to an address of ``host`` the policy allows (the first that answers);
    :class:`~vigil.net.errors.OutboundRefusedError` when it allows none."""
    last: OSError | None = None
    for family, address in resolve_allowed(host, port, policy):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address is not None:
                sock.bind(source_address)
            sock.connect((address, port))
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    assert last is not None
    raise last


class GuardedSMTP(smtplib.SMTP):
    """``smtplib.SMTP`` connecting through :func:`guarded_connection`."""

    def __init__(self, *args: Any, policy: OutboundPolicy | None = None, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return guarded_connection(host, port, timeout, self.source_address, self.policy)


class GuardedSMTPSSL(smtplib.SMTP_SSL):
    """``smtplib.SMTP_SSL`` connecting through :func:`guarded_connection`."""

    def __init__(self, *args: Any, policy: OutboundPolicy | None = None, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = guarded_connection(host, port, timeout, self.source_address, self.policy)
        return self.context.wrap_socket(sock, server_hostname=self._host)  # type: ignore[attr-defined]
