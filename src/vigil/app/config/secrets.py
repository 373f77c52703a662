"""Secrets in a ``vigil.yaml``: a file written by ``vigil export`` holds ``${env:NAME}``
references or redactions (``***``) where secrets are stored. Before a plan is made, each
redaction is replaced by what is stored at its place (:func:`with_stored_secrets`), so that
applying an exported file changes nothing and never overwrites a secret with ``***``; the
references are resolved by ``vigil apply`` when it stores the object."""

from __future__ import annotations

from typing import Any

from vigil.actions.secrets import keep_stored_targets
from vigil.alerts.delivery import secret_fields
from vigil.app.config.alerting import SubscriptionSpec, TopicSpec
from vigil.app.config.document import VigilConfig
from vigil.app.config.scrape import keep_stored_scrape
from vigil.store.secrets import keep_stored


def _subscriptions(topic: TopicSpec, held: dict[str, SubscriptionSpec]) -> TopicSpec:
    subs = []
    for sub in topic.subscriptions:
        before = held.get(sub.id)
        if before is not None and before.protocol == sub.protocol:
            config = keep_stored(secret_fields(sub.protocol), sub.config, before.config)
            if config != sub.config:
                sub = sub.model_copy(update={"config": config})
        subs.append(sub)
    return topic.model_copy(update={"subscriptions": subs})


def _actions(kind: str, desired: list[Any], current: list[Any]) -> list[Any]:
    held = {spec.name: spec for spec in current}
    out = []
    for spec in desired:
        before = held.get(spec.name)
        if before is not None:
            doc = spec.model_dump(mode="json")
            kept = keep_stored_targets(kind, doc, before.model_dump(mode="json"))
            if kept != doc:
                spec = type(spec).model_validate(kept)
        out.append(spec)
    return out


def with_stored_secrets(desired: VigilConfig, current: VigilConfig) -> VigilConfig:
    """``desired`` with every redaction replaced by the stored secret at its place in
    ``current`` (the catalog as :func:`~vigil.app.catalog.current_config` reads it for a plan).
    A redaction with nothing stored at its place stays, and storing it is refused."""
    held = {s.id: s for t in current.topics for s in t.subscriptions}
    return desired.model_copy(
        update={
            "topics": [_subscriptions(t, held) for t in desired.topics],
            "workflows": _actions("workflow", desired.workflows, current.workflows),
            "rules": _actions("rule", desired.rules, current.rules),
            "scrape_configs": keep_stored_scrape(desired.scrape_configs, current.scrape_configs),
        }
    )
