"""GitHub webhooks: the ``X-Hub-Signature-256`` check and payloads as envelope events.

GitHub signs the raw body with HMAC-SHA256 under the webhook's secret and sends
``sha256=<hex>``; ``X-GitHub-Event`` names the event (``workflow_run``, ``workflow_job``,
``ping``...) and ``X-GitHub-Delivery`` is a GUID that a redelivery reuses (the event's id, so
a redelivery is a duplicate).

>>> body = b'{"action": "completed"}'
>>> sig = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
>>> verify_github_signature("s3cret", body, sig), verify_github_signature("other", body, sig)
(True, False)
>>> verify_github_signature("s3cret", body, None)
False
>>> e = github_event("workflow_run", "d1f0a2b4-0000-4000-8000-000000000001",
...                  {"action": "completed", "workflow_run": {"id": 7, "name": "CI",
...                   "updated_at": "2024-05-01T10:00:00Z", "html_url": "https://x/runs/7"},
...                   "repository": {"full_name": "acme/ml"}})
>>> e["source"], e["detail-type"], e["time"], e["resources"]
('github', 'GitHub Workflow Run', '2024-05-01T10:00:00Z', ['https://x/runs/7'])
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from vigil.events.envelope import DEFAULT_ACCOUNT, EnvelopeError, validate_event

__all__ = ["DETAIL_TYPES", "github_event", "verify_github_signature"]

SOURCE = "github"
DETAIL_TYPES = {"workflow_run": "GitHub Workflow Run", "workflow_job": "GitHub Workflow Job"}


def verify_github_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` (``X-Hub-Signature-256``) is ``sha256=`` + HMAC-SHA256(secret, body),
    compared in constant time."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def github_event(
    event_name: str, delivery: str | None, payload: Any, *, now: datetime | None = None
) -> dict[str, Any]:
    """The envelope event of one GitHub delivery: source ``github``, detail-type ``GitHub
    Workflow Run`` / ``GitHub Workflow Job`` (others ``GitHub <event name>``), detail the
    payload, time its run's or job's last change, resources its ``html_url``."""
    if not isinstance(payload, Mapping):
        raise EnvelopeError(f"body: expected a JSON object, got {type(payload).__name__}")
    if not event_name:
        raise EnvelopeError("X-GitHub-Event: required (the event's name)")
    obj = payload.get(event_name)
    obj = obj if isinstance(obj, Mapping) else {}
    time = obj.get("completed_at") or obj.get("updated_at") or obj.get("started_at")
    repo = payload.get("repository")
    owner = repo.get("owner") if isinstance(repo, Mapping) else None
    account = str(owner.get("id")) if isinstance(owner, Mapping) and owner.get("id") else None
    url = obj.get("html_url")
    return validate_event(
        {
            "id": delivery or None,
            "source": SOURCE,
            "detail-type": DETAIL_TYPES.get(
                event_name, "GitHub " + event_name.replace("_", " ").title()
            ),
            "account": account or DEFAULT_ACCOUNT,
            "region": "github",
            "time": time,
            "resources": [str(url)] if url else [],
            "detail": dict(payload),
        },
        now=now,
    )
