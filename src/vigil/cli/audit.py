"""``vigil audit``: the audit trail of configuration changes in the local database."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli.common import (
    DataDirOpt,
    OutputFormat,
    OutputOpt,
    emit_json,
    fail,
    iso,
    parse_time,
    table,
)
from vigil.cli.local import open_local
from vigil.cli.remote import selected
from vigil.errors import VigilError
from vigil.store.audit import entry_document, list_entries

app = typer.Typer()

MAX_LIMIT = 1000


@app.command("audit")
def audit_cmd(
    since: Annotated[str | None, typer.Option(help="From this ISO-8601 time (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this ISO-8601 time.")] = None,
    actor: Annotated[
        str | None, typer.Option(help="token:NAME, cli:USER, system, or a token's name.")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="endpoint, schedule, alarm, token...")] = None,
    name: Annotated[str | None, typer.Option(help="The object's name (or id).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries (1-1000).")] = 100,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Configuration changes, newest first: who, what, when, before and after (redacted)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise fail(f"--limit {limit}: expected a whole number from 1 to {MAX_LIMIT}")
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    server = selected()
    try:
        if server is not None:  # GET /audit (the admin scope)
            query = {"since": iso(start), "until": iso(end), "actor": actor, "kind": kind,
                     "name": name, "limit": limit}  # fmt: skip
            docs = server.get("/audit", query)["entries"]
        else:
            entries = list_entries(
                open_local(data_dir, command="audit").db,
                since=start,
                until=end,
                actor=actor,
                kind=kind,
                name=name,
                limit=limit,
            )
            docs = [entry_document(e) for e in entries]
    except VigilError as exc:
        raise fail(str(exc) if server is None else exc.message) from None
    if output is OutputFormat.json:
        emit_json({"entries": docs})
        return
    rows = [
        [d["time"], d["actor"], d["action"], d["kind"], d["name"], ",".join(d["fields"]) or "-"]
        for d in docs
    ]
    table("audit", ["time", "actor", "action", "kind", "name", "fields"], rows)
