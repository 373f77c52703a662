"""Vigil's exception tree.

Every error carries a stable ``code`` that appears in its message, in the API's error body
and in the docs. Errors also subclass the built-in exception a caller would already catch.
"""

from __future__ import annotations


class VigilError(Exception):
    """Root of every error Vigil raises on purpose."""

    code: str = "vigil_error"

    def __init__(self, message: str) -> None:
        super().__init__(f"[{self.code}] {message}")
        self.message = message


class InputError(VigilError, ValueError):
    """Input data that cannot be read or holds nothing usable."""

    code = "input_error"


class EmptyInputError(InputError):
    """An input that holds no rows."""

    code = "empty_input"


class FormatError(VigilError, ValueError):
    """An artifact (statistics.json, constraints.json, ...) that does not match its format."""

    code = "format_error"


class BaselineMismatchError(VigilError, ValueError):
    """A baseline that cannot be applied to the data (for example no shared column)."""

    code = "baseline_mismatch"


class ConfigError(VigilError, ValueError):
    """An option or setting with a value outside what is accepted."""

    code = "config_error"
