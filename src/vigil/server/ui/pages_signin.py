"""Dashboard pages: sign in with a token, sign out.

``GET /signin`` shows a form for a token; a sign-in link ``/signin#token=vgl_...`` (what
``vigil demo`` prints) fills it from the URL's fragment, which the browser never sends to the
server (so the token stays out of access logs), and submits it. ``POST /signin`` checks the
token and sets the session cookie (:mod:`vigil.server.ui.session`); ``POST /signout`` clears
it (with its CSRF field).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.server.ui.render import page
from vigil.server.ui.session import (
    COOKIE,
    SESSION_HOURS,
    CsrfRejectedError,
    check_csrf,
    foreign_origin,
    is_secure,
    require_viewer,
    safe_next,
    session_value,
    viewer_of,
)

router = APIRouter(include_in_schema=False)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str = "/") -> HTMLResponse:
    return page(request, viewer_of(request), "signin.html", "Sign in", next=safe_next(next),
                error=None)


@router.post("/signin", response_model=None)
async def signin(request: Request) -> Response:
    origin = foreign_origin(request)
    if origin is not None:
        raise CsrfRejectedError(f"the sign-in form came from {origin}")  # login CSRF
    form = await request.form()
    token = str(form.get("token") or "").strip()
    target = safe_next(str(form.get("next") or "/"))
    value = session_value(request, token) if token else None
    if value is None:
        return page(request, None, "signin.html", "Sign in", status_code=401, next=target,
                    error="That token is unknown or revoked.")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, value, max_age=SESSION_HOURS * 3600, path="/", httponly=True,
        samesite="strict", secure=is_secure(request),
    )
    return response


@router.post("/signout", response_model=None)
async def signout(request: Request) -> Response:
    viewer = require_viewer(request)
    check_csrf(request, viewer, await request.form())
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=is_secure(request))
    return response
