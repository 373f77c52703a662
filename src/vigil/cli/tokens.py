"""``vigil token create|list|revoke``: API tokens, stored hashed (locally, or on a server with
the ``admin`` scope)."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, fail, line
from vigil.cli.local import answer, api_answer, open_local
from vigil.cli.remote import path, selected
from vigil.cli.views import TOKENS, show_listing
from vigil.errors import VigilError

app = typer.Typer(name="token", help="API tokens (stored hashed; the secret is shown once).")


@app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="A unique name for the token.")],
    scopes: Annotated[
        str, typer.Option("--scopes", help="Comma-separated: read, ingest, write, admin.")
    ] = "read",
    data_dir: DataDirOpt = None,
) -> None:
    """Create a token and print its secret (stored hashed: shown only now)."""
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.server.auth import create_token, parse_scopes

    if not name.strip() or name != name.strip():
        raise fail(f"--name {name!r}: expected a name without leading or trailing spaces")
    server = selected()
    try:
        if server is not None:
            created = server.post("/tokens", {"name": name, "scopes": parse_scopes(scopes)})
            secret = created["secret"]
        else:  # the first token of an installation may create it
            rt = open_local(data_dir, command="token create", create=True)
            secret = create_token(rt.db, name, scopes)
    except VigilError as exc:
        raise fail(exc.message) from None
    print(secret)


@app.command("list")
def token_list(data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """Every token: name, scopes, created, last used (to the minute), revoked. Never a secret."""
    from vigil.server import routes_tokens as r  # lazy: the server's documents

    doc = answer(
        "token list",
        data_dir,
        lambda server: server.get("/tokens"),
        lambda state: api_answer(r.list_tokens, state=state),
    )
    show_listing(TOKENS, doc, output)


@app.command("revoke")
def token_revoke(
    name: Annotated[str | None, typer.Argument(help="The token's name.")] = None,
    name_opt: Annotated[str | None, typer.Option("--name", help="The same, as an option.")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Revoke a token by name: every server refuses it from the next request on."""
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.server.auth import revoke_token

    chosen = name or name_opt
    if not chosen:
        raise fail("token revoke: expected the token's NAME")
    server = selected()
    try:
        if server is not None:
            server.delete(path("tokens", chosen))
        elif not revoke_token(open_local(data_dir, command="token revoke").db, chosen):
            raise fail(f"no token named {chosen!r}")
    except VigilError as exc:
        raise fail(exc.message) from None
    line(f"revoked {chosen}")
