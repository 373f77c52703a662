"""Sealing the secrets a database written before secrets were encrypted holds in plain text.

Subscriptions' configs, rules' and workflows' targets and the subscription snapshots of the
outbox's deliveries were stored in plain text by the Vigil before issue 9. Reading them works
(a value that is not sealed is read as it is), but "encrypted at rest" must hold after an
upgrade, so ``vigil db upgrade`` calls :func:`seal_stored_secrets` right after the schema
upgrade: every declared secret field (:mod:`vigil.app.secrets`) not sealed yet is sealed with
the installation's key, in one transaction. It is idempotent: a second run seals nothing.
When the database also holds sealed values, the key must open them
(:class:`~vigil.store.secrets.SecretKeyError` otherwise, nothing written): a run without the
key that sealed them never mixes in a new one.

On SQLite a run that sealed something then rebuilds the file (``VACUUM``) and checkpoints the
write-ahead log, so the plain values do not survive in free pages of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.app.secrets import transform
from vigil.store.db import Database
from vigil.store.models import ActionDefinition, ActionRun, OutboxItem, SubscriptionRecord
from vigil.store.secrets import SecretBox, SecretFields, box_of, is_sealed, seal_plain

__all__ = ["Sealed", "seal_stored_secrets"]


@dataclass
class Sealed:
    """How many plain secret values :func:`seal_stored_secrets` sealed, per kind of row
    (``subscriptions``, ``rules``, ``workflows``, ``deliveries``, action ``runs``' stored
    definitions)."""

    counts: dict[str, int] = field(
        default_factory=lambda: {
            "subscriptions": 0,
            "rules": 0,
            "workflows": 0,
            "deliveries": 0,
            "runs": 0,
        }
    )

    @property
    def total(self) -> int:
        """Every value sealed."""
        return sum(self.counts.values())


class _Sealer:
    """``transform``'s function: seals the plain values of each config, counting them; with
    ``probe``, only counts them and finds a value sealed before (to check the key with)."""

    def __init__(self, box: SecretBox, probe: bool = False) -> None:
        self.box = box
        self.probe = probe
        self.count = 0
        self.sample: str | None = None  # a value sealed before this run

    def __call__(self, fields: SecretFields, config: Mapping[str, Any]) -> dict[str, Any]:
        if not self.probe:
            out, n = seal_plain(fields, config, self.box)
            self.count += n
            return out
        for key, name, _ in fields.leaves(config):
            value = config[key] if name is None else config[key][name]
            if not is_sealed(value):
                self.count += 1
            elif self.sample is None:
                self.sample = value
        return dict(config)

    def document(self, kind: str, doc: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """``doc`` (of ``kind``) sealed, and how many values that took."""
        before = self.count
        out = transform(kind, doc, self)
        return out, self.count - before


def _snapshot(row: OutboxItem, sealer: _Sealer) -> int:
    payload = row.payload
    sub = payload.get("subscription") if isinstance(payload, Mapping) else None
    if not isinstance(sub, Mapping):
        return 0
    doc = {**sub, "protocol": sub.get("protocol") or row.protocol}
    sealed, n = sealer.document("subscription", doc)
    if n and not sealer.probe:
        row.payload = {**payload, "subscription": {**sub, "config": sealed["config"]}}
    return n


def _run_definition(run: ActionRun, sealer: _Sealer) -> int:
    """The workflows a run stored (its own and those it calls), sealed."""
    definition = run.definition
    if not isinstance(definition, Mapping) or not isinstance(definition.get("workflow"), Mapping):
        return 0
    workflow, n = sealer.document("workflow", definition["workflow"])
    others: dict[str, Any] = {}
    for name, doc in (definition.get("workflows") or {}).items():
        others[name], k = sealer.document("workflow", doc) if isinstance(doc, Mapping) else (doc, 0)
        n += k
    if n and not sealer.probe:
        run.definition = {**definition, "workflow": workflow, "workflows": others}
    return n


def _walk(s: Session, sealer: _Sealer) -> Sealed:
    """Every stored document with secrets, through ``sealer`` (rows updated unless probing)."""
    done = Sealed()
    write = not sealer.probe
    for sub in s.scalars(select(SubscriptionRecord)):
        doc = {"protocol": sub.protocol, "config": sub.config or {}}
        sealed, n = sealer.document("subscription", doc)
        if n and write:
            sub.config = sealed["config"]
        done.counts["subscriptions"] += n
    for definition in s.scalars(select(ActionDefinition)):
        if definition.kind not in ("rule", "workflow"):
            continue
        spec, n = sealer.document(definition.kind, definition.spec or {})
        if n and write:
            definition.spec = spec
        done.counts[f"{definition.kind}s"] += n
    for item in s.scalars(select(OutboxItem)):
        done.counts["deliveries"] += _snapshot(item, sealer)
    for run in s.scalars(select(ActionRun)):
        done.counts["runs"] += _run_definition(run, sealer)
    return done


def seal_stored_secrets(db: Database) -> Sealed:
    """Seal every plain secret value stored in ``db`` (with its attached key, as
    :func:`~vigil.app.bootstrap.connect_database` attaches it); how many were sealed."""
    box = box_of(db)
    with db.session() as s:
        probe = _Sealer(box, probe=True)
        if not _walk(s, probe).total:
            return Sealed()
        if probe.sample is not None:  # the key must open what is sealed already
            box.open_value(probe.sample)
        done = _walk(s, _Sealer(box))
    if db.dialect == "sqlite":
        _compact(db)
    return done


def _compact(db: Database) -> None:
    """Rebuild a SQLite file and empty its write-ahead log: the replaced plain values leave
    no trace in free pages."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
