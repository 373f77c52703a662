"""``vigil delete KIND NAME``: delete a configuration object (refused while it is in use)."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.app.lifecycle import KINDS, delete_object
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, line
from vigil.cli.local import open_local
from vigil.cli.remote import path, selected
from vigil.errors import VigilError

app = typer.Typer(name="delete")

#: where each kind is deleted over the API (``DELETE /api/v1/{path}/{name}``)
REMOTE_PATHS = {
    "endpoint": "endpoints",
    "baseline": "baselines",
    "schedule": "schedules",
    "alarm": "alarms",
    "topic": "topics",
    "silence": "silences",
    "rule": "rules",
    "workflow": "workflows",
}


@app.command("delete")
def delete(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)}.")],
    name: Annotated[str, typer.Argument(help="Its name (the id of a subscription or silence).")],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Delete an endpoint, baseline, schedule, alarm, topic, subscription, silence, rule or
    workflow; refused (exit 2, naming them) while other objects refer to it."""
    if kind not in KINDS:
        raise fail(f"KIND {kind!r}: expected one of {', '.join(KINDS)}")
    server = selected()
    try:
        if server is None:
            delete_object(open_local(data_dir, command="delete").db, kind, name)
        elif kind == "subscription":  # its route names its topic too
            raise fail("delete subscription: not over --server (DELETE "
                       "/api/v1/topics/TOPIC/subscriptions/ID names the topic); use the API")
        else:
            server.delete(path(REMOTE_PATHS[kind], name))
    except VigilError as exc:
        raise fail(exc.message) from None
    if output is OutputFormat.json:
        emit_json({"deleted": {"kind": kind, "name": name}})
    else:
        line(f"deleted {kind} {name}")
