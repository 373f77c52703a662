"""Errors raised by the storage layer, each with a stable ``code``.

They join Vigil's one exception tree (:class:`vigil.errors.VigilError`) and also subclass the
built-in a caller already catches: a missing row is a :class:`LookupError`, a refused state
change a :class:`RuntimeError`.
"""

from __future__ import annotations

from vigil.errors import ConfigError, NotFoundError, VigilError

__all__ = [
    "DataDirectoryError",
    "DatabaseURLError",
    "ExecutionNotFoundError",
    "LeaseLostError",
    "MigrationError",
    "NotFoundError",
    "SchemaOutdatedError",
    "SchemaTooNewError",
]


class ExecutionNotFoundError(NotFoundError):
    """No execution has the given id."""

    code = "execution_not_found"


class LeaseLostError(VigilError, RuntimeError):
    """An execution this worker no longer owns: finished, recovered or leased by another."""

    code = "lease_lost"


class DatabaseURLError(VigilError, ValueError):
    """A database URL that cannot be used (unknown scheme or driver)."""

    code = "database_url"


class DataDirectoryError(ConfigError):
    """A data directory that cannot be used: a file is there, or it cannot be created."""

    code = "data_directory"


class SchemaOutdatedError(VigilError, RuntimeError):
    """A database whose schema is older than this Vigil's (``vigil db upgrade`` brings it up)."""

    code = "schema_outdated"


class SchemaTooNewError(VigilError, RuntimeError):
    """A database at a schema revision this Vigil does not know: written by a newer Vigil."""

    code = "schema_too_new"


class MigrationError(VigilError, RuntimeError):
    """A schema migration that could not run (its reason follows)."""

    code = "migration_failed"
