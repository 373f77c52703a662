"""Default failure notifications of platform runs: a failed (or stopped) training job,
pipeline, build or workflow run notifies the topics named in ``vigil.yaml``'s ``platform:``
block, through the durable outbox, with no rule to write.

``platform: {failure_topics: [oncall], notify_on: [failed, stopped], kinds: [...],
enabled: true, stopped_is_failure: true}``; every key is optional. Out of the box (no
block) the topic named ``platform-failures`` is notified, when it exists, of every kind in
:data:`DEFAULT_KINDS` ending ``failed`` or ``stopped``. ``enabled: false`` turns it off.

>>> spec = PlatformSpec(failure_topics=["oncall"])
>>> spec.wants("training_job", "stopped", failure=True), spec.wants("action", "failed", True)
(True, False)
>>> PlatformSpec(notify_on=["broken"])
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for PlatformSpec
notify_on.0
  Input should be 'failed' or 'stopped' [type=literal_error, input_value='broken', input_type=str]
...
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from vigil.alerts.delivery import Message, Outbox, Subscription
from vigil.alerts.notify.topics import load_subscriptions, load_topics
from vigil.events.runs import RunFacts
from vigil.events.severity import Severity, parse_severity, subject_prefix
from vigil.store.db import Database
from vigil.store.models import ActionDefinition

__all__ = [
    "DEFAULT_KINDS",
    "DEFAULT_TOPIC",
    "PlatformSpec",
    "RunFailure",
    "failure_message",
    "get_platform_spec",
    "notify_failures",
    "put_platform_spec",
]

DEFAULT_TOPIC = "platform-failures"
DEFAULT_KINDS = (
    "training_job", "processing_job", "transform_job", "tuning_job", "endpoint", "pipeline",
    "build", "state_machine", "github_workflow", "gitlab_pipeline",
)
_ROW = ("platform", "notifications")  # stored as an ActionDefinition row (kind, name)


class PlatformSpec(BaseModel):
    """``vigil.yaml``'s ``platform:`` block (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    enabled: bool = True
    failure_topics: list[str] = [DEFAULT_TOPIC]
    notify_on: list[Literal["failed", "stopped"]] = ["failed", "stopped"]
    kinds: list[str] = list(DEFAULT_KINDS)
    stopped_is_failure: bool = True
    #: of the notifications (subject prefix, ``severity`` attribute that subscriptions'
    #: ``min_severity`` and filter policies route on, PagerDuty and Alertmanager severity)
    severity: Severity = "high"

    def wants(self, kind: str, status: str | None, failure: bool) -> bool:
        """Whether a run of ``kind`` ending ``status`` is notified."""
        return (
            self.enabled
            and kind in self.kinds
            and status in self.notify_on
            and (failure or status == "failed")
        )


def get_platform_spec(db: Database) -> PlatformSpec:
    """The stored ``platform:`` block, or the defaults."""
    with db.session() as s:
        row = s.get(ActionDefinition, _ROW)
        return PlatformSpec.model_validate(row.spec) if row is not None else PlatformSpec()


def stored_platform_spec(db: Database) -> PlatformSpec | None:
    """The stored ``platform:`` block, ``None`` when none was applied (``vigil export``)."""
    with db.session() as s:
        row = s.get(ActionDefinition, _ROW)
        return PlatformSpec.model_validate(row.spec) if row is not None else None


def put_platform_spec(db: Database, spec: PlatformSpec) -> None:
    """Store the ``platform:`` block (``vigil apply``)."""
    with db.session() as s:
        row = s.get(ActionDefinition, _ROW) or ActionDefinition(kind=_ROW[0], name=_ROW[1])
        row.spec = spec.model_dump(mode="json")
        s.add(row)


@dataclass(frozen=True)
class RunFailure:
    """A run that ended failed or stopped, as its event told (and, for a CodePipeline run,
    the failed stages and actions found on its ``execution-id``)."""

    facts: RunFacts
    event_id: str
    source: str
    time: datetime
    causes: tuple[str, ...] = ()


_WORDS = {
    "training_job": "training job", "processing_job": "processing job",
    "transform_job": "transform job", "tuning_job": "tuning job", "pipeline_step": "pipeline step",
    "state_machine": "state machine", "github_workflow": "GitHub workflow",
    "gitlab_pipeline": "GitLab pipeline", "github_job": "GitHub job", "gitlab_job": "GitLab job",
}


def failure_message(failure: RunFailure, topic: str, severity: str = "high") -> Message:
    """The notification of one failed run to one topic: subject and body name the job or
    pipeline, its status and reason (and a CodePipeline run's failed stage and action)."""
    f = failure.facts
    level = parse_severity(severity, "platform severity")
    what = _WORDS.get(f.kind, f.kind.replace("_", " "))
    verb = "failed" if f.status == "failed" else "stopped"
    lines = [f"The {what} {f.name} {verb} (status {f.raw_status})."]
    if f.reason:
        lines.append(f"Reason: {f.reason}")
    lines.extend(f"Failed: {c}" for c in failure.causes)
    if f.duration is not None:
        lines.append(f"Duration: {f.duration:.0f} s")
    lines.append(f"Run: {f.run_id}")
    if f.url:
        lines.append(f"Link: {f.url}")
    lines.append(f"Event: {failure.event_id} from {failure.source} at {failure.time.isoformat()}")
    time = failure.time if failure.time.tzinfo else failure.time.replace(tzinfo=timezone.utc)
    return Message(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"vigil-run/{f.run_key}/{f.status}")),
        topic=topic,
        subject=f"{subject_prefix(level)}{verb.upper()}: {what} {f.name}"[:100],
        body="\n".join(lines),
        attributes={"kind": f.kind, "name": f.name, "status": f.status or "", "source":
                    failure.source, "severity": level},
        payload={
            "alarm": f"{f.kind}/{f.name}",
            "status": "firing",
            "severity": level,
            "source": failure.source,
            "reason": f.reason,
            "causes": list(failure.causes),
            "starts_at": time.isoformat(),
            "run": {"kind": f.kind, "name": f.name, "run_id": f.run_id, "status": f.status,
                    "raw_status": f.raw_status, "duration": f.duration, "url": f.url},
            "event_id": failure.event_id,
        },
        created_at=time,
    )


def notify_failures(
    db: Database,
    outbox: Outbox,
    failures: Sequence[RunFailure],
    spec: PlatformSpec | None = None,
) -> int:
    """Queue the notifications of ``failures`` that ``spec`` (default: the stored one) wants,
    one per existing topic; returns how many deliveries were queued. A failure queued once
    is not queued again (the message id is the run's and status')."""
    spec = spec or get_platform_spec(db)
    wanted = [f for f in failures if spec.wants(f.facts.kind, f.facts.status, f.facts.failure)]
    if not wanted:
        return 0
    with db.session() as s:
        names = [t for t in spec.failure_topics if t in load_topics(s)]
        subscriptions = load_subscriptions(s, names)
    batch: list[tuple[Message, Iterable[Subscription]]] = [
        (failure_message(f, name, spec.severity), subscriptions.get(name, []))
        for f in wanted
        for name in names
    ]
    return outbox.enqueue_many(batch) if batch else 0


def causes_of(actions: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """``stage X / action Y: summary`` of each failed CodePipeline action event's detail."""
    out = []
    for d in actions:
        found = d.get("execution-result")
        result: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        summary = ": ".join(
            str(x) for x in (result.get("error-code"), result.get("external-execution-summary"))
            if x
        )
        where = f"stage {d.get('stage')} / action {d.get('action')}"
        url = result.get("external-execution-url")
        out.append(where + (f": {summary}" if summary else "") + (f" ({url})" if url else ""))
    return tuple(dict.fromkeys(out))
