"""Shared base for the typed SageMaker artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from vigil.errors import FormatError
from vigil.formats import jackson

M = TypeVar("M", bound="Artifact")


def write_atomic(path: str | Path, text: str) -> Path:
    """Write text to a temporary file beside ``path``, then rename it into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target


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

    def save(self, path: str | Path) -> Path:
        """Write the artifact atomically (temporary file, then rename)."""
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
    def load(cls: type[M], path: str | Path) -> M:
        """Read a file."""
        p = Path(path)
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise FormatError(f"{p}: cannot read: {exc.strerror or exc}") from None
        return cls.loads(raw, source=str(p))
