"""What every spec of ``vigil.yaml`` shares: resource names, the strict model base, the
error that names the key of a free-form mapping it is about, and how a location is written.

>>> format_loc(("schedules", 0, "expression"))
'schedules[0].expression'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from vigil.errors import ConfigError

CONFIG_VERSION = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
# validation context key: VigilConfig leaves its duplicate names to load_config, which
# reports them with line numbers
DEFER_CHECKS = "vigil_defer_checks"


def check_name(value: str) -> str:
    """``value`` when it is a valid resource name."""
    if not _NAME_RE.match(value):
        raise ConfigError(f"{value!r} is not a valid name: use 1-63 letters, digits, '-' or '_'")
    return value


Name = Annotated[str, AfterValidator(check_name)]
"""A resource name: 1-63 letters, digits, ``-`` or ``_``."""


class KeyedConfigError(ConfigError):
    """A ConfigError about one key of a free-form mapping (so that its line can be found)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class SpecModel(BaseModel):
    """The base of every spec: unknown keys are refused, strings stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def format_loc(loc: Iterable[str | int]) -> str:
    """``("schedules", 0, "expression")`` as ``schedules[0].expression``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
