"""The secret settings of every stored document, from the channels' and targets' declarations.

This is the one place that joins the declarations of alerting (each protocol's
:data:`~vigil.alerts.delivery.SECRETS_BY_PROTOCOL`) and of actions (each target type's
:data:`~vigil.actions.spec.TARGET_SECRETS`), so that the faces, the export and the audit trail
hide the same fields. :func:`redact` takes a document of one kind:

- ``"subscription"``: ``{"protocol", "config", ...}``; ``"topic"``: ``{"subscriptions": [...]}``
- ``"rule"``: ``{"targets": [...]}``; ``"workflow"``: ``{"steps": [{"target": ...}]}``
- a protocol (``"webhook"``, ``"slack"``...) or a target type (``"http"``, ``"command"``): the
  channel's config or the target itself.

Any other kind (alarms, schedules, endpoints: no secrets) comes back as a copy.

>>> redact("subscription", {"id": "s", "protocol": "slack",
...                         "config": {"url": "https://hooks.slack.com/T/B/x"}})
{'id': 's', 'protocol': 'slack', 'config': {'url': '***'}}
>>> redact("rule", {"targets": [{"type": "command", "command": "x", "env": {"K": "v"}}]})
{'targets': [{'type': 'command', 'command': 'x', 'env': {'K': '***'}}]}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vigil.actions.secrets import map_targets
from vigil.actions.spec import TARGET_SECRETS
from vigil.alerts.delivery import SECRETS_BY_PROTOCOL
from vigil.store.secrets import SecretBox, SecretFields, exported
from vigil.store.secrets import redact as redact_fields

Transform = Callable[[SecretFields, Mapping[str, Any]], dict[str, Any]]

__all__ = ["redact", "stored_form", "transform"]


def _subscription(doc: Mapping[str, Any], fn: Transform) -> dict[str, Any]:
    out = dict(doc)
    fields = SECRETS_BY_PROTOCOL.get(str(doc.get("protocol") or ""))
    if fields is not None and isinstance(doc.get("config"), Mapping):
        out["config"] = fn(fields, doc["config"])
    return out


def transform(kind: str, document: Mapping[str, Any], fn: Transform) -> dict[str, Any]:
    """A copy of ``document`` (of ``kind``, as listed above) with ``fn(fields, config)``
    applied to every part that declares secret settings."""
    if kind == "subscription":
        return _subscription(document, fn)
    if kind == "topic":
        out = dict(document)
        if isinstance(document.get("subscriptions"), list):
            out["subscriptions"] = [
                _subscription(s, fn) if isinstance(s, Mapping) else s
                for s in document["subscriptions"]
            ]
        return out
    if kind in ("rule", "workflow"):
        return map_targets(kind, document, fn)
    if kind in SECRETS_BY_PROTOCOL:
        return fn(SECRETS_BY_PROTOCOL[kind], document)
    if kind in TARGET_SECRETS:
        return fn(TARGET_SECRETS[kind], document)
    return dict(document)


def redact(kind: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with every declared secret hidden (``***``, URLs in part): what every
    response, log line, export and audit entry shows. Sealed values come out as ``***``."""
    return transform(kind, document, redact_fields)


def stored_form(
    kind: str, document: Mapping[str, Any], box: SecretBox, mode: str
) -> dict[str, Any]:
    """A stored (sealed) document as :func:`vigil.store.secrets.exported` writes it in
    ``mode`` (``export``: references or redactions, ``plain``, ``diff``)."""
    return transform(kind, document, lambda f, c: exported(f, c, box, mode))
