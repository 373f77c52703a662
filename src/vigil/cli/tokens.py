"""``vigil token create|revoke``: API tokens, stored hashed."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.app.bootstrap import open_runtime
from vigil.cli.common import DataDirOpt, fail, line
from vigil.errors import VigilError
from vigil.server.auth import create_token, revoke_token

app = typer.Typer(name="token", help="API tokens (stored hashed; the secret is shown once).")


@app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="A unique name for the token.")],
    scopes: Annotated[str, typer.Option("--scopes", help="read,write,admin")] = "read",
    data_dir: DataDirOpt = None,
) -> None:
    """Create a token and print its secret (stored hashed: shown only now)."""
    try:
        secret = create_token(open_runtime(data_dir).db, name, scopes)
    except VigilError as exc:
        raise fail(str(exc)) from None
    print(secret)


@app.command("revoke")
def token_revoke(name: Annotated[str, typer.Option("--name")], data_dir: DataDirOpt = None) -> None:
    """Revoke a token by name."""
    if not revoke_token(open_runtime(data_dir).db, name):
        raise fail(f"no token named {name!r}")
    line(f"revoked {name}")
