"""Shared base for the typed SageMaker artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from vigil.errors import FormatError
from vigil.formats import jackson
from vigil.locations import Location, ObjectPath, as_location, write_bytes_atomic

M = TypeVar("M", bound="Artifact")


def write_atomic(path: str | Path | ObjectPath, text: str) -> Location:
    """Publish text whole at ``path``: a local file goes to a temporary file beside it, then
    is renamed into place; an object-store URL is stored with one PUT (see
    :func:`~vigil.locations.write_bytes_atomic`)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


class Artifact(BaseModel):
    """A JSON artifact: unknown keys are kept so a round trip loses nothing."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_dict(self) -> dict[str, Any]:
        """The artifact as plain JSON data, absent keys left out."""
        return self.model_dump(mode="python", exclude_none=True, by_alias=True)

    def dumps(self) -> str:
        """The artifact as SageMaker writes it (Jackson pretty-print)."""
        return jackson.dumps(self.to_dict())

    def to_line(self) -> str:
        """The artifact as one compact JSON line (capture and ground-truth files)."""
        return orjson.dumps(self.to_dict()).decode()

    def save(self, path: str | Path | ObjectPath) -> Location:
        """Write the artifact atomically (temporary file, then rename; one PUT for a URL)."""
        return write_atomic(path, self.dumps())

    @classmethod
    def from_dict(cls: type[M], data: Any, *, source: str = "<data>") -> M:
        """Validate plain JSON data, naming the field that does not fit."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top level)"
            raise FormatError(
                f"{source}: field '{where}': {first['msg']} "
                f"(not a valid {cls.__name__} document; {exc.error_count()} error(s))"
            ) from None

    @classmethod
    def loads(cls: type[M], text: str | bytes, *, source: str = "<text>") -> M:
        """Parse JSON text."""
        try:
            data = jackson.loads(text)
        except ValueError as exc:
            raise FormatError(f"{source}: not valid JSON: {exc}") from None
        return cls.from_dict(data, source=source)

    @classmethod
    def load(cls: type[M], path: str | Path | ObjectPath) -> M:
        """Read a file (a local path or an object-store URL)."""
        p = as_location(path)
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise FormatError(f"{p}: cannot read: {exc.strerror or exc}") from None
        return cls.loads(raw, source=str(p))
