"""``vigil token create|list|revoke``: API tokens, stored hashed."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.app.bootstrap import open_runtime
from vigil.app.documents import iso
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, line, table
from vigil.errors import VigilError
from vigil.server.auth import create_token, list_tokens, revoke_token

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
    if not name.strip() or name != name.strip():
        raise fail(f"--name {name!r}: expected a name without leading or trailing spaces")
    try:
        secret = create_token(open_runtime(data_dir).db, name, scopes)
    except VigilError as exc:
        raise fail(str(exc)) from None
    print(secret)


@app.command("list")
def token_list(data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """Every token: name, scopes, created, last used (to the minute), revoked. Never a secret."""
    tokens = list_tokens(open_runtime(data_dir).db)
    if output is OutputFormat.json:
        emit_json({"tokens": tokens})
        return
    rows = [
        [
            t["name"],
            ",".join(t["scopes"]),
            iso(t["created_at"]) or "",
            iso(t["last_used_at"]) or "never",
            ("revoked", "red") if t["revoked"] else "active",
        ]
        for t in tokens
    ]
    table("tokens", ["name", "scopes", "created", "last used", "status"], rows)


@app.command("revoke")
def token_revoke(
    name: Annotated[str | None, typer.Argument(help="The token's name.")] = None,
    name_opt: Annotated[str | None, typer.Option("--name", help="The same, as an option.")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Revoke a token by name: every server refuses it from the next request on."""
    chosen = name or name_opt
    if not chosen:
        raise fail("token revoke: expected the token's NAME")
    if not revoke_token(open_runtime(data_dir).db, chosen):
        raise fail(f"no token named {chosen!r}")
    line(f"revoked {chosen}")
