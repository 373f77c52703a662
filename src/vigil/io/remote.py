"""Inputs at object-store URLs: resolved like local ones, fetched into a local cache.

An input URL names one object (``s3://bucket/data/train.csv``), a prefix (every data file
under it, at any depth) or a glob (``s3://bucket/data/*.parquet``). Each object is copied
once per process into a private temporary folder that mirrors its key under its version
(``{tmp}/vigil-inputs-*/{version}/bucket/data/train.csv``, so file names, suffixes and
formats read as they do locally) and is removed when the process exits. The copy streams to
disk in the filesystem's blocks; memory stays bounded whatever the object's size. Readers
then read local files, exactly as they read any other.

A long-lived process (the server building a registered baseline from a bucket) wraps its
reading in :func:`fetch_scope`: what was fetched inside is removed when the scope ends (unless
another scope still holds it), so the cache does not grow until the process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from vigil.errors import EmptyInputError, InputError
from vigil.locations import filesystem

__all__ = ["cached_copies", "fetch_inputs", "fetch_scope", "list_inputs"]

_Key = tuple[str, str]
_lock = threading.Lock()
_cache: dict[_Key, Path] = {}  # (url, ETag or mtime) -> local copy
_holders: dict[_Key, int] = {}  # how many open fetch scopes hold each copy
_scope: ContextVar[set[_Key] | None] = ContextVar("vigil_fetch_scope", default=None)
_root: list[Path] = []


@contextlib.contextmanager
def fetch_scope() -> Iterator[None]:
    """The objects fetched inside (in this thread or task) are removed from the local cache
    when the scope ends, unless another open scope holds them too."""
    held: set[_Key] = set()
    token = _scope.set(held)
    try:
        yield
    finally:
        _scope.reset(token)
        with _lock:
            for key in held:
                left = _holders.get(key, 0) - 1
                if left > 0:
                    _holders[key] = left
                    continue
                _holders.pop(key, None)
                local = _cache.pop(key, None)
                if local is not None:
                    _remove(local)


def cached_copies() -> list[Path]:
    """The local copies the cache holds now (what the tests and a curious operator read)."""
    with _lock:
        return sorted(p for p in _cache.values() if p.is_file())


def _remove(local: Path) -> None:
    """Remove a local copy and the folders it leaves empty, up to the cache's root."""
    with contextlib.suppress(OSError):
        local.unlink()
    root = _root[0] if _root else None
    parent = local.parent
    while root is not None and parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:  # not empty (or gone): the folders above are in use too
            break
        parent = parent.parent


def _cache_root() -> Path:
    if not _root:
        root = Path(tempfile.mkdtemp(prefix="vigil-inputs-"))
        atexit.register(shutil.rmtree, root, True)
        _root.append(root)
    return _root[0]


def _version(info: dict[str, object]) -> str:
    for key in ("ETag", "etag", "mtime", "LastModified", "last_modified"):
        if info.get(key) is not None:
            return f"{key}={info[key]}|size={info.get('size')}"
    return f"size={info.get('size')}"


def fetch_inputs(url: str, suffixes: tuple[str, ...]) -> list[Path]:
    """Local copies of the objects ``url`` names (one object, a prefix or a glob), sorted by
    key; an InputError names the URL when nothing is there."""
    fs, found = _objects(url, suffixes)
    try:
        return [_fetch(fs, p) for p in found]
    except FileNotFoundError:
        raise InputError(f"{url}: no such object, prefix or bucket") from None
    except Exception as exc:  # botocore and aiohttp errors: credentials, endpoint, access
        raise InputError(f"{url}: cannot read: {exc or type(exc).__name__}") from None


def list_inputs(url: str, suffixes: tuple[str, ...]) -> list[str]:
    """The URLs of the objects ``url`` names (one object, a prefix or a glob), sorted by key,
    without fetching them: what a distributed engine hands its tasks, each task then fetching
    its own object where it runs."""
    fs, found = _objects(url, suffixes)
    return [str(fs.unstrip_protocol(p)) for p in found]


def _objects(url: str, suffixes: tuple[str, ...]) -> tuple[Any, list[str]]:
    fs, path = filesystem(url)
    try:
        if any(ch in path for ch in "*?["):
            found = sorted(p for p, info in fs.glob(path, detail=True).items()
                           if info.get("type") != "directory")
            if not found:
                raise InputError(f"{url}: the pattern matches no object")
        elif fs.isfile(path):
            found = [path]
        elif fs.isdir(path):
            found = sorted(p for p in fs.find(path) if p.lower().endswith(suffixes))
            if not found:
                raise EmptyInputError(
                    f"{url}: prefix holds no data file ({', '.join(suffixes)})"
                )
        else:
            raise InputError(f"{url}: no such object, prefix or bucket")
        return fs, found
    except (InputError, EmptyInputError):
        raise
    except FileNotFoundError:
        raise InputError(f"{url}: no such object, prefix or bucket") from None
    except Exception as exc:  # botocore and aiohttp errors: credentials, endpoint, access
        raise InputError(f"{url}: cannot read: {exc or type(exc).__name__}") from None


def _fetch(fs: object, path: str) -> Path:
    url = str(fs.unstrip_protocol(path))  # type: ignore[attr-defined]
    info = fs.info(path)  # type: ignore[attr-defined]
    key = (url, _version(info))
    with _lock:
        held = _scope.get()
        if held is not None and key not in held:
            held.add(key)
            _holders[key] = _holders.get(key, 0) + 1
        hit = _cache.get(key)
        if hit is not None and hit.is_file():
            return hit
        version = hashlib.sha256(key[1].encode()).hexdigest()[:16]  # two versions, two copies
        parts = [p for p in path.split("/") if p not in ("", ".", "..")]
        local = _cache_root().joinpath(version, *parts)
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.{os.getpid()}.part")
        fs.get_file(path, str(tmp))  # type: ignore[attr-defined]
        tmp.replace(local)
        _cache[key] = local
        return local
