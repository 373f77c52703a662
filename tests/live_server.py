"""Live servers for tests, on 127.0.0.1 and ready once ``/health`` answers 200.

:class:`LiveServer` runs the real app (``create_app``) under uvicorn in a thread of the test
process, over one installation, with the tokens it is asked for; :func:`start_vigil_server`
starts a real ``vigil server`` process. :func:`free_port` gives a loopback port nothing
listens on (for a server, a receiver that is down, an SMTP server...).

Use it from a test module with ``from live_server import LiveServer, free_port``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx
import uvicorn

from vigil.app.bootstrap import open_database
from vigil.server.app import create_app
from vigil.server.auth import create_token
from vigil.store.db import Database
from vigil.store.settings import Settings

VIGIL = [sys.executable, "-m", "vigil.cli"]
#: The tokens most server tests use: name -> scopes.
ADMIN_WRITER_READER = {"admin": "admin", "writer": "write", "reader": "read"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment of the call."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_health(url: str, seconds: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Return once ``url``/health answers 200; fail after ``seconds`` or when not ``alive()``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert alive(), f"the server at {url} stopped before it answered /health"
        assert time.monotonic() < deadline, f"the server at {url} did not start in {seconds} s"
        time.sleep(0.05)


class Hook(BaseHTTPRequestHandler):
    """A loopback webhook receiver's handler: every POSTed JSON body with its arrival time in
    :attr:`received` (reset it before a test; serve it with ``ThreadingHTTPServer``)."""

    received: list[tuple[float, dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((time.time(), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class LiveServer:
    """A real uvicorn server in a thread on 127.0.0.1 over ``settings``.

    ``tokens`` (name -> scopes) are created in the database first; :attr:`tokens` holds their
    secrets by name. ``db`` shares an open database (another server's view of it); by default
    the server opens its own. ``start_scheduler`` runs the server's own loop, as ``vigil
    server`` does. :attr:`url` is the server's root (``/health``, ``/openapi.json``);
    :meth:`client` talks to ``/api/v1``. Stop it with :meth:`stop` or use it as a context
    manager.
    """

    def __init__(
        self,
        settings: Settings,
        tokens: Mapping[str, str] | None = None,
        *,
        db: Database | None = None,
        start_scheduler: bool = False,
        log_level: str = "warning",
        start_seconds: float = 10,
    ) -> None:
        self.settings = settings
        self.db = db or open_database(settings)
        self.tokens = {
            name: create_token(self.db, name, scopes) for name, scopes in (tokens or {}).items()
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, self.db, start_scheduler=start_scheduler)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level=log_level)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        try:
            wait_for_health(self.url, start_seconds, self.thread.is_alive)
        except BaseException:
            self.stop()
            raise

    def client(self, token: str | None) -> httpx.Client:
        """A client of ``/api/v1`` sending ``token``: a name of :attr:`tokens` or a bearer
        secret as it is; ``None`` sends no ``Authorization`` header."""
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=30)

    def stop(self) -> None:
        """Ask uvicorn to exit and wait (up to 10 s) for its thread."""
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def start_vigil_server(
    data_dir: Path,
    port: int,
    env: Mapping[str, str],
    *,
    stderr: int | IO[bytes] = subprocess.DEVNULL,
    start_seconds: float = 30,
) -> subprocess.Popen[bytes]:
    """Start ``vigil server --port PORT --data-dir DATA_DIR`` with the environment ``env``
    (a whole environment, e.g. ``{**os.environ, ...}``; stdout discarded, stderr to
    ``stderr``) and return the process once ``/health`` answers 200. A process that exits or
    does not answer in ``start_seconds`` is killed and the test fails."""
    proc = subprocess.Popen(
        [*VIGIL, "server", "--port", str(port), "--data-dir", str(data_dir)],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}", start_seconds, lambda: proc.poll() is None)
    except AssertionError as error:
        proc.kill()
        proc.wait(10)
        raise AssertionError(f"{error}\n{_said(proc, stderr)}") from None
    except BaseException:
        proc.kill()
        proc.wait(10)
        raise
    return proc


def _said(proc: subprocess.Popen[bytes], stderr: int | IO[bytes]) -> str:
    """The end of what a server that did not start wrote on stderr, where it can be read."""
    if proc.stderr is not None:
        return proc.stderr.read().decode(errors="replace")[-4000:]
    name = getattr(stderr, "name", None)
    if isinstance(name, str) and Path(name).is_file():
        return Path(name).read_text(errors="replace")[-4000:]
    return "(its stderr was not kept)"
