"""Bootstrap of a running Vigil: its settings, its database at the schema it needs, its worker id.

Every face (the server, the CLI, the demo) opens an installation through here, so that they
agree on where the state lives and on who this worker is.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from vigil.monitor.runtime import Runtime
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.secrets import SecretBox, attach
from vigil.store.settings import Settings


def connect_database(settings: Settings) -> Database:
    """The installation's database (``settings.database_url``, else SQLite under the data
    directory) as it is, its schema unchecked (``vigil db`` migrates it), its secrets sealed
    with ``settings.secret_key`` (from ``$VIGIL_SECRET_KEY``) or else ``{data_dir}/secret.key``."""
    db = (
        Database(settings.database_url)
        if settings.database_url
        else Database.from_env(settings.data_dir, environ={})
    )
    environ = {"VIGIL_SECRET_KEY": settings.secret_key} if settings.secret_key else None
    attach(db, SecretBox.for_data_dir(settings.data_dir, environ))
    return db


def open_database(settings: Settings) -> Database:
    """The installation's database, ready for this Vigil: created at the newest schema revision
    when empty; a database at an older revision (or written before migrations) raises
    :class:`~vigil.store.errors.SchemaOutdatedError` saying to run ``vigil db upgrade``, one at a
    revision this Vigil does not know :class:`~vigil.store.errors.SchemaTooNewError`."""
    db = connect_database(settings)
    try:
        db.ensure_schema()
    except BaseException:
        db.dispose()
        raise
    return db


def worker_id() -> str:
    """This worker's id as a lease owner: the host name, or ``$VIGIL_WORKER_ID`` (set it when
    several servers run on one host). A restarted server reclaims, fails and reruns the
    executions its previous life left ``InProgress``."""
    return os.environ.get("VIGIL_WORKER_ID") or socket.gethostname()


def open_runtime(data_dir: str | Path | None = None, settings: Settings | None = None) -> Runtime:
    """Settings (from ``data_dir`` and the environment), database, metric store and worker id
    of one installation, as the monitoring jobs need them."""
    settings = settings or Settings.from_env(data_dir)
    db = open_database(settings)
    return Runtime(settings=settings, db=db, metrics=MetricStore(db), owner=worker_id())
