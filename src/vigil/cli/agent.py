"""``vigil agent``: collect this host's resources every interval and push them to the server."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from vigil.agent.collect import Collector
from vigil.agent.loop import Agent
from vigil.agent.push import Pusher, server_root
from vigil.agent.spool import DEFAULT_MAX_BYTES, Spool
from vigil.cli.common import OutputFormat, OutputOpt, emit_json, fail, line
from vigil.errors import VigilError
from vigil.resources.selectors import ProcessSelector

app = typer.Typer()


def _selectors(values: list[str]) -> list[ProcessSelector]:
    try:
        return [ProcessSelector.parse(v) for v in values]
    except VigilError as exc:
        raise fail(f"--process: {exc.message}") from None


def _log_to_stderr(level: str) -> None:
    """Log lines on stderr (the agent stays off the server's logging stack and its imports)."""
    number = logging.getLevelName(level.strip().upper())
    if not isinstance(number, int):
        raise fail(f"--log-level {level!r}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
    logging.basicConfig(
        level=number, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request


@app.command()
def agent(
    server: Annotated[
        str | None,
        typer.Option(
            envvar="VIGIL_SERVER",
            help="The Vigil server's URL, e.g. http://vigil:8080 (default: vigil --server).",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="VIGIL_TOKEN", help="An API token with the ingest scope."),
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between collections.", min=0.05)] = 10.0,
    process: Annotated[
        list[str] | None,
        typer.Option(
            "--process",
            help="[LABEL=]NAME, pid:N, pidfile:PATH or cmdline:REGEX: a process to report "
            "(repeatable).",
        ),
    ] = None,
    children: Annotated[
        bool, typer.Option("--children/--no-children", help="Count the processes' children too.")
    ] = False,
    mount: Annotated[
        list[str] | None,
        typer.Option(
            "--mount", help="A mount point whose disk use to report (repeatable; default /)."
        ),
    ] = None,
    spool: Annotated[
        Path,
        typer.Option(
            envvar="VIGIL_AGENT_SPOOL", help="Directory keeping batches while the server is away."
        ),
    ] = Path("vigil-agent-spool"),
    spool_max_mb: Annotated[
        float,
        typer.Option(help="Cap of the spool; past it the oldest batches are dropped.", min=0.001),
    ] = DEFAULT_MAX_BYTES / (1 << 20),
    host: Annotated[
        str | None, typer.Option(help="The Host dimension (default: this host's name).")
    ] = None,
    gpu: Annotated[bool, typer.Option("--gpu/--no-gpu", help="Collect GPU figures (NVML).")] = True,
    once: Annotated[
        bool, typer.Option("--once", help="Collect once (over a second at most), push, exit.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds a push may take.", min=0.1)] = 10.0,
    log_level: Annotated[str, typer.Option(envvar="VIGIL_LOG_LEVEL", help="Log level.")] = "INFO",
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Collect this host's CPU, memory, disk, network, GPU and named processes' figures every
    interval and push them to the server, spooling to disk while it is unreachable."""
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.cli.remote import chosen

    given = chosen()  # ``vigil --server URL --token T agent``
    server = server or (given.url if given else None)
    token = token or (given.token if given else None) or ""
    if not server:
        raise fail("--server: expected the Vigil server's URL (or $VIGIL_SERVER)")
    try:
        _log_to_stderr(log_level)
        server_root(server)
        selectors = _selectors(process or [])
        pusher = Pusher(server, token, timeout=timeout)
        collector = Collector(
            host, mounts=mount or ["/"], processes=selectors, include_children=children, gpu=gpu
        )
        queue = Spool(spool, max_bytes=int(spool_max_mb * (1 << 20)))
    except VigilError as exc:
        raise fail(exc.message) from None
    worker = Agent(collector.collect, pusher.send, queue, interval)  # interval checked by typer
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        if once:
            worker.flush()
            time.sleep(min(interval, 1.0))  # CPU and network are rates over this span
            worker.cycle()
            worker.flush()
        else:
            line(f"vigil agent: {collector.host} -> {pusher.url} every {interval:g} s "
                 f"(spool: {queue.directory})", stderr=True)  # fmt: skip
            worker.run(stop)
            worker.flush(timeout)  # a last try with what is left
    finally:
        collector.close()
        pusher.close()
        queue.close()
    summary = worker.tally.as_dict(queue)
    if output is OutputFormat.json:
        emit_json(summary)
    else:
        line(" ".join(f"{k}={v}" for k, v in summary.items()))
