"""``vigil events list|put``: the platform events of the local installation."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.app.events import MAX_ENTRIES, EventBus
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, iso, parse_time
from vigil.cli.local import answer, api_answer, open_local
from vigil.cli.remote import selected
from vigil.cli.views import EVENTS, show_listing
from vigil.errors import VigilError

app = typer.Typer(name="events", help="Platform events: list them, put some (PutEvents).")


@app.command("list")
def events_list(
    source: Annotated[str | None, typer.Option(help="Only this source (aws.sagemaker...).")] = None,
    detail_type: Annotated[str | None, typer.Option("--detail-type", help="Only this one.")] = None,
    since: Annotated[str | None, typer.Option(help="From this ISO-8601 event time.")] = None,
    until: Annotated[str | None, typer.Option(help="Before this ISO-8601 event time.")] = None,
    kind: Annotated[str | None, typer.Option(help="A run kind (training_job...).")] = None,
    name: Annotated[str | None, typer.Option(help="A run's name.")] = None,
    status: Annotated[str | None, typer.Option(help="started|succeeded|failed|stopped")] = None,
    pattern: Annotated[str | None, typer.Option(help="An event pattern (JSON).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many events (1-1000).")] = 100,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Stored events, newest first, in EventBridge's envelope."""
    if not 1 <= limit <= 1000:
        raise fail(f"--limit {limit}: expected a whole number from 1 to 1000")
    if status is not None and status not in ("started", "succeeded", "failed", "stopped"):
        raise fail(f"--status {status!r}: expected one of started, succeeded, failed, stopped")
    if pattern is not None:
        try:
            json.loads(pattern)
        except ValueError as exc:
            raise fail(f"--pattern: not valid JSON ({exc})") from None
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    query = {
        "source": source,
        "detail-type": detail_type,
        "since": iso(start),
        "until": iso(end),
        "kind": kind,
        "name": name,
        "status": status,
        "pattern": pattern,
        "limit": limit,
    }

    def local(state: Any) -> Any:
        from vigil.server import routes_events as r  # lazy: the server's documents

        return api_answer(
            r.events, source=source, detail_type=detail_type, since=start, until=end,
            resource=None, kind=kind, name=name, status=status, pattern=pattern, limit=limit,
            cursor=None, state=state,
        )  # fmt: skip

    doc = answer("events list", data_dir, lambda server: server.get("/events", query), local)
    show_listing(EVENTS, doc, output)


@app.command("put")
def events_put(
    file: Annotated[str, typer.Argument(help="A JSON file ({Entries: [...]}, a list of "
                                             "entries, or one entry); - reads stdin.")],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Put events as PutEvents does (custom sources only); each entry stored or refused."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text()
    except OSError as exc:
        raise fail(f"{file}: {exc.strerror}") from None
    try:
        doc: Any = json.loads(text)
    except ValueError as exc:
        raise fail(f"{file}: not valid JSON ({exc})") from None
    entries = doc.get("Entries") if isinstance(doc, dict) and "Entries" in doc else doc
    entries = entries if isinstance(entries, list) else [entries]
    if not 1 <= len(entries) <= MAX_ENTRIES:
        raise fail(f"{file}: expected 1 to {MAX_ENTRIES} entries, got {len(entries)}")
    server = selected()
    if server is not None:  # PutEvents over the API (the ingest scope)
        try:
            done = server.post("/events", {"Entries": entries})
        except VigilError as exc:
            raise fail(exc.message) from None
    else:  # events may be the first thing an installation holds: it may create one
        rt = open_local(data_dir, command="events put", create=True)
        done = EventBus(rt.settings, rt.db, rt.metrics).put_entries(entries)
    if output is OutputFormat.json:
        emit_json(done)
    else:
        for i, e in enumerate(done["Entries"]):
            said = e.get("EventId") or f"{e['ErrorCode']}: {e['ErrorMessage']}"
            print(f"Entries[{i}]: {said}")
    if done["FailedEntryCount"]:
        raise typer.Exit(1)
