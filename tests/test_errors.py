"""Vigil's one exception tree: every error it raises derives from VigilError, every code is
unique, and the tree drawn in ``vigil.errors``' docstring is the tree the code has."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import vigil
from vigil.errors import VigilError

SRC = Path(vigil.__file__).resolve().parent

# Built-in exceptions raised on purpose because a protocol asks for exactly them.
PROTOCOL = {
    "AttributeError": "module __getattr__ (PEP 562)",
    "NotImplementedError": "an abstract method",
    "StopIteration": "the iterator protocol",
}
# Raised inside pydantic validators, which pydantic turns into its ValidationError; the
# loaders (vigil.yaml, the API) turn that into a ConfigFileError or a 422 naming the field.
VALIDATOR_DECORATORS = {"field_validator", "model_validator", "validator", "root_validator"}
VALIDATOR_WRAPPERS = {"AfterValidator", "BeforeValidator", "PlainValidator", "WrapValidator"}


def _modules() -> list[str]:
    names = ["vigil"]
    for info in pkgutil.walk_packages([str(SRC)], prefix="vigil."):
        if not info.name.endswith("__main__"):  # running it would start the CLI
            names.append(info.name)
    return names


def _error_classes() -> list[type[VigilError]]:
    for name in _modules():
        importlib.import_module(name)
    seen: list[type[VigilError]] = []
    todo: list[type[VigilError]] = [VigilError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("vigil") and cls not in seen:
            seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


def test_codes_are_unique_and_shown_in_messages() -> None:
    owners: dict[str, str] = {}
    for cls in _error_classes():
        code = cls.__dict__.get("code")
        if code is None:  # inherits its parent's code (a narrower kind of the same error)
            continue
        assert isinstance(code, str) and re.fullmatch(r"[a-z][a-z0-9_]*", code), cls
        where = f"{cls.__module__}.{cls.__qualname__}"
        assert code not in owners, f"code {code!r} of {where} is {owners[code]}'s already"
        owners[code] = where
    assert len(owners) >= 10
    assert str(VigilError("boom")) == "[vigil_error] boom"


def _drawn_tree() -> list[tuple[int, str, str]]:
    """(depth, class name, code) per line of the tree in vigil.errors' docstring."""
    doc = importlib.import_module("vigil.errors").__doc__ or ""
    block = doc.split("::", 1)[1]
    rows = []
    for line in block.splitlines():
        m = re.match(r"^    ((?:[│ ] {3}|[├└]── )*)(\w+)\s+(\w+)", line)
        if m:
            rows.append((len(m.group(1)) // 4, m.group(2), m.group(3)))
        elif rows and line.strip() and not line.startswith("    "):
            break
    return rows


def _live_tree() -> list[tuple[int, str, str]]:
    classes = _error_classes()
    rows: list[tuple[int, str, str]] = []

    def parent(cls: type[VigilError]) -> type:
        return next(b for b in cls.__bases__ if issubclass(b, VigilError))

    def walk(cls: type[VigilError], depth: int) -> None:
        rows.append((depth, cls.__name__, cls.code))
        children = [c for c in classes if c is not VigilError and parent(c) is cls]
        for child in sorted(children, key=lambda c: c.__name__):
            walk(child, depth + 1)

    walk(VigilError, 0)
    return rows


def test_the_docstring_draws_the_tree_the_code_has() -> None:
    drawn, live = _drawn_tree(), _live_tree()
    assert drawn, "no tree found in vigil.errors' docstring"
    assert drawn == live, "\n".join(
        f"{'  ' * d}{n} {c}" for d, n, c in live
    )


def _vigil_error_names() -> set[str]:
    return {cls.__name__ for cls in _error_classes()}


def _validator_functions(tree: ast.Module) -> set[str]:
    """Functions used as pydantic validators (wrapped in AfterValidator(...)), and the module's
    helpers that only validators call (pydantic catches what they raise too)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in VALIDATOR_WRAPPERS:
            names.update(a.id for a in node.args if isinstance(a, ast.Name))
    callers: dict[str, set[str]] = {}
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    functions = [n for n in ast.walk(tree) if isinstance(n, kinds)]
    for fn in functions:
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                callers.setdefault(node.func.id, set()).add(fn.name)
    validators = {fn.name for fn in functions if _decorated_as_validator(fn)} | names
    for fn in functions:
        if fn.name in callers and callers[fn.name] <= validators:
            names.add(fn.name)
    return names


def _decorated_as_validator(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for d in fn.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        name = getattr(target, "id", None) or getattr(target, "attr", None)
        if name in VALIDATOR_DECORATORS:
            return True
    return False


def _raises(path: Path) -> list[tuple[int, str, str]]:
    """(line, raised class name, enclosing function) of every ``raise Name(...)``."""
    tree = ast.parse(path.read_text())
    validators = _validator_functions(tree)
    found = []

    def visit(node: ast.AST, fn: ast.FunctionDef | ast.AsyncFunctionDef | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            fn = node
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = exc.id if isinstance(exc, ast.Name) else getattr(exc, "attr", None)
            if name and name[0].isupper():
                in_validator = fn is not None and (
                    _decorated_as_validator(fn) or fn.name in validators
                )
                fn_name = fn.name if fn is not None else "<module>"
                if not (in_validator and name in ("ValueError", "TypeError")):
                    found.append((node.lineno, name, fn_name))
        for child in ast.iter_child_nodes(node):
            visit(child, fn)

    visit(tree, None)
    return found


def test_every_error_raised_derives_from_vigil_error() -> None:
    ours = _vigil_error_names()
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        for line, name, fn in _raises(path):
            if name in ours or name in ("Exit", "Abort"):  # typer's exits carry a status
                continue
            if name in PROTOCOL:
                continue
            wrong.append(f"{path.relative_to(SRC.parent)}:{line}: {fn} raises {name}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("builtin", [ValueError, LookupError])
def test_errors_subclass_the_builtins_a_caller_already_catches(builtin: type) -> None:
    classes = _error_classes()
    assert any(issubclass(c, builtin) for c in classes)
    from vigil.errors import ConfigError, NotFoundError

    assert issubclass(ConfigError, ValueError) and issubclass(NotFoundError, LookupError)


def test_errors_cross_a_process_boundary_as_they_were_raised() -> None:
    """An error pickled (a worker process's or a Spark task's) reads the same on the other
    side: its class, its message and its code once, not ``[code] [code] ...``."""
    import pickle

    checked = 0
    for cls in _error_classes():
        if cls.__init__ is not VigilError.__init__:  # its own signature: pickled as it says
            continue
        err = cls("the message")
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is cls
        assert str(back) == str(err) == f"[{cls.code}] the message"
        assert back.message == "the message"
        checked += 1
    assert checked > 30
