"""The web dashboard served by ``vigil server`` at ``/``: server-rendered pages (Jinja2) with
a little JavaScript (``/static/ui/vigil.js``) drawing charts with uPlot, every script, style and
font shipped in the package (no CDN: it works offline).

Pages read through the same application functions as the API routes (no SQL of their own),
need a signed-in session (:mod:`vigil.server.ui.session`), and offer only what the session's
token scopes allow. Each page module holds one router; :func:`install` mounts them all.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from vigil.server.ui import (
    pages_alarms,
    pages_dashboards,
    pages_endpoint,
    pages_execution,
    pages_explore,
    pages_hosts,
    pages_jobs,
    pages_notifications,
    pages_overview,
    pages_schedules,
    pages_signin,
)
from vigil.server.ui.render import error_page
from vigil.server.ui.session import (
    CsrfRejectedError,
    ScopeRefusedError,
    SignInRequiredError,
    signin_url,
    viewer_of,
)

ROUTERS = (
    pages_signin.router,
    pages_overview.router,
    pages_endpoint.router,
    pages_execution.router,
    pages_schedules.router,
    pages_alarms.router,
    pages_notifications.router,
    pages_jobs.router,
    pages_hosts.router,
    pages_explore.router,
    pages_dashboards.router,
)


def install(app: FastAPI) -> None:
    """Mount the dashboard's pages on ``app`` (its assets are under ``/static/ui``)."""

    @app.exception_handler(SignInRequiredError)
    async def _signin(request: Request, exc: SignInRequiredError) -> RedirectResponse:
        return RedirectResponse(signin_url(exc.next_path), status_code=303)

    @app.exception_handler(CsrfRejectedError)
    async def _csrf(request: Request, exc: CsrfRejectedError) -> HTMLResponse:
        return error_page(request, viewer_of(request), 403,
                          f"Refused: {exc.message}. Reload the page and try again.")

    @app.exception_handler(ScopeRefusedError)
    async def _scope(request: Request, exc: ScopeRefusedError) -> HTMLResponse:
        return error_page(request, viewer_of(request), 403, f"Refused: {exc.message}.")

    for router in ROUTERS:
        app.include_router(router)
