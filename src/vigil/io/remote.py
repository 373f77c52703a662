"""Inputs at object-store URLs: resolved like local ones, fetched into a local cache.

An input URL names one object (``s3://bucket/data/train.csv``), a prefix (every data file
under it, at any depth) or a glob (``s3://bucket/data/*.parquet``). Each object is copied
once per process into a private temporary folder that mirrors its key
(``{tmp}/vigil-inputs-*/bucket/data/train.csv``, so file names, suffixes and formats read as
they do locally) and is removed when the process exits. The copy streams to disk in the
filesystem's blocks; memory stays bounded whatever the object's size. Readers then read local
files, exactly as they read any other.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from vigil.errors import EmptyInputError, InputError
from vigil.locations import filesystem

__all__ = ["fetch_inputs", "list_inputs"]

_lock = threading.Lock()
_cache: dict[tuple[str, str], Path] = {}  # (url, ETag or mtime) -> local copy
_root: list[Path] = []


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
        hit = _cache.get(key)
        if hit is not None and hit.is_file():
            return hit
        local = _cache_root().joinpath(*[p for p in path.split("/") if p not in ("", ".", "..")])
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.{os.getpid()}.part")
        fs.get_file(path, str(tmp))  # type: ignore[attr-defined]
        tmp.replace(local)
        _cache[key] = local
        return local
