"""The outbound policy: which addresses notifications and actions may connect to.

By default only public (globally routable unicast) addresses: loopback, link-local
(``169.254.0.0/16``, the cloud metadata service, and ``fe80::/10``), private (RFC 1918,
``fc00::/7``, ``100.64.0.0/10``), unspecified, multicast and reserved addresses are refused,
and so is an IPv6 address that embeds one of them (IPv4-mapped ``::ffff:a.b.c.d``, 6to4,
Teredo, NAT64). The operator widens it with ``VIGIL_OUTBOUND_ALLOW``: comma-separated
addresses or networks (``127.0.0.1/32``, ``10.0.0.0/8``, ``::1``), each optionally limited to
one port (``127.0.0.1:8025``, ``[::1]:8080``).

The policy is applied to the address a connection is actually made to, after DNS
resolution (:mod:`vigil.net.http`, :mod:`vigil.net.smtp`); :func:`check_url` is the
courtesy check at definition time, which can only judge literal addresses.

>>> policy = OutboundPolicy.parse("127.0.0.1:8025, 10.1.0.0/16")
>>> policy.refusal("8.8.8.8") is None, policy.refusal("10.1.2.3") is None
(True, True)
>>> policy.refusal("127.0.0.1", 8025) is None, policy.refusal("127.0.0.1", 80)
(True, '127.0.0.1 is a loopback address')
>>> OutboundPolicy().refusal("::ffff:169.254.169.254")
'::ffff:a9fe:a9fe is a link-local address'
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from vigil.errors import ConfigError
from vigil.net.errors import OutboundRefusedError

ENV_ALLOW = "VIGIL_OUTBOUND_ALLOW"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

__all__ = [
    "ENV_ALLOW",
    "OutboundPolicy",
    "check_url",
    "current_policy",
    "resolve_allowed",
]


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv4-mapped IPv6 address stands for, else ``ip``."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _embedded(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (6to4, Teredo, NAT64 ``64:ff9b::/96``)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    out: list[ipaddress.IPv4Address] = []
    if ip.sixtofour is not None:
        out.append(ip.sixtofour)
    if ip.teredo is not None:
        out.extend(ip.teredo)
    if ip in _NAT64:
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _kind(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address (``"loopback"``...), or None if it is."""
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _parse_entry(text: str) -> tuple[IPNetwork, int | None] | None:
    """One ``VIGIL_OUTBOUND_ALLOW`` entry: a network (or address) and an optional port; None
    when it is neither."""
    port: int | None = None
    host, number = text, ""
    if text.startswith("["):  # [v6] or [v6]:port
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            return None
        number = rest[1:]
    elif text.count(":") == 1:  # v4:port
        host, _, number = text.partition(":")
    if number or text.endswith(":"):
        if not number.isdigit() or not 0 < int(number) < 65536:
            return None
        port = int(number)
    try:
        return ipaddress.ip_network(host, strict=False), port
    except ValueError:
        return None


@dataclass(frozen=True)
class OutboundPolicy:
    """Public addresses, plus the networks (and ``(network, port)`` pairs) in ``allow``."""

    allow: tuple[tuple[IPNetwork, int | None], ...] = field(default=())

    @classmethod
    def parse(cls, text: str | None) -> OutboundPolicy:
        """The policy ``VIGIL_OUTBOUND_ALLOW``'s value describes; a bad entry is a
        :class:`~vigil.errors.ConfigError` naming it."""
        entries = []
        for raw in (text or "").split(","):
            item = raw.strip()
            if not item:
                continue
            entry = _parse_entry(item)
            if entry is None:
                raise ConfigError(
                    f"{ENV_ALLOW}: {item!r} is not an address or network (expected entries "
                    "such as 127.0.0.1/32, 10.0.0.0/8, ::1/128 or 127.0.0.1:8025)"
                )
            entries.append(entry)
        return cls(tuple(entries))

    def allows_explicitly(self, ip: IPAddress, port: int | None = None) -> bool:
        """Whether an ``allow`` entry covers ``ip`` (and ``port``, for entries with one)."""
        ip = _unwrap(ip)
        for network, only in self.allow:
            in_network = ip.version == network.version and ip in network
            if in_network and (only is None or port is None or only == port):
                return True
        return False

    def refusal(self, address: str | IPAddress, port: int | None = None) -> str | None:
        """Why a connection to ``address`` (``port``) is refused, or None when it is allowed.

        ``port`` None (a definition-time check, where the port is not known yet) matches
        entries limited to a port too."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if self.allows_explicitly(ip, port):
            return None
        for candidate in (_unwrap(ip), *_embedded(ip)):
            kind = _kind(candidate)
            if kind is not None:
                article = "an" if kind[0] in "aeiou" else "a"
                return f"{ip} is {article} {kind} address"
        return None

    def check(self, address: str | IPAddress, port: int | None = None, *, what: str = "") -> None:
        """Raise :class:`OutboundRefusedError` when ``address`` is refused."""
        reason = self.refusal(address, port)
        if reason is not None:
            raise OutboundRefusedError(_message(what, reason))


def _message(what: str, reason: str) -> str:
    target = f"{what}: " if what else ""
    return (
        f"{target}outbound connection refused by policy: {reason} (allow it with "
        f"{ENV_ALLOW}, for example {ENV_ALLOW}=127.0.0.1/32)"
    )


_CACHE: dict[str, OutboundPolicy] = {}


def current_policy() -> OutboundPolicy:
    """The policy of ``$VIGIL_OUTBOUND_ALLOW`` as it is now (read at every connection, so a
    process that changes its environment changes its policy)."""
    text = os.environ.get(ENV_ALLOW, "")
    policy = _CACHE.get(text)
    if policy is None:
        policy = _CACHE[text] = OutboundPolicy.parse(text)
    return policy


def resolve_allowed(
    host: str, port: int, policy: OutboundPolicy | None = None
) -> list[tuple[socket.AddressFamily, str]]:
    """Resolve ``host`` and return the ``(family, address)`` pairs the policy allows, in
    resolver order; raise :class:`OutboundRefusedError` when it allows none of them.

    Connecting to one of these addresses (never to ``host`` again, which could resolve
    differently the second time) is what makes DNS rebinding useless. A name that does not
    resolve raises ``socket.gaierror`` (an ``OSError``)."""
    policy = current_policy() if policy is None else policy
    name = host.strip("[]")
    infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    allowed: list[tuple[socket.AddressFamily, str]] = []
    reasons: list[str] = []
    for family, _, _, _, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        reason = policy.refusal(address, port)
        if reason is None:
            if (family, address) not in allowed:
                allowed.append((family, address))
        elif reason not in reasons:
            reasons.append(reason)
    if not allowed:
        reason = "; ".join(reasons) or f"{name} has no address"
        raise OutboundRefusedError(_message(f"{name}:{port}", reason))
    return allowed


def check_url(url: str, field_name: str, policy: OutboundPolicy | None = None) -> None:
    """The definition-time courtesy check: a URL whose host is a literal address the policy
    refuses is a :class:`~vigil.errors.ConfigError` naming ``field_name``. Host names pass
    (they are checked when connecting)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return
    if not host:
        return
    check_host(host, field_name, policy)


def check_host(host: str, field_name: str, policy: OutboundPolicy | None = None) -> None:
    """Like :func:`check_url` for a bare host (an SMTP server)."""
    try:
        ip = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return
    reason = (current_policy() if policy is None else policy).refusal(ip)
    if reason is not None:
        raise ConfigError(f"{field_name}: {_message('', reason)}")


def check_urls(values: Iterable[tuple[str, str]], policy: OutboundPolicy | None = None) -> None:
    """:func:`check_url` for each ``(field, url)``."""
    for field_name, url in values:
        check_url(url, field_name, policy)
