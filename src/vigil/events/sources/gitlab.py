"""GitLab webhooks: the ``X-Gitlab-Token`` check and payloads as envelope events.

GitLab sends the secret token configured on the webhook as it is in ``X-Gitlab-Token``
(compared here in constant time), names the hook in ``X-Gitlab-Event`` (``Pipeline Hook``,
``Job Hook``...) and identifies a delivery by ``X-Gitlab-Event-UUID``. GitLab writes times as
``2016-08-12 15:23:28 UTC``.

>>> verify_gitlab_token("tok", "tok"), verify_gitlab_token("tok", "nope"), \
verify_gitlab_token("tok", None)
(True, False, False)
>>> e = gitlab_event("Pipeline Hook", None, {"object_kind": "pipeline",
...     "object_attributes": {"id": 31, "status": "failed",
...                           "finished_at": "2016-08-12 15:26:29 UTC"},
...     "project": {"id": 1, "path_with_namespace": "acme/ml", "web_url": "https://gl/acme/ml"}})
>>> e["source"], e["detail-type"], e["time"], e["account"]
('gitlab', 'GitLab Pipeline Hook', '2016-08-12T15:26:29Z', '1')
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from vigil.events.envelope import DEFAULT_ACCOUNT, EnvelopeError, validate_event

__all__ = ["gitlab_event", "gitlab_time", "verify_gitlab_token"]

SOURCE = "gitlab"


def verify_gitlab_token(expected: str, header: str | None) -> bool:
    """Whether ``header`` (``X-Gitlab-Token``) equals the configured token (constant time)."""
    if not expected or header is None:
        return False
    return hmac.compare_digest(expected.encode(), header.encode())


def gitlab_time(value: Any) -> str | None:
    """GitLab's ``2016-08-12 15:23:28 UTC`` as ISO-8601 (other forms are passed on).

    >>> gitlab_time("2016-08-12 15:23:28 UTC"), gitlab_time(None)
    ('2016-08-12T15:23:28Z', None)
    """
    if not isinstance(value, str) or not value:
        return None
    if value.endswith(" UTC"):
        return value.removesuffix(" UTC").replace(" ", "T") + "Z"
    return value


def gitlab_event(
    hook: str, delivery: str | None, payload: Any, *, now: datetime | None = None
) -> dict[str, Any]:
    """The envelope event of one GitLab delivery: source ``gitlab``, detail-type ``GitLab
    <hook>`` (``GitLab Pipeline Hook``, ``GitLab Job Hook``), detail the payload, time its last
    change, resources the pipeline's or project's URL."""
    if not isinstance(payload, Mapping):
        raise EnvelopeError(f"body: expected a JSON object, got {type(payload).__name__}")
    kind = payload.get("object_kind")
    hook = hook or {"pipeline": "Pipeline Hook", "build": "Job Hook"}.get(str(kind), "")
    if not hook:
        raise EnvelopeError("X-Gitlab-Event: required (the hook's name, e.g. Pipeline Hook)")
    attrs = payload.get("object_attributes")
    attrs = attrs if isinstance(attrs, Mapping) else {}
    time = (
        attrs.get("finished_at") or attrs.get("updated_at") or attrs.get("created_at")
        or payload.get("build_finished_at") or payload.get("build_started_at")
        or payload.get("build_created_at")
    )
    project = payload.get("project")
    project = project if isinstance(project, Mapping) else {}
    account = str(project.get("id") or payload.get("project_id") or "") or DEFAULT_ACCOUNT
    url = attrs.get("url") or project.get("web_url")
    return validate_event(
        {
            "id": delivery or None,
            "source": SOURCE,
            "detail-type": f"GitLab {hook}",
            "account": account,
            "region": "gitlab",
            "time": gitlab_time(time),
            "resources": [str(url)] if url else [],
            "detail": dict(payload),
        },
        now=now,
    )
