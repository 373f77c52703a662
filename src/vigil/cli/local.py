"""The CLI on a local installation: opening its data directory without creating one by
accident, and answering as the REST API would.

:func:`open_local` opens the installation a command works on. Only the commands meant to make
one (``server``, ``demo``, ``db upgrade``, ``apply``, ``token create``, ``events put``, ``run``)
pass ``create=True``; every other command refuses (exit 2) a data directory that holds no
``vigil.db``, naming the path it looked at and how to choose another, and creates nothing.

:func:`api_answer` calls a route's own function of :mod:`vigil.server` over the local
installation and serializes its result through the route's response model as FastAPI does, so
that ``vigil X list --output json`` prints the same document locally as with ``--server``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigil.cli.common import fail
from vigil.cli.remote import Remote, refuse_remote, selected
from vigil.errors import NotFoundError, VigilError

if TYPE_CHECKING:
    from vigil.monitor.runtime import Runtime
    from vigil.server.state import ServerState
    from vigil.store.settings import Settings

DB_FILE = "vigil.db"


def _chosen_by(data_dir: str | Path | None) -> str:
    if data_dir:
        return "--data-dir"
    return "$VIGIL_DATA_DIR" if os.environ.get("VIGIL_DATA_DIR") else "the default"


def missing_installation(settings: Settings, data_dir: str | Path | None) -> str | None:
    """Why ``settings`` names no installation to open (``None``: there is one, or a database
    URL names it): the data directory is a file, or it holds no ``vigil.db``."""
    if settings.database_url:
        return None
    where = settings.data_dir
    if (where / DB_FILE).is_file():
        return None
    how = (
        "choose one with --data-dir or $VIGIL_DATA_DIR, or a server with --server or "
        "$VIGIL_SERVER"
    )
    for p in [where, *where.parents]:
        if p.exists() and not p.is_dir():
            return f"data directory {where}: not a directory ({p} is a file); {how}"
    return (
        f"no Vigil installation in data directory {where} ({_chosen_by(data_dir)}: "
        f"{where.resolve()} holds no {DB_FILE}); {how}; nothing was created"
    )


def open_local(
    data_dir: str | Path | None, *, command: str, create: bool = False
) -> Runtime:
    """The local installation ``command`` works on: refused (exit 2, one line) when a server
    was chosen, when it does not exist and ``create`` is false, or when it cannot be opened."""
    # lazy: the storage stack only for the commands that open a database
    from vigil.app.bootstrap import open_runtime
    from vigil.store.settings import Settings

    try:
        refuse_remote(command)
        settings = Settings.from_env(data_dir)
    except VigilError as exc:
        raise fail(exc.message) from None
    if not create:
        why = missing_installation(settings, data_dir)
        if why is not None:
            raise fail(why)
    try:
        return open_runtime(settings=settings)
    except VigilError as exc:
        raise fail(str(exc)) from None


def server_state(rt: Runtime) -> ServerState:
    """What a route's function reaches, over the local installation."""
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.server.state import ServerState

    return ServerState(rt.settings, rt.db, rt.metrics, extras={"runtime": rt})


def api_answer(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """``fn`` (a route's function) called with ``kwargs``, its result as the route's JSON."""
    # lazy: loaded only when this command runs (a light CLI start)
    from pydantic import TypeAdapter

    route = _route_of(fn)
    result = fn(**kwargs)
    model = getattr(route, "response_model", None)
    if model is None:
        # lazy: loaded only when this command runs (a light CLI start)
        from fastapi.encoders import jsonable_encoder

        return jsonable_encoder(result)
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    return adapter.dump_python(
        adapter.validate_python(result),
        mode="json",
        by_alias=True,
        exclude_none=bool(getattr(route, "response_model_exclude_none", False)),
    )


def _route_of(fn: Callable[..., Any]) -> Any:
    router = getattr(sys.modules[fn.__module__], "router", None)
    for route in getattr(router, "routes", []):
        if getattr(route, "endpoint", None) is fn:
            return route
    raise NotFoundError(f"{fn.__module__}.{fn.__name__} is not a route")  # pragma: no cover


def answer(
    command: str,
    data_dir: str | Path | None,
    remote: Callable[[Remote], Any],
    local: Callable[[ServerState], Any],
    *,
    create: bool = False,
) -> Any:
    """``remote(server)`` when ``--server`` (or ``$VIGIL_SERVER``) chose one, else
    ``local(state)`` over the local installation; any Vigil error as one line, exit 2."""
    try:
        server = selected()
        if server is not None:
            return remote(server)
        return local(server_state(open_local(data_dir, command=command, create=create)))
    except VigilError as exc:
        raise fail(exc.message) from None
