"""``vigil topic list|show``: the notification topics, locally or from a server."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt
from vigil.cli.local import answer, api_answer
from vigil.cli.remote import path
from vigil.cli.views import TOPICS, show_listing, show_object

app = typer.Typer(name="topic", help="Notification topics: list and show them.")


@app.command("list")
def topic_list(data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """Every topic's name."""
    from vigil.server import routes_topics as r  # lazy: the server's documents

    doc = answer(
        "topic list",
        data_dir,
        lambda server: server.get("/topics"),
        lambda state: api_answer(r.list_topics, state=state),
    )
    show_listing(TOPICS, doc, output)


@app.command("show")
def topic_show(
    name: Annotated[str, typer.Argument(help="The topic's name.")],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """One topic with the ids of its subscriptions."""
    from vigil.server import routes_topics as r  # lazy: the server's documents

    doc = answer(
        "topic show",
        data_dir,
        lambda server: server.get(path("topics", name)),
        lambda state: api_answer(r.get_topic, name=name, state=state),
    )
    show_object(doc, output, f"topic {name}")
