"""A subscription: where a topic's messages go, through which channel, filtered how.

>>> s = Subscription(id="ops-hook", protocol="webhook", config={"url": "http://x/hook"},
...                  filter_policy={"severity": ["critical"]})
>>> s.retry_policy.delays(), s.accepts({"severity": "critical"}), s.accepts({})
([20.0, 20.0, 20.0], True, False)
>>> Subscription.from_dict(s.to_dict()) == s
True

Each protocol declares its secret settings (:data:`SECRETS_BY_PROTOCOL`, from the channel
modules); :meth:`Subscription.redacted_config` hides them:

>>> Subscription(id="pd", protocol="pagerduty", config={"routing_key": "R1"}).redacted_config()
{'routing_key': '***'}

``min_severity`` keeps the messages at least that urgent (a message without a ``severity``
attribute counts as ``warning``), on top of the filter policy:

>>> pager = Subscription(id="sms", protocol="sms", min_severity="high")
>>> pager.accepts({"severity": "critical"}), pager.accepts({"severity": "warning"})
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vigil.alerts.delivery import alertmanager, chat, pagerduty, slack, sms, smtp, teams, webhook
from vigil.alerts.delivery.message import filter_matches
from vigil.alerts.delivery.retry import RetryPolicy, default_policy
from vigil.errors import ConfigError
from vigil.events.severity import at_least, parse_severity
from vigil.store.secrets import NO_SECRETS, SecretFields, redact

PROTOCOLS = ("email", "webhook", "slack", "pagerduty", "alertmanager", "sms", "teams", "chat")

#: The secret settings of each protocol, as its channel module declares them.
SECRETS_BY_PROTOCOL: dict[str, SecretFields] = {
    "email": smtp.SECRETS,
    "webhook": webhook.SECRETS,
    "slack": slack.SECRETS,
    "pagerduty": pagerduty.SECRETS,
    "alertmanager": alertmanager.SECRETS,
    "sms": sms.SECRETS,
    "teams": teams.SECRETS,
    "chat": chat.SECRETS,
}


def secret_fields(protocol: str) -> SecretFields:
    """The secret settings of ``protocol`` (none for an unknown one)."""
    return SECRETS_BY_PROTOCOL.get(protocol, NO_SECRETS)


class SubscriptionTakenError(ConfigError):
    """A subscription id that another topic already uses (ids are unique across topics)."""

    code = "subscription_taken"


@dataclass(frozen=True)
class Subscription:
    """``id`` names the subscription (and its dead letters); ``config`` is the channel's.

    ``retry`` overrides the protocol's default :class:`RetryPolicy` (SNS's).
    """

    id: str
    protocol: str
    config: Mapping[str, Any] = field(default_factory=dict)
    topic: str = ""
    filter_policy: Mapping[str, Any] | None = None
    retry: RetryPolicy | None = None
    min_severity: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ConfigError("subscription: id must not be empty")
        if self.protocol not in PROTOCOLS:
            raise ConfigError(
                f"subscription {self.id!r} protocol: expected one of {', '.join(PROTOCOLS)}, "
                f"got {self.protocol!r}"
            )
        if self.min_severity is not None:
            level = parse_severity(self.min_severity, f"subscription {self.id!r} min_severity")
            object.__setattr__(self, "min_severity", level)
        if self.protocol == "chat":
            chat.validate_config(self.config)

    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy in force: ``retry`` or the protocol's default."""
        return self.retry or default_policy(self.protocol)

    def accepts(self, attributes: Mapping[str, Any]) -> bool:
        """Whether a message with ``attributes`` passes ``min_severity`` and the filter
        policy."""
        if self.min_severity is not None and not at_least(
            attributes.get("severity"), self.min_severity
        ):
            return False
        return filter_matches(self.filter_policy, attributes)

    @property
    def secret_fields(self) -> SecretFields:
        """The secret settings of this subscription's protocol."""
        return secret_fields(self.protocol)

    def redacted_config(self) -> dict[str, Any]:
        """The configuration with its secret settings hidden (what responses and logs show)."""
        return redact(self.secret_fields, self.config)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        return {
            "id": self.id,
            "protocol": self.protocol,
            "config": dict(self.config),
            "topic": self.topic,
            "filter_policy": dict(self.filter_policy) if self.filter_policy else None,
            "retry": self.retry.to_dict() if self.retry else None,
            "min_severity": self.min_severity,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Subscription:
        """The subscription written by :meth:`to_dict`."""
        retry = data.get("retry")
        return cls(
            id=str(data["id"]),
            protocol=str(data["protocol"]),
            config=dict(data.get("config") or {}),
            topic=str(data.get("topic") or ""),
            filter_policy=data.get("filter_policy") or None,
            retry=RetryPolicy.from_dict(retry) if retry else None,
            min_severity=data.get("min_severity") or None,
        )
