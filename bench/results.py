"""Write one benchmark's section of bench/RESULTS.md, leaving the other sections alone.

Each section sits between ``<!-- BEGIN name -->`` and ``<!-- END name -->``; a new section is
appended. Every benchmark script calls :func:`write_section` with its name and Markdown text
(which must include the command that reproduces it).
"""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = "# Vigil benchmarks\n\nEach section below was written by the script it names.\n"


def write_section(name: str, text: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section ``name`` of RESULTS.md with ``text``."""
    block = f"<!-- BEGIN {name} -->\n{text.strip()}\n<!-- END {name} -->"
    current = path.read_text() if path.exists() else HEADER
    pattern = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->",
                         re.S)
    if pattern.search(current):
        current = pattern.sub(lambda _: block, current)
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(current)
