"""Where files live: local paths, ``file://`` URLs and object-store URLs (``s3://``, ...).

A location is a local path, a ``file://`` URL (the local path it names) or another fsspec
URL. :func:`as_location` turns any of them into a :class:`~pathlib.Path` or an
:class:`ObjectPath`, which offer the same small set of operations (``/``, ``name``,
``parent``, ``exists``, ``is_dir``, ``read_bytes``, ``write_bytes``, ...), so code that
writes artifacts into a folder works on both. Object stores are opened in one place,
:func:`filesystem`: fsspec is imported only for a URL (local paths stay as fast as before),
and credentials and endpoints come from the standard chain of the filesystem (for ``s3://``,
s3fs and botocore: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, instance
roles, and ``AWS_ENDPOINT_URL`` for MinIO or moto).

Objects are published whole: :func:`write_bytes_atomic` writes a local file under a
temporary name and renames it into place, and stores an object in one request (a PUT, or for
large data a multipart upload: S3 makes an object visible only once its upload completes), so
no reader sees part of a file.

>>> local_path("file:///srv/capture"), local_path("/srv/capture"), local_path("s3://b/c")
(PosixPath('/srv/capture'), PosixPath('/srv/capture'), None)
>>> join_location("s3://b/c/", "e", "f.json"), is_url("s3://b"), is_url("/srv")
('s3://b/c/e/f.json', True, False)
>>> as_location("file:///srv/x") / "statistics.json"
PosixPath('/srv/x/statistics.json')
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union
from urllib.parse import unquote, urlsplit

from vigil.errors import ConfigError, VigilError

__all__ = [
    "Location",
    "ObjectNotFoundError",
    "ObjectPath",
    "ObjectStoreError",
    "as_location",
    "filesystem",
    "is_url",
    "join_location",
    "local_path",
    "read_object",
    "write_bytes_atomic",
]


class ObjectStoreError(VigilError, OSError):
    """An object store refused or failed a request (no such bucket, no credentials, ...)."""

    code = "object_store"

    def __str__(self) -> str:  # the VigilError text, not OSError's "[Errno ...]" form
        return Exception.__str__(self)


class ObjectNotFoundError(ObjectStoreError, FileNotFoundError):
    """No such object, prefix or bucket."""

    code = "object_not_found"


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


def is_url(location: object) -> bool:
    """Whether ``location`` is an object-store URL (not a local path or ``file://`` URL)."""
    if isinstance(location, ObjectPath):
        return True
    if not isinstance(location, (str, os.PathLike)) or isinstance(location, Path):
        return False
    text = os.fspath(location)
    return "://" in text and text.split("://", 1)[0].lower() != "file"


def join_location(location: str | os.PathLike[str], *parts: str) -> str:
    """``location`` with ``parts`` appended: a local path for local locations, else the URL."""
    local = local_path(location)
    if local is not None:
        return str(local.joinpath(*parts))
    return "/".join([os.fspath(location).rstrip("/"), *parts])


_LISTING_CACHES = ("s3", "s3a", "gs", "gcs", "abfs", "az")


def filesystem(url: str) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) for an object-store URL: the one place Vigil
    opens one. A missing driver (``s3fs`` for ``s3://``) is a ConfigError naming the extra."""
    # lazy: fsspec (30-50 ms to import) loads only for URLs
    import fsspec

    scheme = url.split("://", 1)[0].lower()
    # listings are never cached: a long-running server lists capture hours that other
    # processes keep writing (s3fs would otherwise keep the first listing for good)
    options = {"use_listings_cache": False} if scheme in _LISTING_CACHES else {}
    try:
        return fsspec.core.url_to_fs(url, **options)  # type: ignore[no-any-return]
    except ImportError as exc:
        extra = " (pip install 'vigil[s3]')" if scheme in ("s3", "s3a") else ""
        raise ConfigError(f"{url}: no driver for {scheme}:// URLs{extra}: {exc}") from None
    except ValueError as exc:
        raise ConfigError(f"{url}: not a location Vigil can open: {exc}") from None


def read_object(fs: Any, path: str) -> bytes:
    """The whole object at ``path`` in one GET: a read ranged from byte 0 needs no HEAD for
    the size first (s3fs sends one otherwise); an empty object, which refuses any range, is
    read plainly."""
    try:
        return bytes(fs.cat_file(path, start=0))
    except FileNotFoundError:
        raise
    except Exception:
        return bytes(fs.cat_file(path))


def _failed(url: str, what: str, exc: BaseException) -> OSError:
    """An object-store failure as an OSError (missing keys stay FileNotFoundError)."""
    err: ObjectStoreError
    if isinstance(exc, FileNotFoundError):
        text = "no such object or bucket"
        err = ObjectNotFoundError(f"{url}: {text}")
    else:
        text = str(exc) or type(exc).__name__
        err = ObjectStoreError(f"{url}: cannot {what}: {text}")
    err.strerror, err.filename = text, url  # read as an OSError's: "{file}: {strerror}"
    return err


class ObjectPath:
    """A file or folder in an object store, with the part of :class:`~pathlib.Path` that
    artifact code uses. Folders are prefixes: ``mkdir`` does nothing, ``is_dir`` is true when
    something lies under the prefix."""

    __slots__ = ("fs", "path")

    def __init__(self, fs: Any, path: str) -> None:
        self.fs = fs
        self.path = path.rstrip("/")

    @classmethod
    def from_url(cls, url: str) -> ObjectPath:
        """The object or prefix ``url`` names."""
        fs, path = filesystem(url)
        return cls(fs, path)

    @property
    def url(self) -> str:
        """The full URL (``s3://bucket/key``)."""
        return str(self.fs.unstrip_protocol(self.path))

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"ObjectPath({self.url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectPath) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    def __truediv__(self, part: str | os.PathLike[str]) -> ObjectPath:
        return ObjectPath(self.fs, f"{self.path}/{os.fspath(part).strip('/')}")

    def joinpath(self, *parts: str) -> ObjectPath:
        """This path with ``parts`` appended."""
        out = self
        for part in parts:
            out = out / part
        return out

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix

    @property
    def parent(self) -> ObjectPath:
        return ObjectPath(self.fs, self.path.rsplit("/", 1)[0]) if "/" in self.path else self

    def with_name(self, name: str) -> ObjectPath:
        """This path with its last part replaced."""
        return self.parent / name

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Nothing: object stores have no folders, a prefix exists once it holds objects."""

    def exists(self) -> bool:
        try:
            return bool(self.fs.exists(self.path))
        except Exception as exc:
            raise _failed(self.url, "look it up", exc) from None

    def is_file(self) -> bool:
        try:
            return bool(self.fs.isfile(self.path))
        except Exception as exc:
            raise _failed(self.url, "look it up", exc) from None

    def is_dir(self) -> bool:
        try:
            return bool(self.fs.isdir(self.path))
        except Exception as exc:
            raise _failed(self.url, "list it", exc) from None

    def iterdir(self) -> list[ObjectPath]:
        """The objects and prefixes right under this prefix, sorted."""
        try:
            names = self.fs.ls(self.path, detail=False)
        except Exception as exc:
            raise _failed(self.url, "list it", exc) from None
        return sorted(ObjectPath(self.fs, n) for n in names if n.rstrip("/") != self.path)

    def files(self) -> list[ObjectPath]:
        """Every object under this prefix, at any depth, sorted."""
        try:
            names = self.fs.find(self.path)
        except Exception as exc:
            raise _failed(self.url, "list it", exc) from None
        return [ObjectPath(self.fs, n) for n in sorted(names)]

    def __lt__(self, other: ObjectPath) -> bool:
        return self.path < other.path

    def read_bytes(self) -> bytes:
        try:
            return read_object(self.fs, self.path)
        except Exception as exc:
            raise _failed(self.url, "read it", exc) from None

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def write_bytes(self, data: bytes) -> int:
        """Store ``data`` as the whole object, in one request (visible only when complete)."""
        try:
            self.fs.pipe_file(self.path, data)
        except Exception as exc:
            raise _failed(self.url, "write it", exc) from None
        return len(data)

    def write_text(self, text: str, encoding: str = "utf-8") -> int:
        return self.write_bytes(text.encode(encoding))

    def size(self) -> int:
        """The object's size in bytes."""
        try:
            return int(self.fs.size(self.path))
        except Exception as exc:
            raise _failed(self.url, "look it up", exc) from None

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            self.fs.rm_file(self.path)
        except FileNotFoundError as exc:
            if not missing_ok:
                raise _failed(self.url, "delete it", exc) from None
        except Exception as exc:
            raise _failed(self.url, "delete it", exc) from None


#: a local path or an object in an object store
Location = Union[Path, ObjectPath]  # noqa: UP007 (a runtime alias on Python 3.10)


def as_location(location: str | os.PathLike[str] | ObjectPath) -> Location:
    """A :class:`~pathlib.Path` for a local path or ``file://`` URL, else an
    :class:`ObjectPath` (fsspec is imported only then)."""
    if isinstance(location, ObjectPath):
        return location
    local = local_path(location)
    if local is not None:
        return local
    return ObjectPath.from_url(os.fspath(location))


def write_bytes_atomic(location: str | os.PathLike[str] | ObjectPath, data: bytes) -> Location:
    """Publish ``data`` whole at ``location``: a local file is written under a temporary name
    beside it and renamed into place; an object is stored with one PUT."""
    target = as_location(location)
    if isinstance(target, ObjectPath):
        target.write_bytes(data)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target
