"""One meaning of a capture location for writers and readers.

A location is a local path, a ``file://`` URL or another fsspec URL (``s3://``,
``memory://``). ``file:///x`` and ``file://localhost/x`` are the local path ``/x``
everywhere: the capture writer, HTTP ingestion and the window reader all go through
:func:`local_path`, so what one writes the other reads.

>>> local_path("file:///srv/capture"), local_path("/srv/capture"), local_path("s3://b/c")
(PosixPath('/srv/capture'), PosixPath('/srv/capture'), None)
>>> local_path("file://localhost/srv/a%20b")
PosixPath('/srv/a b')
>>> join_location("file:///srv/capture", "churn", "AllTraffic"), join_location("s3://b/c/", "e")
('/srv/capture/churn/AllTraffic', 's3://b/c/e')
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from vigil.errors import ConfigError

__all__ = ["join_location", "local_path"]


def local_path(location: str | os.PathLike[str]) -> Path | None:
    """The local path ``location`` names (a path or a ``file://`` URL), or None for another
    URL. A ``file://`` URL naming another host is a :class:`~vigil.errors.ConfigError`."""
    if isinstance(location, Path):
        return location
    text = os.fspath(location)
    if "://" not in text:
        return Path(text)
    scheme = text.split("://", 1)[0].lower()
    if scheme != "file":
        return None
    parts = urlsplit(text)
    if parts.netloc not in ("", "localhost"):
        raise ConfigError(f"{text}: a file:// URL names a local path (file:///path), not a host")
    return Path(unquote(parts.path) or "/")


def join_location(location: str | os.PathLike[str], *parts: str) -> str:
    """``location`` with ``parts`` appended: a local path for local locations, else the URL."""
    local = local_path(location)
    if local is not None:
        return str(local.joinpath(*parts))
    return "/".join([os.fspath(location).rstrip("/"), *parts])
