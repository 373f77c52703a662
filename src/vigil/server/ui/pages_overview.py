"""Dashboard pages: the overview (to be written)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from vigil.server.ui.render import page
from vigil.server.ui.session import Viewer, require_viewer

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, viewer: Viewer = Depends(require_viewer)) -> HTMLResponse:
    return page(request, viewer, "error.html", "Overview", message="to be written")
