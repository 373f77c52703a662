"""A click group that imports each command's module only when the command is used.

``vigil --help`` lists the commands from a table (name, module, short help) without importing
any of them; ``vigil NAME ...`` and ``vigil NAME --help`` import that command's module alone.
A test checks that each short help in the table is the command's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, ClassVar

import typer.main
from typer.core import TyperCommand, TyperGroup

try:  # typer vendors its own click (0.2x): its groups and contexts are built on that copy
    from typer import _click as click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - an older typer builds on click itself
    import click  # type: ignore[no-redef]
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

__all__ = ["LazyCommand", "LazyGroup", "click", "click_exceptions", "load_command"]


@dataclass(frozen=True)
class LazyCommand:
    """Where a top-level command lives, and what the group's help says of it.

    ``module`` defines ``app``, a :class:`typer.Typer`: either holding the command by its name,
    or (``group=True``) being the command itself, a group of subcommands.
    """

    module: str
    short_help: str
    group: bool = False


def load_command(name: str, entry: LazyCommand) -> click.Command:
    """Import ``entry.module`` and build the click command ``name`` from its ``app``."""
    # ``__import__`` rather than ``importlib.import_module``: only the former goes through the
    # interpreter's import statement path, which ``python -X importtime`` reports.
    app = __import__(entry.module, fromlist=["app"]).app
    built = typer.main.get_group(app)
    if entry.group:
        built.name = name
        return built
    return built.commands[name]


class LazyGroup(TyperGroup):
    """A :class:`~typer.core.TyperGroup` whose commands come from :attr:`table`, loaded on
    first use."""

    table: ClassVar[Mapping[str, LazyCommand]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False
        self._loaded: dict[str, click.Command] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *self.table]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        entry = self.table.get(cmd_name)
        if found is not None or entry is None:
            return found
        if self._listing:  # the group's own help: the table says enough
            return TyperCommand(cmd_name, help=entry.short_help, short_help=entry.short_help)
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = load_command(cmd_name, entry)
        return self._loaded[cmd_name]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.ClickException as exc:  # typer suggests only among commands already built
            unknown = exc.message.startswith("No such command")
            if unknown and self.suggest_commands and args and "Did you mean" not in exc.message:
                matches = get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    suggestions = ", ".join(f"{m!r}" for m in matches)
                    exc.message = f"{exc.message.rstrip('.')}. Did you mean {suggestions}?"
            raise
