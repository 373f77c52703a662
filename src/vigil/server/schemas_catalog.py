"""Response bodies of the catalog routes: endpoints, baselines, schedules."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["BaselineList", "BaselineOut", "EndpointList", "EndpointOut", "ScheduleList",
           "ScheduleOut"]  # fmt: skip


class EndpointOut(BaseModel):
    """A monitored endpoint."""

    name: str
    variant: str
    capture_uri: str | None
    created_at: str


class EndpointList(BaseModel):
    endpoints: list[EndpointOut]


class BaselineOut(BaseModel):
    """A stored baseline and where its files are."""

    name: str
    endpoint: str | None
    kind: str
    uri: str
    created_at: str


class BaselineList(BaseModel):
    baselines: list[BaselineOut]


class ScheduleOut(BaseModel):
    """A schedule: what it monitors, when, and its status."""

    name: str
    endpoint: str
    baseline: str | None
    expression: str
    window_start_offset: str | None
    window_end_offset: str | None
    monitor_type: str
    status: str
    config: dict[str, Any]
    last_scheduled_time: str | None
    created_at: str
    updated_at: str | None
    error: str | None = None  # why the scheduler cannot run it (a broken stored expression)


class ScheduleList(BaseModel):
    schedules: list[ScheduleOut]
