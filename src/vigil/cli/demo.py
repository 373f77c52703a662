"""``vigil demo``: the whole platform on embedded defaults, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import fail
from vigil.demo import run

app = typer.Typer()


@app.command()
def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write.")] = Path(
        "demo-output"
    ),
    port: Annotated[
        int, typer.Option(help="API port (another is used when busy).", min=0, max=65535)
    ] = 8080,
    exit_after: Annotated[bool, typer.Option("--exit", help="Exit when the demo is done.")] = False,
) -> None:
    """The whole platform on embedded defaults: server, captured traffic that drifts,
    scheduled executions turning CompletedWithViolations."""
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.cli.remote import refuse_remote
    from vigil.errors import VigilError

    try:
        refuse_remote("demo", "it starts a server of its own")
    except VigilError as exc:
        raise fail(exc.message) from None
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"--output {output}: cannot write: {exc.strerror or exc}") from None
    raise typer.Exit(run(output, port=port, keep_running=not exit_after))
