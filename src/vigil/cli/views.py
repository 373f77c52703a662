"""How listing and show commands print the API's documents, the same whether they came from
a server (``--server``) or from the local installation: ``--output json`` prints the document
itself; text is a table on a terminal, elsewhere a title line, a header line and one line per
record, cells two spaces apart and never cut (:func:`vigil.cli.common.table`). An empty cell
is ``-``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.cli.common import OutputFormat, Part, emit_json, line, table

Doc = Mapping[str, Any]

STATE_STYLE = {"ALARM": "red", "OK": "green", "INSUFFICIENT_DATA": "yellow"}
STATUS_STYLE = {
    "Completed": "green",
    "CompletedWithViolations": "yellow",
    "Failed": "red",
    "Stopped": "red",
}


def cell(value: Any) -> str:
    """A document's value as a table cell: ``-`` for nothing, lists comma-joined."""
    if value in (None, "", []):
        return "-"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def styled(value: Any, styles: Mapping[str, str]) -> Part:
    """A cell coloured by its value on a terminal."""
    text = cell(value)
    style = styles.get(text)
    return (text, style) if style else text


@dataclass(frozen=True)
class Listing:
    """One kind of listing: the document's key, the table's title, columns and rows."""

    key: str
    title: str
    columns: Sequence[str]
    row: Callable[[Doc], Sequence[Part]]


def _duration(seconds: Any) -> str:
    return "-" if seconds is None else f"{float(seconds):.1f}s"


ENDPOINTS = Listing(
    "endpoints",
    "endpoints",
    ["name", "variant", "capture", "created"],
    lambda e: [e["name"], cell(e["variant"]), cell(e["capture_uri"]), cell(e["created_at"])],
)
SCHEDULES = Listing(
    "schedules",
    "schedules",
    ["name", "endpoint", "baseline", "type", "expression", "status", "last scheduled"],
    lambda s: [
        s["name"],
        cell(s["endpoint"]),
        cell(s["baseline"]),
        cell(s["monitor_type"]),
        cell(s["expression"]),
        ("error", "red") if s.get("error") else cell(s["status"]),
        cell(s["last_scheduled_time"]),
    ],
)
EXECUTIONS = Listing(
    "executions",
    "executions",
    ["id", "schedule", "window start", "window end", "status", "violations", "reason"],
    lambda x: [
        x["id"],
        cell(x["schedule"]),
        cell(x["window_start"]),
        cell(x["window_end"]),
        styled(x["status"], STATUS_STYLE),
        cell(x["violation_count"]),
        cell(x["failure_reason"]),
    ],
)
ALARMS = Listing(
    "alarms",
    "alarms",
    ["name", "state", "reason"],
    lambda a: [a["name"], styled(a["state"], STATE_STYLE), cell(a["state_reason"])],
)
TOPICS = Listing("topics", "topics", ["name"], lambda name: [str(name)])
EVENTS = Listing(
    "events",
    "events",
    ["time", "source", "detail-type", "id"],
    lambda e: [cell(e["time"]), cell(e["source"]), cell(e["detail-type"]), cell(e["id"])],
)
JOBS = Listing(
    "jobs",
    "training jobs",
    ["name", "run", "status", "started", "duration"],
    lambda j: [
        j["name"],
        cell(j["run_id"]),
        styled(j["status"], STATUS_STYLE),
        cell(j["started_at"]),
        _duration(j["duration_seconds"]),
    ],
)
TOKENS = Listing(
    "tokens",
    "tokens",
    ["name", "scopes", "created", "last used", "status"],
    lambda t: [
        t["name"],
        cell(t["scopes"]),
        cell(t["created_at"]),
        t["last_used_at"] or "never",
        ("revoked", "red") if t["revoked"] else "active",
    ],
)
SILENCES = Listing(
    "silences",
    "silences",
    ["id", "matchers", "starts", "ends", "comment"],
    lambda s: [
        s["id"],
        cell(s["matchers"]),
        cell(s["starts_at"]),
        cell(s["ends_at"]),
        cell(s.get("comment")),
    ],
)


def show_listing(listing: Listing, doc: Doc, output: OutputFormat) -> None:
    """Print a listing document: as it is (json) or as a table of its records (text)."""
    if output is OutputFormat.json:
        emit_json(doc)
        return
    table(listing.title, listing.columns, [listing.row(r) for r in doc[listing.key]])


def show_object(doc: Doc, output: OutputFormat, title: str) -> None:
    """Print one object's document: as it is (json), else ``title`` then ``key: value``
    lines (nested values as compact JSON)."""
    if output is OutputFormat.json:
        emit_json(doc)
        return
    line(title)
    for key, value in doc.items():
        shown = json.dumps(value, default=str) if isinstance(value, (dict, list)) else cell(value)
        line(f"  {key}: {shown}")


def execution_line(x: Doc) -> str:
    """``ID SCHEDULE [START, END) STATUS[: REASON]`` of an execution's API document."""
    start, end = (str(x["window_start"])[:16], str(x["window_end"])[:16])
    return f"{x['id']} {x['schedule']} [{start}Z, {end}Z) {x['status']}" + (
        f": {x['failure_reason']}" if x.get("failure_reason") else ""
    )
