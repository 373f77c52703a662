"""What a report covers: the endpoint, the schedule, the window and the execution, named in a
header at the top of every ``report.html`` a monitoring execution writes.

A report written outside a schedule (``vigil analyze``) has no context and no header.

>>> from datetime import datetime, timezone
>>> ctx = ReportContext("churn", "hourly", datetime(2024, 5, 1, 3, tzinfo=timezone.utc),
...                     datetime(2024, 5, 1, 4, tzinfo=timezone.utc), "e-1", "DataQuality")
>>> ctx.window_text()
'2024-05-01 03:00:00Z to 2024-05-01 04:00:00Z (UTC)'
>>> 'data-field="endpoint">churn<' in report_header(ctx)
True
>>> report_header(None)
''
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape

__all__ = ["ReportContext", "report_header", "utc_text"]


def utc_text(when: datetime) -> str:
    """``when`` in UTC as ``2024-05-01 03:00:00Z`` (a naive time is taken as UTC)."""
    aware = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when
    return aware.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


@dataclass(frozen=True)
class ReportContext:
    """The execution a report belongs to."""

    endpoint: str
    schedule: str
    window_start: datetime
    window_end: datetime
    execution_id: str
    monitor_type: str = "DataQuality"

    def window_text(self) -> str:
        """The window as ``start to end (UTC)``."""
        return f"{utc_text(self.window_start)} to {utc_text(self.window_end)} (UTC)"


def report_header(context: ReportContext | None) -> str:
    """The header block naming what the report covers (empty without a context)."""
    if context is None:
        return ""
    rows = (
        ("endpoint", "Endpoint", context.endpoint),
        ("schedule", "Schedule", f"{context.schedule} ({context.monitor_type})"),
        ("window", "Window", context.window_text()),
        ("execution", "Execution", context.execution_id),
    )
    cells = "".join(
        f'<dt>{label}</dt><dd data-field="{key}">{escape(value)}</dd>' for key, label, value in rows
    )
    return f'<dl class="covers" id="report-covers">{cells}</dl>'


#: the header's style, added to a report's own <style>
HEADER_CSS = (
    ".covers{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0 12px;"
    "padding:8px 12px;border:1px solid #ddd;border-radius:6px;background:#f7f9fc;font-size:13px}"
    ".covers dt{font-weight:600}.covers dd{margin:0;font-family:ui-monospace,monospace}"
)
