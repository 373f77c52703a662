"""Outgoing connections: the operator's outbound policy, enforced when connecting.

Notifications (webhook, Slack, PagerDuty, Alertmanager, email) and HTTP action targets reach
only public addresses unless ``VIGIL_OUTBOUND_ALLOW`` allows more. The address is checked
after DNS resolution, at connect time, and the connection goes to the checked address:

- :mod:`~vigil.net.policy`: :class:`OutboundPolicy`, ``$VIGIL_OUTBOUND_ALLOW``, the
  definition-time check of literal addresses (:func:`check_url`);
- :mod:`~vigil.net.http`: :func:`guarded_client`, an httpx client over a checking backend;
- :mod:`~vigil.net.smtp`: ``smtplib`` clients over a checking connection;
- :mod:`~vigil.net.errors`: :class:`OutboundRefusedError`.

This package sits on the floor of ``vigil.capture``, below ``alerts`` and ``actions``, which
both use it.
"""

from __future__ import annotations

from vigil.net.errors import OutboundRefusedError
from vigil.net.policy import (
    ENV_ALLOW,
    OutboundPolicy,
    check_host,
    check_url,
    check_urls,
    current_policy,
    resolve_allowed,
)

__all__ = [
    "ENV_ALLOW",
    "OutboundPolicy",
    "OutboundRefusedError",
    "check_host",
    "check_url",
    "check_urls",
    "current_policy",
    "resolve_allowed",
]
