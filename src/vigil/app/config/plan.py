"""The plan of ``vigil apply``: what applying a desired config over the current one creates,
updates and leaves unchanged, per kind of resource, so that applying the same file twice
changes nothing the second time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vigil.app.config.document import KINDS, VigilConfig
from vigil.app.config.secrets import with_stored_secrets

Spec = Any  # EndpointSpec | BaselineSpec | ScheduleSpec | TopicSpec | alarms, workflows, rules


@dataclass(frozen=True)
class Update:
    """A resource whose desired spec differs from the current one."""

    before: Spec
    after: Spec
    fields: tuple[str, ...]

    @property
    def name(self) -> str:
        """The resource's name."""
        return self.after.name


@dataclass(frozen=True)
class Block:
    """A one-of-a-kind section of the file (``platform:``, ``defaults:``) as a plan entry."""

    name: str
    spec: Any


@dataclass(frozen=True)
class KindPlan:
    """What applying a config does to one kind of resource.

    ``absent`` holds resources that exist but are not in the file: ``vigil apply`` leaves
    them alone (a ``--prune`` option would delete them).
    """

    kind: str
    create: tuple[Spec, ...] = ()
    update: tuple[Update, ...] = ()
    unchanged: tuple[Spec, ...] = ()
    absent: tuple[Spec, ...] = ()

    @property
    def has_changes(self) -> bool:
        """Whether applying creates or updates anything of this kind."""
        return bool(self.create or self.update)


@dataclass(frozen=True)
class Plan:
    """Creates, updates and unchanged resources per kind, in the order to apply them."""

    endpoints: KindPlan = field(default_factory=lambda: KindPlan("endpoint"))
    baselines: KindPlan = field(default_factory=lambda: KindPlan("baseline"))
    schedules: KindPlan = field(default_factory=lambda: KindPlan("schedule"))
    topics: KindPlan = field(default_factory=lambda: KindPlan("topic"))
    alarms: KindPlan = field(default_factory=lambda: KindPlan("alarm"))
    workflows: KindPlan = field(default_factory=lambda: KindPlan("workflow"))
    rules: KindPlan = field(default_factory=lambda: KindPlan("rule"))
    scrape_configs: KindPlan = field(default_factory=lambda: KindPlan("scrape_config"))
    dashboards: KindPlan = field(default_factory=lambda: KindPlan("dashboard"))
    platform: KindPlan = field(default_factory=lambda: KindPlan("platform"))
    defaults: KindPlan = field(default_factory=lambda: KindPlan("defaults"))

    @property
    def kinds(self) -> tuple[KindPlan, ...]:
        """Every kind in dependency order (endpoints before baselines before schedules...)."""
        return (
            self.endpoints,
            self.baselines,
            self.schedules,
            self.topics,
            self.alarms,
            self.workflows,
            self.rules,
            self.scrape_configs,
            self.dashboards,
            self.platform,
            self.defaults,
        )

    @property
    def has_changes(self) -> bool:
        """Whether applying the config would change anything."""
        return any(k.has_changes for k in self.kinds)

    def summary(self) -> str:
        """``created 1, updated 0, unchanged 2`` over every kind."""
        created = sum(len(k.create) for k in self.kinds)
        updated = sum(len(k.update) for k in self.kinds)
        unchanged = sum(len(k.unchanged) for k in self.kinds)
        return f"created {created}, updated {updated}, unchanged {unchanged}"

    def lines(self) -> list[str]:
        """One line per change, for a dry run: ``+ schedule s1``, ``~ schedule s2 (status)``."""
        out: list[str] = []
        for k in self.kinds:
            out.extend(f"+ {_what(k.kind, s.name)}" for s in k.create)
            out.extend(f"~ {_what(k.kind, u.name)} ({', '.join(u.fields)})" for u in k.update)
        return out


def plan_document(plan: Plan, dry_run: bool) -> dict[str, Any]:
    """The plan as one JSON document (``vigil apply --output json`` and the API's
    ``/config/plan`` and ``/config/apply``): every change, then the counts ``plan.summary()``
    prints."""
    changes: list[dict[str, Any]] = []
    for k in plan.kinds:
        changes += [
            {"action": "create", "kind": k.kind, "name": s.name, "fields": []} for s in k.create
        ]
        changes += [
            {"action": "update", "kind": k.kind, "name": u.name, "fields": list(u.fields)}
            for u in k.update
        ]
    return {
        "dry_run": dry_run,
        "changes": changes,
        "summary": {
            "created": sum(len(k.create) for k in plan.kinds),
            "updated": sum(len(k.update) for k in plan.kinds),
            "unchanged": sum(len(k.unchanged) for k in plan.kinds),
        },
    }


def document_lines(doc: dict[str, Any]) -> list[str]:
    """The lines ``Plan.lines()`` and ``Plan.summary()`` print, from :func:`plan_document`'s
    document (what a server answered), the summary last.

    >>> document_lines(plan_document(diff_config(VigilConfig(), VigilConfig()), False))
    ['created 0, updated 0, unchanged 0']
    """
    out: list[str] = []
    for c in doc["changes"]:
        what = _what(str(c["kind"]), str(c["name"]))
        if c["action"] == "create":
            out.append(f"+ {what}")
        else:
            out.append(f"~ {what} ({', '.join(c['fields'])})")
    s = doc["summary"]
    out.append(f"created {s['created']}, updated {s['updated']}, unchanged {s['unchanged']}")
    return out


def _what(kind: str, name: str) -> str:
    """``schedule s1``; a section (named as its kind) by its key alone: ``platform:``."""
    return f"{kind}:" if kind == name else f"{kind} {name}"


def _plan_kind(
    kind: str,
    current: list[Any],
    desired: list[Any],
) -> KindPlan:
    existing = {s.name: s for s in current}
    wanted = {s.name for s in desired}
    create: list[Spec] = []
    update: list[Update] = []
    unchanged: list[Spec] = []
    for spec in desired:
        before = existing.get(spec.name)
        if before is None:
            create.append(spec)
        elif before == spec:
            unchanged.append(spec)
        else:
            changed = tuple(
                f for f in type(spec).model_fields if getattr(before, f) != getattr(spec, f)
            )
            update.append(Update(before=before, after=spec, fields=changed))
    absent = tuple(s for s in current if s.name not in wanted)
    return KindPlan(kind, tuple(create), tuple(update), tuple(unchanged), absent)


def _plan_block(kind: str, before: Any, after: Any) -> KindPlan:
    """The plan of a one-of-a-kind section: nothing when the file leaves it out."""
    if after is None:
        return KindPlan(kind)
    if before is None:
        return KindPlan(kind, create=(Block(kind, after),))
    if before == after:
        return KindPlan(kind, unchanged=(Block(kind, after),))
    changed = tuple(f for f in type(after).model_fields if getattr(before, f) != getattr(after, f))
    return KindPlan(kind, update=(Update(Block(kind, before), Block(kind, after), changed),))


def diff_config(current: VigilConfig, desired: VigilConfig) -> Plan:
    """What applying ``desired`` over ``current`` creates, updates and leaves unchanged.

    >>> from vigil.app.config import EndpointSpec
    >>> a = VigilConfig(endpoints=[EndpointSpec(name="e1")])
    >>> b = VigilConfig(endpoints=[EndpointSpec(name="e1", variant="v2"), EndpointSpec(name="e2")])
    >>> plan = diff_config(a, b)
    >>> plan.summary(), plan.lines()
    ('created 1, updated 1, unchanged 0', ['+ endpoint e2', '~ endpoint e1 (variant)'])

    The ``platform:`` and ``defaults:`` sections are one entry each, named for the section:

    >>> from vigil.alerts.notify.platform import PlatformSpec
    >>> c = VigilConfig(platform=PlatformSpec(failure_topics=["oncall"]))
    >>> diff_config(a, c).lines(), diff_config(c, c).summary()
    (['+ platform:'], 'created 0, updated 0, unchanged 1')
    >>> diff_config(c, VigilConfig(platform=PlatformSpec(enabled=False))).lines()
    ['~ platform: (enabled, failure_topics)']

    A redaction (``***``) in ``desired`` where ``current`` holds a secret keeps that secret.
    """
    desired = with_stored_secrets(desired, current)
    return Plan(
        **{
            kind: _plan_kind(kind[:-1], getattr(current, kind), getattr(desired, kind))
            for kind in KINDS
        },
        platform=_plan_block("platform", current.platform, desired.platform),
        defaults=_plan_block("defaults", current.defaults, desired.defaults),
    )
