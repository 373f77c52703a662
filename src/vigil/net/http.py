"""httpx clients that connect only where the outbound policy allows.

:class:`GuardedBackend` is an httpcore network backend: for every new connection it resolves
the host, checks every address with the policy (:mod:`vigil.net.policy`) and connects to an
allowed address itself, so the address checked is the address connected to (a DNS answer
that changes between a check and a connect cannot matter). The URL's host still goes into
the ``Host`` header and TLS's SNI and certificate check, as httpcore takes them from the
request, not from the socket. Redirects are not followed by these clients; were a caller to
follow one, its connection would go through the same check. Proxies from the environment are
not used (``trust_env=False``): the policy judges the destination itself.

>>> with guarded_client(OutboundPolicy()) as client:
...     client.get("http://127.0.0.1:9/")  # doctest: +ELLIPSIS
Traceback (most recent call last):
vigil.net.errors.OutboundRefusedError: [outbound_refused] 127.0.0.1:9: ... loopback address ...
"""

from __future__ import annotations

import socket
import ssl
import typing
from typing import Any

import httpcore
import httpx

from vigil.errors import VigilError
from vigil.net.errors import OutboundRefusedError
from vigil.net.policy import OutboundPolicy, resolve_allowed

__all__ = ["GuardedBackend", "GuardedTransport", "HostNotResolvedError", "guarded_client"]


class HostNotResolvedError(VigilError, httpcore.ConnectError):
    """The host of an outbound connection does not resolve. It is httpcore's ``ConnectError``
    (what a network backend raises for a failed connection), which httpx reports as
    ``httpx.ConnectError``: an ordinary, retried connection failure."""

    code = "host_not_resolved"


class GuardedBackend(httpcore.NetworkBackend):
    """A synchronous network backend that resolves, checks and connects to checked addresses.

    ``policy`` None reads ``$VIGIL_OUTBOUND_ALLOW`` at each connection."""

    def __init__(self, policy: OutboundPolicy | None = None) -> None:
        self.policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve_allowed(host, port, self.policy)
        except socket.gaierror as exc:
            raise HostNotResolvedError(f"cannot resolve {host!r}: {exc}") from None
        last: Exception | None = None
        for _, address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise OutboundRefusedError(f"unix socket {path}: outbound connection refused by policy")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connections go through :class:`GuardedBackend`."""

    def __init__(
        self,
        policy: OutboundPolicy | None = None,
        *,
        verify: ssl.SSLContext | str | bool = True,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20),
        http2: bool = False,
    ) -> None:
        super().__init__(verify=verify, trust_env=False, limits=limits, http2=http2)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            network_backend=GuardedBackend(policy),
        )


def guarded_client(
    policy: OutboundPolicy | None = None,
    *,
    limits: httpx.Limits | None = None,
    verify: ssl.SSLContext | str | bool = True,
    **kwargs: Any,
) -> httpx.Client:
    """An ``httpx.Client`` that never follows redirects and connects only where ``policy``
    (default: ``$VIGIL_OUTBOUND_ALLOW`` at each connection) allows. ``kwargs`` go to
    ``httpx.Client`` (``timeout``, ``headers``)."""
    transport = GuardedTransport(
        policy,
        verify=verify,
        limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
    return httpx.Client(transport=transport, follow_redirects=False, trust_env=False, **kwargs)
