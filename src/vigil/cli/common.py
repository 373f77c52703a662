"""What every command shares: its two consoles, one-line records, tables, errors, the
``--output text|json``, ``--data-dir`` options and times.

A line a script may read (an execution, a listing row, a summary, an error) is printed whole,
whatever ``COLUMNS`` says and whether or not stdout is a terminal: plain ``print`` when it is
not, rich with ``soft_wrap=True`` (colour, never a hard wrap) when it is. Tables are drawn only
on a terminal; elsewhere they become a title line, a header line and one line per row.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TextIO, overload

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from vigil.app.documents import iso

out = Console(soft_wrap=True, highlight=False, markup=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False, emoji=False)

# A piece of a line: plain text, or (text, rich style) to colour it on a terminal.
Part = str | tuple[str, str]


class OutputFormat(str, Enum):
    """What a listing command prints: one line per record, or one JSON document."""

    text = "text"
    json = "json"


OutputOpt = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        case_sensitive=False,
        help="text: one line per record; json: one document (ISO-8601 UTC times).",
    ),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="State directory (default $VIGIL_DATA_DIR or ./vigil-data)."),
]


def _plain(part: Part) -> str:
    return part if isinstance(part, str) else part[0]


def line(*parts: Part, stderr: bool = False) -> None:
    """Print one record on one line, never wrapped."""
    console = err if stderr else out
    if console.is_terminal:
        console.print(Text.assemble(*parts), soft_wrap=True)
    else:
        stream: TextIO = sys.stderr if stderr else sys.stdout
        print("".join(_plain(p) for p in parts), file=stream, flush=True)  # as rich does


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Part]]) -> None:
    """A table on a terminal; elsewhere the title, the header and each row on a line of its
    own, cells two spaces apart."""
    if not out.is_terminal:
        line(title)
        line("  ".join(columns))
        for row in rows:
            line("  ".join(_plain(cell) for cell in row))
        return
    drawn = Table(title=title, title_justify="left")
    for column in columns:
        drawn.add_column(column)
    for row in rows:
        drawn.add_row(*(Text.assemble(cell) for cell in row))
    out.print(drawn)


def violation_status(violations: int) -> Part:
    """``N violation(s)`` in red, or ``no violations`` in green."""
    return (f"{violations} violation(s)", "red") if violations else ("no violations", "green")


def fail(message: str) -> typer.Exit:
    """Print ``vigil: error: MESSAGE`` as one line on stderr; raise what it returns (exit 2)."""
    print(f"vigil: error: {' '.join(message.splitlines())}", file=sys.stderr)
    return typer.Exit(2)


def _default(value: Any) -> Any:
    return iso(value) if isinstance(value, datetime) else str(value)


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout (keys in the order given: each command fixes its
    own)."""
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False, default=_default) + "\n")


@overload
def parse_time(text: str, option: str) -> datetime: ...


@overload
def parse_time(text: None, option: str) -> None: ...


@overload
def parse_time(text: str | None, option: str) -> datetime | None: ...


def parse_time(text: str | None, option: str) -> datetime | None:
    """An ISO-8601 option value (``Z`` allowed); a time without a zone is taken as UTC."""
    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(
            f"{option} {text!r}: expected an ISO-8601 time such as 2024-05-01T12:00:00Z"
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
