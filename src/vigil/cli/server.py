"""``vigil server``: the REST API, the dashboard and the in-process scheduler."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from vigil.cli.common import DataDirOpt, line
from vigil.server.app import create_app
from vigil.store.settings import Settings

app = typer.Typer()


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: DataDirOpt = None,
    scheduler: Annotated[
        bool, typer.Option("--scheduler/--no-scheduler", help="Run the in-process scheduler.")
    ] = True,
) -> None:
    """Serve the REST API (OpenAPI at /docs) with the in-process scheduler."""
    settings = Settings.from_env(data_dir)
    api = create_app(settings, start_scheduler=scheduler)
    line(
        f"vigil server on http://{host}:{port} (data: {settings.data_dir}, "
        f"OpenAPI: http://{host}:{port}/docs)"
    )
    uvicorn.run(api, host=host, port=port, log_level="warning")
