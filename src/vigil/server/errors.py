"""JSON errors with a stable code and a human message: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from vigil.app.lifecycle import InUseError
from vigil.errors import VigilError

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
}


class ApiError(VigilError):
    """An error the API returns as is: an HTTP status, the code of its body (one of the API's
    codes, such as ``not_found`` or ``forbidden``, set per error) and a message."""

    code = "api_error"

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        self.code = code
        super().__init__(message)
        self.status, self.details = status, details


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    """The body every error response has."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def validation_problems(errors: Any, root: str = "") -> list[dict[str, str]]:
    """Pydantic's errors as ``{"field", "message"}`` (the field a dotted path without the
    ``body`` prefix; ``root`` names an empty one)."""
    return [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body") or root, "message": e["msg"]}
        for e in errors
    ]


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods some route of the app answers on the request's path."""
    methods: set[str] = set()
    for route in app.routes:
        match, _ = route.matches({**request.scope, "method": "\x00"})
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the JSON error shape."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, **exc.details), exc.status)

    @app.exception_handler(InUseError)
    async def _in_use(_: Request, exc: InUseError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, referrers=exc.referrers), 409)

    @app.exception_handler(VigilError)
    async def _vigil(_: Request, exc: VigilError) -> JSONResponse:
        status = 404 if isinstance(exc, LookupError) else 400
        return JSONResponse(error_body(exc.code, exc.message), status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = validation_problems(exc.errors())
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        message = f"{first['field'] or 'request'}: {first['message']}"
        return JSONResponse(error_body("validation_error", message, problems=problems), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # every method of the path, not only the first route's
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(app, request))}
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover
        return JSONResponse(error_body("internal_error", "internal error; see the server log"), 500)
