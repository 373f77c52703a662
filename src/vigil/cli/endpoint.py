"""``vigil endpoint list|show``: the monitored endpoints, locally or from a server."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt
from vigil.cli.local import answer, api_answer
from vigil.cli.remote import path
from vigil.cli.views import ENDPOINTS, show_listing, show_object

app = typer.Typer(name="endpoint", help="Monitored endpoints: list and show them.")


@app.command("list")
def endpoint_list(data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """Every endpoint: name, variant, where its captures go, created."""
    from vigil.server import routes_catalog as r  # lazy: the server's documents

    doc = answer(
        "endpoint list",
        data_dir,
        lambda server: server.get("/endpoints"),
        lambda state: api_answer(r.list_endpoints, state=state),
    )
    show_listing(ENDPOINTS, doc, output)


@app.command("show")
def endpoint_show(
    name: Annotated[str, typer.Argument(help="The endpoint's name.")],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """One endpoint."""
    from vigil.server import routes_catalog as r  # lazy: the server's documents

    doc = answer(
        "endpoint show",
        data_dir,
        lambda server: server.get(path("endpoints", name)),
        lambda state: api_answer(r.get_endpoint, name=name, state=state),
    )
    show_object(doc, output, f"endpoint {name}")
