"""A real PostgreSQL for the test session: Debian's binaries, a throwaway cluster, 127.0.0.1.

``postgres_url`` runs ``initdb`` into a temporary directory (as the ``postgres`` OS user when
the tests run as root, since PostgreSQL refuses to run as root), starts it with ``pg_ctl`` on
a free loopback port with its unix socket in that directory and durability switched off
(``fsync=off``: it is thrown away), creates the database ``vigil`` and yields its SQLAlchemy
URL. The cluster is stopped (``pg_ctl stop -m immediate``) and removed at the end of the
session, also when tests fail. ``make system-deps`` installs the binaries.

Use it from a test module with ``from pg_fixture import postgres_url  # noqa: F401``.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

log = logging.getLogger(__name__)

PG_USER = "postgres"
DATABASE = "vigil"


def _bindir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not found:
        pytest.fail(
            "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: run `make system-deps`"
            " (apt-get install postgresql)",
            pytrace=False,
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    """One throwaway cluster; :meth:`start` then :meth:`stop`."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.as_root = os.geteuid() == 0
        # /tmp rather than $TMPDIR: the postgres user must be able to reach it.
        self.root = Path(tempfile.mkdtemp(prefix="vigil-pg-", dir="/tmp" if self.as_root else None))
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self.port = _free_port()
        if self.as_root:
            user = pwd.getpwnam(PG_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [str(a) for a in args]
        if self.as_root:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            tail = self.logfile.read_text()[-3000:] if self.logfile.exists() else ""
            raise RuntimeError(
                f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{tail}"
            )

    def start(self) -> str:
        t0 = time.perf_counter()
        self._check(
            self._run(
                self.bindir / "initdb", "-D", self.data, "-U", PG_USER, "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
            ),
            "initdb",
        )  # fmt: skip
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-p {self.port}",
                f"-c unix_socket_directories={self.root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=100",
                "-c shared_buffers=64MB",
            ]
        )
        self._check(
            self._run(
                self.bindir / "pg_ctl", "start", "-D", self.data, "-l", self.logfile,
                "-w", "-t", "60", "-o", options,
            ),
            "pg_ctl start",
        )  # fmt: skip
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        log.info("PostgreSQL on 127.0.0.1:%d ready in %.2fs", self.port, time.perf_counter() - t0)
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(self.bindir / "pg_ctl", "stop", "-D", self.data, "-m", "immediate",
                          "-w", timeout=60)  # fmt: skip
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a fresh database on a throwaway PostgreSQL cluster."""
    cluster = PostgresCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()
