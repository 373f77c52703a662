"""Which code a Vigil installation may run: the operator's policy for command targets, Python
entry points and record preprocessors.

Running code is off unless the operator turns it on in the server's own settings (never over
the API):

- ``VIGIL_ALLOW_COMMANDS=/usr/bin/retrain,/opt/x``: the executables a command target may run
  (compared by real path, symlinks resolved). A command given as a string runs through
  ``/bin/sh -c``, so it is allowed only when ``/bin/sh`` is.
- ``VIGIL_CODE_DIR=/srv/vigil-code``: a directory of the operator's code. Executables in it
  (at any depth) may be run as commands, ``pkg.mod:function`` entry points are loaded from its
  files (``pkg/mod.py``), and preprocessor files must lie in it (a relative preprocessor path is
  taken inside it).
- ``VIGIL_ALLOW_PYTHON=mypkg,other.mod``: modules (and their submodules) an entry point may be
  imported from, the ordinary way (installed packages).

The same policy is checked when a definition arrives over the API and again when it runs, so a
stored definition cannot run what the policy no longer allows.

>>> off = CodePolicy()
>>> off.enabled
False
>>> off.command_executable(["/bin/true"])
Traceback (most recent call last):
...
vigil.store.code_policy.CodeNotAllowedError: [code_not_allowed] command '/bin/true': running commands is off on this server (the operator enables it with VIGIL_ALLOW_COMMANDS or VIGIL_CODE_DIR)
>>> CodePolicy(allow_python=("json",)).python_file("json:dumps") is None
True
"""  # noqa: E501 (a doctest's expected line)

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from vigil.errors import ConfigError

if TYPE_CHECKING:
    from vigil.store.settings import Settings

__all__ = ["SHELL", "CodeNotAllowedError", "CodePolicy", "load_entry_point", "parse_list"]

SHELL = "/bin/sh"  # what a command given as a string runs through

# Environment variables that make an allowed program load other code (the dynamic loader,
# interpreters' start-up hooks and module paths, shells' start-up files).
_CODE_ENV = re.compile(
    r"^(LD_.*|DYLD_.*|PYTHON.*|PERL5.*|PERLLIB|RUBYOPT|RUBYLIB|NODE_OPTIONS|NODE_PATH|"
    r"BASH_ENV|ENV|SHELLOPTS|BASHOPTS|PS4|GCONV_PATH|LOCPATH|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|"
    r"CLASSPATH|PATH|IFS|GIT_.*|LUA_.*)$",
    re.IGNORECASE,
)


class CodeNotAllowedError(ConfigError):
    """Code (a command, a Python entry point, a preprocessor) that the operator's policy does
    not let this server run."""

    code = "code_not_allowed"


def parse_list(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """A comma-separated setting as a tuple, blanks dropped.

    >>> parse_list(" /usr/bin/a, ,/opt/b "), parse_list(None)
    (('/usr/bin/a', '/opt/b'), ())
    """
    if text is None:
        return ()
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(s.strip() for s in items if s.strip())


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class CodePolicy:
    """The operator's code policy (see the module docstring); the default allows nothing."""

    allow_commands: tuple[str, ...] = ()
    code_dir: str | None = None
    allow_python: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> CodePolicy:
        """The policy an installation's settings give."""
        return cls(
            allow_commands=parse_list(settings.allow_commands),
            code_dir=settings.code_dir or None,
            allow_python=parse_list(settings.allow_python),
        )

    @property
    def enabled(self) -> bool:
        """Whether any code at all may run."""
        return bool(self.allow_commands or self.code_dir or self.allow_python)

    def _code_root(self) -> str | None:
        return os.path.realpath(self.code_dir) if self.code_dir else None

    def _allowed_programs(self) -> set[str]:
        found = set()
        for entry in self.allow_commands:
            where = entry if os.sep in entry else shutil.which(entry)
            if where:
                found.add(os.path.realpath(where))
        return found

    def _may_run(self, real: str, root: str | None) -> bool:
        if not (os.path.isfile(real) and os.access(real, os.X_OK)):
            return False
        return real in self._allowed_programs() or bool(root and _inside(real, root))

    # -- commands -------------------------------------------------------------------------

    def command_executable(
        self, command: list[str] | str, *, cwd: str | None = None, field: str = "command"
    ) -> str:
        """The real path of the program ``command`` runs, when the policy allows it.

        A list's first item is looked up on the server's ``PATH`` (never the target's own
        environment) unless it holds a ``/``; a string command's program is ``/bin/sh``.
        Raises :class:`CodeNotAllowedError` naming ``field`` otherwise.
        """
        shown = command if isinstance(command, str) else " ".join(command)[:200]
        if not (self.allow_commands or self.code_dir):
            raise CodeNotAllowedError(
                f"{field} {shown!r}: running commands is off on this server (the operator "
                "enables it with VIGIL_ALLOW_COMMANDS or VIGIL_CODE_DIR)"
            )
        program = SHELL if isinstance(command, str) else command[0]
        if os.sep in program:
            where: str | None = os.path.join(cwd or os.getcwd(), program)
        else:
            where = shutil.which(program, path=os.environ.get("PATH", os.defpath))
        real = os.path.realpath(where) if where else None
        root = self._code_root()
        if real is not None and self._may_run(real, root):
            return real
        how = "a string command runs /bin/sh, " if isinstance(command, str) else ""
        raise CodeNotAllowedError(
            f"{field} {shown!r}: {how}program {real or program!r} is not allowed on this "
            f"server ({self.describe_commands()})"
        )

    def check_env(self, env: Mapping[str, str], *, field: str = "env") -> None:
        """Refuse environment variables that would make an allowed program run other code
        (``LD_PRELOAD``, ``PYTHONPATH``, ``PATH``, ``BASH_ENV``...)."""
        bad = sorted(k for k in env if _CODE_ENV.match(k))
        if bad:
            raise CodeNotAllowedError(
                f"{field}: {', '.join(bad)} would change which code the program runs; "
                "not allowed on this server"
            )

    def describe_commands(self) -> str:
        """The allowed programs, for messages."""
        parts = []
        if self.allow_commands:
            parts.append("VIGIL_ALLOW_COMMANDS=" + ",".join(self.allow_commands))
        if self.code_dir:
            parts.append(f"VIGIL_CODE_DIR={self.code_dir}")
        return "; ".join(parts) or "running commands is off"

    # -- Python entry points --------------------------------------------------------------

    def python_file(self, entry_point: str, *, field: str = "entry_point") -> Path | None:
        """Where ``module:function`` comes from under the policy: ``None`` to import the module
        the ordinary way (it is on ``VIGIL_ALLOW_PYTHON``), else the file in the code directory
        to load it from. Raises :class:`CodeNotAllowedError` when neither allows it."""
        module = entry_point.partition(":")[0]
        if not (self.allow_python or self.code_dir):
            raise CodeNotAllowedError(
                f"{field} {entry_point!r}: Python targets are off on this server (the operator "
                "enables them with VIGIL_CODE_DIR or VIGIL_ALLOW_PYTHON)"
            )
        if any(module == a or module.startswith(a + ".") for a in self.allow_python):
            return None
        root = self._code_root()
        parts = module.split(".")
        if root and all(p.isidentifier() for p in parts):
            for candidate in (
                Path(root, *parts[:-1], parts[-1] + ".py"),
                Path(root, *parts, "__init__.py"),
            ):
                real = os.path.realpath(candidate)
                if _inside(real, root) and os.path.isfile(real):
                    return Path(real)
        allowed = []
        if self.allow_python:
            allowed.append("VIGIL_ALLOW_PYTHON=" + ",".join(self.allow_python))
        if self.code_dir:
            allowed.append(f"a module file in VIGIL_CODE_DIR={self.code_dir}")
        raise CodeNotAllowedError(
            f"{field} {entry_point!r}: module {module!r} is not allowed on this server "
            f"(allowed: {'; '.join(allowed)})"
        )

    # -- preprocessors --------------------------------------------------------------------

    def preprocessor_path(
        self, spec: str | os.PathLike[str], *, field: str = "preprocessor"
    ) -> Path:
        """The real path of a preprocessor file inside the code directory (a relative ``spec``
        is taken inside it). Raises :class:`CodeNotAllowedError` otherwise."""
        root = self._code_root()
        if root is None:
            raise CodeNotAllowedError(
                f"{field} {str(spec)!r}: preprocessors are off on this server (the operator "
                "enables them with VIGIL_CODE_DIR, the directory they must lie in)"
            )
        path = Path(spec)
        real = os.path.realpath(path if path.is_absolute() else Path(root, path))
        if not _inside(real, root):
            raise CodeNotAllowedError(
                f"{field} {str(spec)!r}: not inside the code directory "
                f"VIGIL_CODE_DIR={self.code_dir}"
            )
        if not real.endswith(".py") or not os.path.isfile(real):
            raise CodeNotAllowedError(
                f"{field} {str(spec)!r}: expected a .py file in VIGIL_CODE_DIR={self.code_dir}"
            )
        return Path(real)

    # -- model files ----------------------------------------------------------------------

    def model_reference(self, spec: str, *, field: str = "model") -> str:
        """Where an explainability schedule's model comes from under the policy: an
        ``http(s)://`` URL of a serving endpoint is returned as it is (the outbound policy
        decides whether it may be called); ``module:callable`` must be allowed as a Python
        entry point (:meth:`python_file`); anything else is a model file (joblib or pickle,
        which runs code when loaded), whose real path must lie inside the code directory.
        Raises :class:`CodeNotAllowedError` otherwise."""
        if spec.startswith(("http://", "https://")):
            return spec
        head, sep, tail = spec.partition(":")
        if sep and tail.isidentifier() and all(p.isidentifier() for p in head.split(".")):
            self.python_file(spec, field=field)
            return spec
        root = self._code_root()
        if root is None:
            raise CodeNotAllowedError(
                f"{field} {spec!r}: model files are loaded only from the operator's code "
                "directory, and it is not set (VIGIL_CODE_DIR)"
            )
        path = Path(spec)
        real = os.path.realpath(path if path.is_absolute() else Path(root, path))
        if not _inside(real, root) or not os.path.isfile(real):
            raise CodeNotAllowedError(
                f"{field} {spec!r}: expected a model file inside the code directory "
                f"VIGIL_CODE_DIR={self.code_dir}"
            )
        return real


def load_entry_point(entry_point: str, policy: CodePolicy | None = None) -> Any:
    """The object ``module:attr.attr`` names; with a ``policy``, only from a module it allows
    (an allow-listed module is imported, one in the code directory loaded from its file).

    >>> load_entry_point("os.path:join")("a", "b")
    'a/b'
    """
    module_name, _, attrs = entry_point.partition(":")
    source = policy.python_file(entry_point) if policy is not None else None
    obj: Any = (
        _load_file(module_name, source)
        if source is not None
        else importlib.import_module(module_name)
    )
    for attr in attrs.split("."):
        obj = getattr(obj, attr)
    return obj


def _load_file(module_name: str, path: Path) -> ModuleType:
    """A fresh module object executed from ``path`` (the code directory), not from sys.path."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(f"vigil_code_{digest}_{module_name}", path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"entry point module {module_name!r}: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
