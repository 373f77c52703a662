"""Response bodies of executions and action runs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "ExecutionList", "ExecutionOut", "RuleList", "RuleOut", "RunList", "RunOut", "WorkflowList",
    "WorkflowOut",
]  # fmt: skip


class ExecutionOut(BaseModel):
    """One monitoring execution and the output files it wrote."""

    id: str
    schedule: str | None
    endpoint: str | None
    scheduled_time: str | None
    window_start: str | None
    window_end: str | None
    status: str
    failure_reason: str | None
    created_at: str | None
    started_at: str | None
    ended_at: str | None
    records_read: int | None
    records_skipped: int | None
    violation_count: int | None
    attempt: int | None
    outputs: list[str]


class ExecutionList(BaseModel):
    executions: list[ExecutionOut]


class RunOut(BaseModel):
    """One action run (with its step attempts when asked for one run)."""

    id: str
    rule: str | None
    workflow: str | None
    target_type: str
    event_id: str | None
    parent_run_id: str | None
    status: str
    input: Any = None
    output: Any = None
    error: str | None
    cause: str | None
    current_step: str | None
    steps_taken: int
    resumes: int
    owner: str | None
    started_at: str | None
    ended_at: str | None
    heartbeat_at: str | None
    duration_seconds: float | None
    attempts: list[dict[str, Any]] | None = None


class RunList(BaseModel):
    runs: list[RunOut]


class RuleOut(BaseModel):
    """A rule as stored (the fields of vigil.yaml's ``rules:``)."""

    model_config = ConfigDict(extra="allow")

    name: str
    pattern: dict[str, Any]
    targets: list[dict[str, Any]]
    enabled: bool = True
    description: str | None = None
    error: str | None = None  # why it fails when dispatched (a workflow it names is gone)


class WorkflowOut(BaseModel):
    """A workflow as stored (the fields of vigil.yaml's ``workflows:``)."""

    model_config = ConfigDict(extra="allow")

    name: str
    steps: list[dict[str, Any]]
    error: str | None = None  # why it fails when run (a workflow one of its steps names is gone)


class DefinitionErrorOut(BaseModel):
    """A stored rule or workflow that fails alone, and why."""

    kind: str
    name: str
    error: str


class RuleList(BaseModel):
    rules: list[RuleOut]
    workflows: list[WorkflowOut]
    errors: list[DefinitionErrorOut] = []  # every faulty rule and workflow, loadable or not


class WorkflowList(BaseModel):
    workflows: list[WorkflowOut]
    errors: list[DefinitionErrorOut] = []  # every faulty workflow, loadable or not
