"""The context a monitoring execution's ``report.html`` names in its header: the endpoint,
the schedule (and its monitor type), the window and the execution's id."""

from __future__ import annotations

from vigil.report.context import ReportContext
from vigil.store.models import Execution, Schedule

__all__ = ["report_context"]


def report_context(schedule: Schedule, ex: Execution) -> ReportContext:
    """What the report of execution ``ex`` of ``schedule`` covers."""
    return ReportContext(
        endpoint=ex.endpoint_name,
        schedule=schedule.name,
        window_start=ex.window_start,
        window_end=ex.window_end,
        execution_id=ex.id,
        monitor_type=schedule.monitor_type or "DataQuality",
    )
