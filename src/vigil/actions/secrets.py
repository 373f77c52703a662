"""The secret settings of rules and workflows: their targets' declared fields, walked.

A target declares its secrets (:data:`~vigil.actions.spec.TARGET_SECRETS`: a command's
``env``, an HTTP target's ``headers`` and URL); :func:`map_targets` applies one transform of
:mod:`vigil.store.secrets` (seal, unseal, redact...) to every target of a rule's or a
workflow's document.

>>> from vigil.store.secrets import redact
>>> rule = {"name": "r", "pattern": {}, "targets": [
...     {"url": "https://x.org/h", "headers": {"Authorization": "Bearer t"}},
...     {"command": "true", "env": {"TOKEN": "t"}}]}
>>> [t.get("headers") or t.get("env") for t in map_targets("rule", rule, redact)["targets"]]
[{'Authorization': '***'}, {'TOKEN': '***'}]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vigil.actions.spec import TARGET_SECRETS, Workflow, _target_kind
from vigil.store.secrets import (
    NO_SECRETS,
    SecretBox,
    SecretFields,
    keep_stored,
    seal_plain,
    unseal,
)

Transform = Callable[[SecretFields, Mapping[str, Any]], dict[str, Any]]


def target_fields(target: Any) -> SecretFields:
    """The secret settings of one target (a document or a model)."""
    kind = _target_kind(target)
    return TARGET_SECRETS.get(kind or "", NO_SECRETS)


def _target(target: Any, fn: Transform) -> Any:
    if not isinstance(target, Mapping):
        return target
    return fn(target_fields(target), target)


def map_targets(kind: str, document: Mapping[str, Any], fn: Transform) -> dict[str, Any]:
    """A copy of a ``rule`` or ``workflow`` document with ``fn(fields, target)`` applied to
    each of its targets (other kinds are copied unchanged)."""
    doc = dict(document)
    if kind == "rule" and isinstance(doc.get("targets"), list):
        doc["targets"] = [_target(t, fn) for t in doc["targets"]]
    elif kind == "workflow" and isinstance(doc.get("steps"), list):
        doc["steps"] = [
            {**step, "target": _target(step.get("target"), fn)}
            if isinstance(step, Mapping) and "target" in step
            else step
            for step in doc["steps"]
        ]
    return doc


def keep_stored_targets(
    kind: str,
    document: Mapping[str, Any],
    current: Mapping[str, Any],
    box: SecretBox | None = None,
) -> dict[str, Any]:
    """:func:`~vigil.store.secrets.keep_stored` for each target of a rule or workflow
    document, against the target at the same position of ``current`` (sealed, with
    ``box``; else in the ``diff`` form of an export)."""
    if kind not in ("rule", "workflow"):
        return dict(document)
    key, inner = ("targets", None) if kind == "rule" else ("steps", "target")
    olds = current.get(key) or []
    new = []
    for i, item in enumerate(document.get(key) or []):
        held = olds[i] if i < len(olds) else None
        target = item if inner is None else item.get(inner)
        before = held if inner is None or not isinstance(held, Mapping) else held.get(inner)
        if isinstance(target, Mapping) and isinstance(before, Mapping):
            target = keep_stored(target_fields(target), target, before, box)
        new.append(target if inner is None else {**item, inner: target})
    return {**document, key: new}


def sealed_definition(
    workflow: Workflow, closure: Mapping[str, Workflow], box: SecretBox
) -> dict[str, Any]:
    """The definition a run stores (its workflow and the workflows it calls), every target's
    secret settings sealed: a run's record holds no secret in plain text."""

    def sealed(w: Workflow) -> dict[str, Any]:
        return map_targets(
            "workflow", w.model_dump(mode="json"), lambda f, t: seal_plain(f, t, box)[0]
        )

    return {
        "workflow": sealed(workflow),
        "workflows": {name: sealed(w) for name, w in closure.items()},
    }


def opened_definition(
    definition: Mapping[str, Any], box: SecretBox
) -> tuple[Workflow, dict[str, Workflow]]:
    """A run's stored definition, its secrets opened: the workflow and every workflow by name
    (plain values stored by an older Vigil are read as they are)."""

    def opened(doc: Mapping[str, Any]) -> Workflow:
        return Workflow.model_validate(
            map_targets("workflow", doc, lambda f, t: unseal(f, t, box))
        )

    workflow = opened(definition["workflow"])
    others = {k: opened(v) for k, v in definition["workflows"].items()}
    return workflow, {workflow.name: workflow, **others}
