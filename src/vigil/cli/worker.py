"""``vigil worker``: run monitoring executions only (no API), beside servers on one database.

A worker claims due windows, runs them in its worker processes and reruns the executions
whose worker died, exactly as the executions of ``vigil server`` do: every server and worker
sharing one database (PostgreSQL) and one bucket runs each window once. SIGTERM or SIGINT
stops it gracefully: it claims nothing more, lets the running executions finish for
``--grace`` seconds, then hands back the claims of those left, which another worker reruns.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from vigil.app.bootstrap import open_database
from vigil.app.execution_loop import ExecutionLoop
from vigil.app.logging_setup import configure_logging
from vigil.app.pool import ExecutionPool
from vigil.app.scheduler import ErrorCounter
from vigil.cli.common import DataDirOpt, fail, line
from vigil.cli.local import missing_installation
from vigil.errors import VigilError
from vigil.monitor.runtime import Runtime
from vigil.store.metrics import MetricStore
from vigil.store.redaction import scrub_text
from vigil.store.settings import Settings

app = typer.Typer()
log = logging.getLogger(__name__)


def default_id() -> str:
    """A worker's lease owner by default: ``$VIGIL_WORKER_ID``, else ``<host>/worker`` (apart
    from the server's ``<host>`` on the same machine)."""
    return os.environ.get("VIGIL_WORKER_ID") or f"{socket.gethostname()}/worker"


@app.command()
def worker(
    data_dir: DataDirOpt = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="VIGIL_DATABASE_URL",
            help="The installation's database, e.g. postgresql+psycopg://vigil@db/vigil "
            "(default: the SQLite file in the data directory).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Worker processes running executions (default $VIGIL_WORKERS, else half "
            "the CPUs, 1 to 4; 0: one at a time in this process).",
            show_default=False,
        ),
    ] = None,
    worker_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="This worker's lease owner, unique per worker (default $VIGIL_WORKER_ID, "
            "else HOST/worker).",
            show_default=False,
        ),
    ] = None,
    interval: Annotated[
        float, typer.Option(help="Seconds between looks for due windows.", min=0.05)
    ] = 1.0,
    grace: Annotated[
        float | None,
        typer.Option(
            help="Seconds a stopping worker lets running executions finish before it hands "
            "their claims back (default $VIGIL_STOP_GRACE, else 30).",
            min=0,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run monitoring executions only (no API): claim due windows, run them, rerun
    interrupted ones."""
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.cli.remote import refuse_remote

    try:
        refuse_remote("worker", "it runs the executions of a local or shared database")
        settings = Settings.from_env(data_dir)
        if database_url is not None:
            settings.database_url = database_url.strip() or None
        if workers is not None:
            settings.workers = workers
        configure_logging(settings.log_format, settings.log_level)
    except VigilError as exc:
        raise fail(exc.message) from None
    why = missing_installation(settings, data_dir)
    if why is not None:
        raise fail(why)
    owner = (worker_id or default_id()).strip()
    if not owner:
        raise fail("--id: expected a non-empty worker id")
    try:
        db = open_database(settings)
    except VigilError as exc:
        raise fail(exc.message) from None
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        where = scrub_text(str(settings.database_url))
        raise fail(f"database {where}: cannot open it ({first})") from None
    rt = Runtime(settings=settings, db=db, metrics=MetricStore(db), owner=owner)
    pool = ExecutionPool(settings, db, owner, settings.workers) if settings.workers else None
    loop = ExecutionLoop(rt, pool, on_error=ErrorCounter(rt))
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    where = scrub_text(settings.database_url or str(Path(settings.data_dir) / "vigil.db"))
    line(f"vigil worker {owner}: {settings.workers or 'no'} worker processes (database: {where})")
    try:
        loop.start()
        while not stop.is_set():
            try:
                loop.step()
            except Exception:  # the database is away: the next round retries
                log.exception("a round of the worker failed")
            stop.wait(interval)
    finally:
        left = pool.stop(settings.stop_grace if grace is None else grace) if pool else []
        db.dispose()
    line(
        f"vigil worker {owner} stopped"
        + (f"; handed back {len(left)} unfinished execution(s)" if left else "")
    )
