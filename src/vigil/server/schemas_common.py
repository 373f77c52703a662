"""What every route shares in its OpenAPI declaration: the error body and the statuses.

Every error the API returns has the body ``{"error": {"code", "message"}}`` (with
``details`` for some, such as the fields of a 422 or the referrers of a 409);
:func:`errors` declares it for the statuses a route can answer with.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

__all__ = ["Error", "ErrorOut", "IsoTime", "Stored", "errors"]

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _iso_only(value: Any) -> Any:
    """Only an ISO-8601 text (or a datetime) is a time: not a number of seconds."""
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO.match(value)):
        return value
    raise ValueError("expected an ISO-8601 time such as 2024-05-01T12:00:00Z")


# A time the API takes: ISO-8601 only, as OpenAPI's ``date-time`` says.
IsoTime = Annotated[datetime, BeforeValidator(_iso_only)]

_WHY = {
    400: "Bad request (a value the server cannot use)",
    401: "Missing, unknown or revoked bearer token",
    403: "The token lacks the scope this route needs",
    404: "No such object",
    409: "Conflict: the object is in use, or the work exists already",
    413: "Request body too large",
    422: "Validation error: the message names the field",
}


class Error(BaseModel):
    """One error: a stable code and a human message."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: Error


class Stored(BaseModel):
    """How many records an ingestion stored, in how many files."""

    stored: int
    files: int


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that answers with these error statuses."""
    return {s: {"model": ErrorOut, "description": _WHY[s]} for s in statuses}
