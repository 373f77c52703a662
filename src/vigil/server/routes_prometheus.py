"""``GET /metrics``: Prometheus' text exposition of Vigil (needs a token with ``read``).

A Prometheus scrape config sends the token as ``authorization: {credentials: <secret>}`` (or
``bearer_token``); see README "Prometheus". Mounted at the root, beside ``/health``, not under
``/api/v1`` (where ``/api/v1/metrics`` is the metric store).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from vigil.app.prom_exporter import Exporter
from vigil.metrics.exposition import CONTENT_TYPE
from vigil.server.schemas_common import errors
from vigil.server.state import READ, ServerState, get_state

router = APIRouter(responses=errors(401, 403))
EXPORTER = "prometheus_exporter"  # the ServerState.extras key of the process's Exporter


def exporter_of(state: ServerState) -> Exporter:
    """The server's exporter, made on first use (it keeps the counters between scrapes)."""
    found = state.extras.get(EXPORTER)
    if found is None:
        found = state.extras.setdefault(EXPORTER, Exporter(state.db))
    return found


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    dependencies=[READ],
    responses={
        200: {"content": {CONTENT_TYPE: {}}, "description": "Text exposition 0.0.4"},
        # the errors are JSON, whatever the route's own media type
        **{status: {"description": why["description"], "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
           for status, why in errors(401, 403).items()},
    },
)
async def metrics(state: ServerState = Depends(get_state)) -> PlainTextResponse:
    """Vigil's own operation and the platform figures in the text exposition format."""
    body = await run_in_threadpool(exporter_of(state).render)
    return PlainTextResponse(body, media_type=CONTENT_TYPE)
