"""The floors stay honest: every package of ``src/vigil`` sits on a floor of the import contract,
and the README's layout and ARCHITECTURE.md name every one of them; no module grows past 500
lines without saying why at its top."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import vigil

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

SRC = Path(vigil.__file__).resolve().parent
ROOT = SRC.parent.parent
MAX_LINES = 500


def _top_level() -> list[str]:
    """The packages and public modules directly under src/vigil."""
    names = [p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    names += [p.stem for p in SRC.glob("*.py") if not p.name.startswith("_")]
    return sorted(names)


def _contract() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_every_package_sits_on_a_floor_of_the_import_contract() -> None:
    layers = next(c for c in _contract()["contracts"] if c["type"] == "layers")
    on_a_floor = {m.strip() for layer in layers["layers"] for m in re.split(r"[|:]", layer)}
    missing = [n for n in _top_level() if f"vigil.{n}" not in on_a_floor]
    assert not missing, f"not on any floor of the layers contract: {missing}"


def test_the_core_floor_is_what_the_purity_contract_checks() -> None:
    contracts = _contract()["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")
    pure = next(c for c in contracts if c["name"].startswith("The core floor"))
    below_storage = layers["layers"][layers["layers"].index("vigil.store") + 1 :]
    core = {m.strip() for layer in below_storage for m in re.split(r"[|:]", layer)}
    assert core == set(pure["source_modules"])


@pytest.mark.parametrize("document", ["README.md", "ARCHITECTURE.md"])
def test_the_layout_names_every_package(document: str) -> None:
    text = (ROOT / document).read_text()
    for name in _top_level():
        shown = f"{name}/" if (SRC / name).is_dir() else f"{name}.py"
        # the name itself, not the end of a longer one (io/ in ratio/) nor a sub-folder
        assert re.search(rf"(?<![\w/.]){re.escape(shown)}", text), f"{document}: no {shown}"


def test_no_module_over_500_lines_without_saying_why() -> None:
    long = []
    for path in SRC.rglob("*.py"):
        lines = path.read_text().splitlines()
        if len(lines) > MAX_LINES and not any("one module" in line for line in lines[:15]):
            long.append(f"{path.relative_to(SRC)}: {len(lines)} lines")
    assert not long, long


def test_imports_inside_functions_say_why_they_are_lazy() -> None:
    """An import inside a function is there to load something heavy only when needed, and a
    comment on it (or just above) says so; any other import belongs at the top."""
    import ast

    silent = []
    for path in sorted(SRC.rglob("*.py")):
        lines = path.read_text().splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    near = lines[max(0, node.lineno - 4) : node.lineno]
                    if not any("lazy" in line or "lazily" in line for line in near):
                        silent.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not silent, silent
