"""Where a path or URL that arrives over the API may point: the data directory and the
operator's allowed roots, never the server's own state.

:func:`confine_location` is the one resolver every API location field goes through
(a baseline's ``path``, an endpoint's ``capture_uri``, a schedule's preprocessor): a local
path (or ``file://`` URL: ``file:///x`` is the local path ``/x``, as for the capture writer
and reader in :mod:`vigil.capture.location`) is resolved, symlinks and ``..`` included, and
must lie inside the data directory, the capture, reports or baselines root, or a root of
``VIGIL_ALLOWED_ROOTS`` (:attr:`Settings.allowed_roots`); a URL (``s3://bucket/prefix``) must
start with an allowed URL prefix. Inside those, the server's state is refused: its SQLite
database (and the ``-wal``, ``-shm``, ``-journal`` files beside it), every file directly in
the data directory (key files and the like), and any folder holding them.

What the operator runs locally (``vigil apply -f``, ``vigil baseline``) is not confined.

>>> import tempfile
>>> settings = Settings(data_dir=Path(tempfile.mkdtemp()))
>>> (settings.data_dir / "vigil.db").touch()
>>> confine_location(settings, "incoming/x.csv", "path") == str(
...     settings.data_dir.resolve() / "incoming" / "x.csv")
True
>>> confine_location(settings, "/proc/self/environ", "path")  # doctest: +ELLIPSIS
Traceback (most recent call last):
vigil.store.locations.LocationNotAllowedError: [location_not_allowed] path '/proc/self/environ': ...
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

from vigil.errors import ConfigError
from vigil.store.settings import Settings

__all__ = [
    "LocationNotAllowedError",
    "allowed_roots",
    "check_local",
    "confine_location",
    "confine_tree",
    "state_files",
]

_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


class LocationNotAllowedError(ConfigError):
    """A path or URL from the API outside the allowed roots, or naming the server's state."""

    code = "location_not_allowed"


def _local(text: str, field: str = "location") -> Path | None:
    """The local path a path or ``file://`` URL names; None for other URLs."""
    if "://" not in text:
        return Path(text)
    if text.split("://", 1)[0].lower() != "file":
        return None
    parts = urlsplit(text)
    if parts.netloc not in ("", "localhost"):
        raise LocationNotAllowedError(
            f"{field} {text!r}: a file:// URL names a local path (file:///path), not a host"
        )
    return Path(unquote(parts.path) or "/")


def _url_key(text: str) -> tuple[str, str, str]:
    """(scheme, host, normalised path) of a URL; ``..`` segments are folded away."""
    parts = urlsplit(text)
    path = posixpath.normpath("/" + parts.path.lstrip("/")) if parts.path else "/"
    return parts.scheme.lower(), parts.netloc, path


def allowed_roots(settings: Settings) -> list[str]:
    """The data directory, the capture, reports and baselines roots, then the operator's
    ``VIGIL_ALLOWED_ROOTS``, in that order (duplicates dropped)."""
    roots = [str(settings.data_dir), settings.capture_root, settings.reports_root,
             settings.baselines_root, *settings.allowed_roots]
    out: list[str] = []
    for root in roots:
        if root and root not in out:
            out.append(root)
    return out


def _sqlite_file(settings: Settings) -> Path:
    url = settings.database_url or os.environ.get("VIGIL_DATABASE_URL") or ""
    if url.startswith("sqlite:///"):
        return Path(unquote(url[len("sqlite:///"):].split("?", 1)[0]))
    return settings.data_dir / "vigil.db"


def state_files(settings: Settings) -> list[Path]:
    """The server's own files (resolved): the SQLite database and its companions, and every
    file directly in the data directory."""
    db = _sqlite_file(settings).resolve()
    files = [db.with_name(db.name + suffix) for suffix in _SQLITE_COMPANIONS]
    data = settings.data_dir.resolve()
    if data.is_dir():
        files += [p for p in data.iterdir() if not p.is_dir()]
    return files


def _roots_text(settings: Settings) -> str:
    return ", ".join(allowed_roots(settings))


def confine_location(
    settings: Settings, value: str, field: str, *, must_exist: bool = False, hint: str = ""
) -> str:
    """``value`` resolved, when it lies inside an allowed root and names none of the server's
    state; else :class:`LocationNotAllowedError` naming ``field`` and the allowed roots.

    A local value (a path or ``file://`` URL) comes back as an absolute resolved path
    (relative paths are taken from the data directory); a URL comes back normalised.
    ``must_exist`` refuses a local path that does not exist. ``hint`` ends the message."""
    tail = f"; {hint}" if hint else ""
    if "\x00" in value:
        raise LocationNotAllowedError(f"{field} {value!r}: a path holds no NUL character")
    local = _local(value, field)
    if local is None:
        key = _url_key(value)
        for root in allowed_roots(settings):
            if _local(root) is not None:
                continue
            scheme, host, prefix = _url_key(root)
            if (scheme, host) == key[:2] and (
                key[2] == prefix or key[2].startswith(prefix.rstrip("/") + "/")
            ):
                return f"{key[0]}://{key[1]}{key[2]}"
        raise LocationNotAllowedError(
            f"{field} {value!r}: outside the allowed locations ({_roots_text(settings)}){tail}"
        )
    if not local.is_absolute():
        local = settings.data_dir / local
    try:
        resolved = local.resolve(strict=must_exist)
    except FileNotFoundError:
        raise LocationNotAllowedError(f"{field} {value!r}: no such file or directory") from None
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a permission error
        raise LocationNotAllowedError(f"{field} {value!r}: cannot be resolved ({exc})") from None
    check_local(settings, resolved, field, value, tail)
    return str(resolved)


def check_local(
    settings: Settings, resolved: Path, field: str, value: str, tail: str = ""
) -> None:
    """Refuse a resolved local path outside the local allowed roots or naming server state."""
    inside = False
    for root in allowed_roots(settings):
        root_path = _local(root)
        if root_path is not None and resolved.is_relative_to(root_path.resolve()):
            inside = True
            break
    if not inside:
        raise LocationNotAllowedError(
            f"{field} {value!r}: {resolved} is outside the allowed locations "
            f"({_roots_text(settings)}){tail}"
        )
    for state in state_files(settings):
        if state == resolved or state.is_relative_to(resolved):
            raise LocationNotAllowedError(
                f"{field} {value!r}: {resolved} is or holds the server's own state ({state})"
            )


def confine_tree(settings: Settings, directory: Path, field: str, value: str) -> None:
    """Refuse a folder any of whose entries resolves (through a symlink) outside the allowed
    roots or onto the server's state: everything a job would read in it."""
    for current, dirs, files in os.walk(directory, followlinks=False):
        for name in [*dirs, *files]:
            entry = Path(current) / name
            if entry.is_symlink():
                check_local(settings, entry.resolve(), field, value)
