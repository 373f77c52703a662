"""``vigil server``: the REST API, the dashboard and the in-process scheduler."""

from __future__ import annotations

import socket
from typing import Annotated

import typer
import uvicorn
from sqlalchemy.exc import SQLAlchemyError

from vigil.app.logging_setup import configure_logging
from vigil.cli.common import DataDirOpt, fail, line
from vigil.errors import VigilError
from vigil.server.app import create_app
from vigil.store.redaction import scrub_text
from vigil.store.settings import Settings

app = typer.Typer()


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8080,
    data_dir: DataDirOpt = None,
    scheduler: Annotated[
        bool, typer.Option("--scheduler/--no-scheduler", help="Run the in-process scheduler.")
    ] = True,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Worker processes running executions (default $VIGIL_WORKERS, else half "
            "the CPUs, 1 to 4; 0: in the scheduler's thread).",
            show_default=False,
        ),
    ] = None,
    executions: Annotated[
        bool,
        typer.Option(
            "--executions/--no-executions",
            help="Claim and run scheduled windows here; --no-executions leaves them to "
            "`vigil worker` processes (an API-only server).",
        ),
    ] = True,
) -> None:
    """Serve the REST API (OpenAPI at /docs) with the in-process scheduler."""
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.cli.remote import refuse_remote

    try:
        refuse_remote("server", "it serves a local installation (it creates one if need be)")
    except VigilError as exc:
        raise fail(exc.message) from None
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:  # uvicorn would only log it and exit 3
        raise fail(f"--host {host!r}: not an address to listen on ({exc})") from None
    try:
        settings = Settings.from_env(data_dir)
        if workers is not None:
            settings.workers = workers
        configure_logging(settings.log_format, settings.log_level)
        api = create_app(settings, start_scheduler=scheduler, executions=executions)
    except VigilError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:  # an unreachable or refusing database: one line, no trace
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        where = scrub_text(str(settings.database_url))
        raise fail(f"database {where}: cannot open it ({first})") from None
    line(
        f"vigil server on http://{host}:{port} (data: {settings.data_dir}, "
        f"OpenAPI: http://{host}:{port}/docs)"
    )
    # our logging, not uvicorn's: one format, scrubbed; requests are logged by the middleware
    uvicorn.run(
        api,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        log_level=settings.log_level.lower(),
    )
