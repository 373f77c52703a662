"""What changed around a finding: the platform events in the hours before it.

The first question an on-call engineer asks of a drift alarm is "what changed?": a deployment,
a pipeline run, a failed training job, a new baseline. :func:`what_changed` lists the stored
events of ``[at - hours, at]`` that are such changes (every event from outside Vigil, and
Vigil's own run and baseline events), newest first, as short :class:`Change` records that a
notification and the alarm's page both show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vigil.app.event_queries import EventFilter, list_events
from vigil.events.envelope import EnvelopeError
from vigil.events.runs import RunFacts, run_facts
from vigil.store.db import Database

#: Vigil's own event kinds that are not changes around a finding (they are the findings)
NOT_CHANGES = frozenset(
    {"alarm_state_change", "execution_completed", "execution_started", "concept_drift"}
)
DEFAULT_HOURS = 6.0
#: detail fields that name what a deployment-like event changed, in the order shown
_NAMED = ("model", "version", "environment", "stage", "endpoint", "image")


@dataclass(frozen=True)
class Change:
    """One platform event before a finding."""

    time: datetime
    source: str
    detail_type: str
    summary: str  # one line: "pipeline cancer-model-deploy failed", "deployment to prod"
    status: str | None  # started | succeeded | failed | stopped, for runs
    event_id: str
    resources: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The change as JSON-ready fields (``time`` in ISO 8601)."""
        return {
            "time": self.time.isoformat(),
            "source": self.source,
            "detail_type": self.detail_type,
            "summary": self.summary,
            "status": self.status,
            "event_id": self.event_id,
            "resources": list(self.resources),
        }


def _summary(env: dict[str, Any], facts: RunFacts | None) -> str:
    if facts is not None:
        text = f"{facts.kind.replace('_', ' ')} {facts.name} {facts.status or facts.raw_status}"
        return text + (f": {facts.reason}" if facts.reason and facts.failure else "")
    detail = env.get("detail") or {}
    for key in ("summary", "message", "description"):
        if isinstance(detail.get(key), str) and detail[key].strip():
            return f"{env['detail-type']}: {detail[key].strip()[:160]}"
    named = [f"{key} {detail[key]}" for key in _NAMED
             if isinstance(detail.get(key), (str, int, float)) and str(detail[key]).strip()]
    head = str(env.get("detail-type") or env.get("source"))
    return f"{head}: {', '.join(named)}"[:200] if named else head


def _change(env: dict[str, Any]) -> Change:
    try:
        facts = run_facts(env)
    except EnvelopeError:
        facts = None
    when = datetime.fromisoformat(str(env["time"]).replace("Z", "+00:00"))
    return Change(
        time=when,
        source=str(env.get("source")),
        detail_type=str(env.get("detail-type")),
        summary=_summary(env, facts),
        status=facts.status if facts is not None else None,
        event_id=str(env.get("id")),
        resources=tuple(str(r) for r in env.get("resources") or ()),
    )


def what_changed(
    db: Database, at: datetime, *, hours: float = DEFAULT_HOURS, limit: int = 50
) -> list[Change]:
    """The platform events of the ``hours`` before ``at`` (and at it), newest first."""
    since = at - timedelta(hours=hours)
    page = list_events(db, EventFilter(since=since, until=at + timedelta(seconds=1)),
                       limit=limit * 4)
    out: list[Change] = []
    for env in page.events:
        kind = env.get("kind") or (env.get("detail") or {}).get("kind")
        if env.get("source") == "vigil" and kind in NOT_CHANGES:
            continue
        out.append(_change(env))
        if len(out) == limit:
            break
    return out
