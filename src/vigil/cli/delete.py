"""``vigil delete KIND NAME``: delete a configuration object (refused while it is in use)."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.app.bootstrap import open_runtime
from vigil.app.lifecycle import KINDS, delete_object
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, line
from vigil.errors import VigilError

app = typer.Typer(name="delete")


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
    try:
        delete_object(open_runtime(data_dir).db, kind, name)
    except VigilError as exc:
        raise fail(exc.message) from None
    if output is OutputFormat.json:
        emit_json({"deleted": {"kind": kind, "name": name}})
    else:
        line(f"deleted {kind} {name}")
