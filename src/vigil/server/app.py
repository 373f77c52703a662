"""The FastAPI application: ``create_app(settings)`` wires the store, auth and routes.

Every route under ``/api/v1`` needs a bearer token (``vigil token create``); ``/health``
does not. OpenAPI is served at ``/openapi.json``, rendered by Swagger UI at ``/docs`` and by
ReDoc at ``/redoc`` from scripts shipped in the package (``/static``): they work offline.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from vigil._version import __version__
from vigil.agent.selfcollect import SelfCollector
from vigil.app.bootstrap import open_database, worker_id
from vigil.app.execution_loop import ExecutionLoop
from vigil.app.pool import ExecutionPool
from vigil.app.scheduler import Scheduler
from vigil.capture.writer.group_commit import GroupCommitter
from vigil.monitor.runtime import Runtime
from vigil.server import errors, ui
from vigil.server.audit_middleware import AuditMiddleware
from vigil.server.ingest_fast import IngestFastPath
from vigil.server.limits import BodyLimitMiddleware
from vigil.server.routes_actions import router as actions_router
from vigil.server.routes_alarms import router as alarms_router
from vigil.server.routes_audit import router as audit_router
from vigil.server.routes_catalog import router as catalog_router
from vigil.server.routes_config import router as config_router
from vigil.server.routes_events import router as events_router
from vigil.server.routes_executions import router as executions_router
from vigil.server.routes_explanations import router as explanations_router
from vigil.server.routes_ingest import COMMITTER
from vigil.server.routes_ingest import router as ingest_router
from vigil.server.routes_jobs import router as jobs_router
from vigil.server.routes_metrics import router as metrics_router
from vigil.server.routes_mlflow import PREFIXES as MLFLOW_PREFIXES
from vigil.server.routes_mlflow import router as mlflow_router
from vigil.server.routes_prometheus import router as prometheus_router
from vigil.server.routes_tokens import router as tokens_router
from vigil.server.routes_topics import router as topics_router
from vigil.server.state import ServerState
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.settings import Settings

API_PREFIX = "/api/v1"
STATIC = Path(__file__).parent / "static"


class Health(BaseModel):
    """The server is up, and its version."""

    status: str
    version: str


def _docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc, every script and style served from /static."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Vigil API",
            swagger_js_url="/static/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui.css",
            swagger_favicon_url="/static/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False, response_class=HTMLResponse)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="Vigil API",
            redoc_js_url="/static/redoc.standalone.js",
            redoc_favicon_url="/static/favicon-32x32.png",
            with_google_fonts=False,
        )


def _self_collector(settings: Settings, metrics: MetricStore) -> SelfCollector | None:
    """The server's own host and process figures every ``self_metrics_interval`` (0: none)."""
    if settings.self_metrics_interval <= 0:
        return None
    own = SelfCollector(metrics, settings.self_metrics_interval, paths=[settings.data_dir])
    own.start()
    return own


def create_app(
    settings: Settings,
    db: Database | None = None,
    *,
    start_scheduler: bool = False,
    executions: bool = True,
    **extras: Any,
) -> FastAPI:
    """The server application for one installation; with ``start_scheduler`` the in-process
    scheduler runs while the app is up (recovering interrupted executions first), and the
    executions, scheduled (unless ``executions`` is false: an API-only server) and asked
    for (``POST /schedules/{name}/run``), run in ``settings.workers`` worker processes
    (:class:`~vigil.app.pool.ExecutionPool`; 0: in the scheduler's and the request's thread)."""
    db = db or open_database(settings)
    metrics = MetricStore(db)
    runtime = Runtime(settings=settings, db=db, metrics=metrics, owner=worker_id())
    committer = GroupCommitter()  # stores ingested captures, a group of requests at a time

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = None
        if start_scheduler and settings.workers > 0:
            pool = ExecutionPool(settings, db, runtime.owner, settings.workers)
            app.state.vigil.extras["pool"] = pool
        scheduler = (
            Scheduler(
                runtime,
                settings.scheduler_interval,
                executions=ExecutionLoop(runtime, pool),
                run_executions=executions,
            )
            if start_scheduler
            else None
        )
        if scheduler is not None:
            scheduler.start()
        own = _self_collector(settings, metrics) if start_scheduler else None
        try:
            yield
        finally:
            await committer.aclose()  # what is being stored is stored first
            if own is not None:
                own.stop()
            if scheduler is not None:
                scheduler.stop()
            if pool is not None:
                app.state.vigil.extras.pop("pool", None)
                pool.stop(settings.stop_grace)

    app = FastAPI(
        title="Vigil",
        version=__version__,
        lifespan=lifespan,
        description="Self-hosted model monitoring (SageMaker Model Monitor compatible).",
        docs_url=None,
        redoc_url=None,
    )
    app.state.vigil = ServerState(
        settings=settings,
        db=db,
        metrics=metrics,
        extras={"runtime": runtime, COMMITTER: committer, **extras},
    )
    errors.install(app)
    _docs(app)
    ui.install(app)  # the dashboard at /

    @app.get("/health", tags=["health"], response_model=Health)
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(catalog_router, prefix=API_PREFIX, tags=["catalog"])
    app.include_router(config_router, prefix=API_PREFIX, tags=["configuration"])
    app.include_router(explanations_router, prefix=API_PREFIX, tags=["executions"])
    app.include_router(executions_router, prefix=API_PREFIX, tags=["executions"])
    app.include_router(ingest_router, prefix=API_PREFIX, tags=["ingestion"])
    app.include_router(metrics_router, prefix=API_PREFIX, tags=["metrics"])
    app.include_router(alarms_router, prefix=API_PREFIX, tags=["alarms"])
    app.include_router(topics_router, prefix=API_PREFIX, tags=["notifications"])
    app.include_router(actions_router, prefix=API_PREFIX, tags=["actions"])
    app.include_router(tokens_router, prefix=API_PREFIX, tags=["tokens"])
    app.include_router(audit_router, prefix=API_PREFIX, tags=["audit"])
    app.include_router(prometheus_router, tags=["prometheus"])  # GET /metrics, at the root
    app.include_router(jobs_router, prefix=API_PREFIX, tags=["training jobs"])
    for mlflow_prefix in MLFLOW_PREFIXES:  # MLflow's tracking REST subset (not in OpenAPI)
        app.include_router(mlflow_router, prefix=mlflow_prefix)
    app.include_router(events_router, prefix=API_PREFIX, tags=["events"])
    # innermost: the hot path of ingestion, past the body limit and the audit middleware
    app.add_middleware(IngestFastPath, state=app.state.vigil)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AuditMiddleware, tokens=app.state.vigil.tokens)
    return app
