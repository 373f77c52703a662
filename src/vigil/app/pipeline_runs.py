"""Pipeline runs from stored events: each run of a CodePipeline pipeline, a SageMaker
pipeline, a CodeBuild build, a Step Functions state machine, a GitHub Actions workflow or a
GitLab CI pipeline (what :func:`vigil.events.runs.run_facts` reads from their events), with
its latest status, failure reason, and the failed steps (stages, actions, jobs) found on it.

The events are read with :func:`vigil.app.event_queries.list_events` (``EventFilter(kind=)``),
the facts recomputed from each envelope. A step belongs to a run when its run id extends the
run's (CodePipeline, SageMaker: ``{execution}/{stage}/...``) or its event names the run
(GitHub's ``workflow_job.run_id``, GitLab's ``pipeline_id``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vigil.app.event_queries import EventFilter, list_events
from vigil.events.envelope import parse_time
from vigil.events.runs import RunFacts, run_facts
from vigil.store.db import Database

__all__ = ["PIPELINE_KINDS", "STEP_KINDS", "PipelineRun", "StepRun", "pipeline_runs"]

#: run kinds shown as pipelines, and the kinds of their steps
PIPELINE_KINDS = (
    "pipeline", "build", "state_machine", "workflow", "github_workflow", "gitlab_pipeline",
)  # fmt: skip
STEP_KINDS = ("pipeline_step", "action", "github_job", "gitlab_job")
MAX_EVENTS = 2000  # per kind and query


@dataclass
class StepRun:
    """A stage, action or job of a run, as its latest event told."""

    kind: str
    name: str
    run_id: str
    status: str | None
    raw_status: str
    reason: str | None
    time: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Whether this step failed or was stopped."""
        return self.status in ("failed", "stopped")


@dataclass
class PipelineRun:
    """One run of a pipeline: its latest status, times, reason and its steps."""

    kind: str
    name: str
    run_id: str
    status: str | None  # started | succeeded | failed | stopped (None: a passing state)
    raw_status: str
    source: str
    first_seen: datetime
    last_seen: datetime
    duration: float | None = None
    reason: str | None = None
    url: str | None = None
    steps: list[StepRun] = field(default_factory=list)
    events: int = 0

    @property
    def failed(self) -> bool:
        """Whether the run failed or was stopped."""
        return self.status in ("failed", "stopped")

    @property
    def failed_steps(self) -> list[StepRun]:
        """The steps that failed, in time order."""
        return [s for s in self.steps if s.failed]

    @property
    def failure(self) -> str | None:
        """The run's reason, else its failed steps' (``Validate/ModelQualityGate: ...``)."""
        if self.reason:
            return self.reason
        parts = [f"{_short(s.name, self.name)}: {s.reason or s.raw_status}"
                 for s in self.failed_steps]  # fmt: skip
        return "; ".join(parts) or None


def _short(step: str, pipeline: str) -> str:
    """A step's name without its pipeline's (``deploy/Validate/Gate`` -> ``Validate/Gate``)."""
    return step[len(pipeline) + 1:] if step.startswith(pipeline + "/") else step


def _events(db: Database, kinds: Iterable[str], f: EventFilter) -> list[tuple[dict, RunFacts]]:
    out = []
    for kind in kinds:
        page = list_events(db, EventFilter(kind=kind, name=f.name, since=f.since,
                                           until=f.until), limit=MAX_EVENTS)  # fmt: skip
        for env in page.events:
            facts = run_facts(env)
            if facts is not None and facts.kind == kind:
                out.append((env, facts))
    return out


def _belongs(step: StepRun, run: PipelineRun) -> bool:
    if step.run_id.startswith(run.run_id + "/"):
        return True
    d = step.detail
    if step.kind == "github_job" and run.kind == "github_workflow":
        job = d.get("workflow_job")
        return isinstance(job, Mapping) and str(job.get("run_id")) == run.run_id.split("/")[0]
    if step.kind == "gitlab_job" and run.kind == "gitlab_pipeline":
        return str(d.get("pipeline_id")) == run.run_id
    return False


def pipeline_runs(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    name: str | None = None,
) -> list[PipelineRun]:
    """The runs whose events fall in ``[since, until)`` (of the pipeline ``name`` when
    given), newest first, each with its steps."""
    runs: dict[str, PipelineRun] = {}
    for env, f in _events(db, PIPELINE_KINDS, EventFilter(name=name, since=since, until=until)):
        when = parse_time(env["time"])
        run = runs.get(f.run_key)
        if run is None:  # events come newest first: the first one seen is the latest
            run = runs[f.run_key] = PipelineRun(
                f.kind, f.name, f.run_id, f.status, f.raw_status, env["source"], when, when,
                duration=f.duration, reason=f.reason, url=f.url,
            )
        elif run.status is None and f.status is not None:
            run.status, run.raw_status = f.status, f.raw_status
        run.first_seen = min(run.first_seen, when)
        run.reason = run.reason or f.reason
        run.duration = run.duration if run.duration is not None else f.duration
        run.url = run.url or f.url
        run.events += 1
    if runs:
        steps: dict[str, StepRun] = {}
        for env, f in _events(db, STEP_KINDS, EventFilter(since=since, until=until)):
            if f.run_key not in steps:
                steps[f.run_key] = StepRun(f.kind, f.name, f.run_id, f.status, f.raw_status,
                                           f.reason, parse_time(env["time"]), env["detail"])
        for step in sorted(steps.values(), key=lambda s: s.time):
            for run in runs.values():
                if _belongs(step, run):
                    run.steps.append(step)
                    break
    return sorted(runs.values(), key=lambda r: r.last_seen, reverse=True)
