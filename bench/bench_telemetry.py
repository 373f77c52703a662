"""Added cost per request of Vigil's serving telemetry against prometheus_client's.

The same tiny ASGI app (it answers ``200`` with a 3-byte body) is called in-process with a fake
``scope``/``receive``/``send`` (no network, no server), each call timed alone with
``time.perf_counter_ns``, under these wrappers:

- none (the bare app: the baseline every "added" figure subtracts);
- :class:`~vigil.capture.TelemetryMiddleware` (counting into the per-minute aggregate; its
  publishing thread runs, sink discarding);
- the peer: ``prometheus_client``'s ``Histogram`` (OpenTelemetry's buckets) + ``Counter``
  with ``endpoint``/``variant`` (and ``code_class``) labels, timed around the app, the way
  Python servers are usually instrumented (prometheus-fastapi-instrumentator, starlette
  exporters);
- :class:`~vigil.capture.CaptureMiddleware` without and with ``telemetry=``: what telemetry
  adds to a capturing service;
- the WSGI twins: a bare WSGI app against :class:`~vigil.capture.WSGITelemetryMiddleware`.

Variants run interleaved in rounds so that a slow spell of the machine hits all of them. The
"added" columns are the variant's median (p99) minus the bare app's median (p99).

Reproduce: ``.venv/bin/python bench/bench_telemetry.py`` (writes section "telemetry" of
bench/RESULTS.md; ``--calls N`` per variant, ``--no-write`` to only print).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from importlib.metadata import version  # noqa: E402

from prometheus_client import CollectorRegistry, Counter, Histogram  # noqa: E402

import vigil  # noqa: E402
from results import write_section  # noqa: E402
from vigil.capture import (  # noqa: E402
    CaptureMiddleware,
    CaptureWriter,
    ServingTelemetry,
    TelemetryMiddleware,
    WSGITelemetryMiddleware,
)
from vigil.metrics.serving import PROMETHEUS_BUCKETS  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_telemetry.py"
ROUNDS = 20
SCOPE = {"type": "http", "method": "POST", "path": "/invocations",
         "headers": [(b"content-type", b"text/csv")]}  # fmt: skip
START = {"type": "http.response.start", "status": 200,
         "headers": [(b"content-type", b"text/csv")]}  # fmt: skip
BODY = {"type": "http.response.body", "body": b"0.5"}


async def model(scope: Any, receive: Any, send: Any) -> None:
    """The tiny app: read the request, answer one value."""
    await receive()
    await send(START)
    await send(BODY)


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"1.0,2.0,3.0"}


async def send(message: Any) -> None:
    return None


class PrometheusMiddleware:
    """The peer: prometheus_client instrumentation of the same app (histogram + counters)."""

    def __init__(self, app: Any, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter("model_invocations", "requests", ["endpoint", "variant"],
                                registry=registry)  # fmt: skip
        self.errors = Counter("model_invocation_errors", "errors",
                              ["endpoint", "variant", "code_class"], registry=registry)
        self.latency = Histogram("model_latency_seconds", "latency", ["endpoint", "variant"],
                                 buckets=PROMETHEUS_BUCKETS, registry=registry)  # fmt: skip

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        status = [500]

        async def send_status(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            self.latency.labels("churn", "AllTraffic").observe(time.perf_counter() - start)
            self.requests.labels("churn", "AllTraffic").inc()
            if status[0] >= 400:
                code = "5xx" if status[0] >= 500 else "4xx"
                self.errors.labels("churn", "AllTraffic", code).inc()


async def time_asgi(app: Any, n: int) -> list[int]:
    timer = time.perf_counter_ns
    out = [0] * n
    for i in range(n):
        t0 = timer()
        await app(SCOPE, receive, send)
        out[i] = timer() - t0
    return out


def wsgi_model(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/csv")])
    return [b"0.5"]


def time_wsgi(app: Any, n: int) -> list[int]:
    timer = time.perf_counter_ns
    environ = {"PATH_INFO": "/invocations", "REQUEST_METHOD": "POST"}
    out = [0] * n

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return None

    for i in range(n):
        t0 = timer()
        body = app(environ, start_response)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
        out[i] = timer() - t0
    return out


def pct(ns: list[int], q: float) -> float:
    ordered = sorted(ns)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls per variant")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    per_round = max(1, args.calls // ROUNDS)
    with tempfile.TemporaryDirectory() as tmp:
        telemetry = ServingTelemetry("churn", sink=lambda data: None)
        telemetry_c = ServingTelemetry("churn-c", sink=lambda data: None)
        telemetry_w = ServingTelemetry("churn-w", sink=lambda data: None)
        writer = CaptureWriter("churn", destination=Path(tmp) / "a")
        writer_t = CaptureWriter("churn", destination=Path(tmp) / "b")
        asgi = {
            "bare": model,
            "telemetry": TelemetryMiddleware(model, telemetry),
            "prometheus": PrometheusMiddleware(model, CollectorRegistry()),
            "capture": CaptureMiddleware(model, writer),
            "capture+telemetry": CaptureMiddleware(model, writer_t, telemetry=telemetry_c),
        }
        wsgi = {"wsgi bare": wsgi_model,
                "wsgi telemetry": WSGITelemetryMiddleware(wsgi_model, telemetry_w)}
        times: dict[str, list[int]] = {k: [] for k in [*asgi, *wsgi]}

        async def asgi_rounds() -> None:
            for app in asgi.values():  # warm-up
                await time_asgi(app, 2000)
            for _ in range(ROUNDS):
                for name, app in asgi.items():
                    times[name] += await time_asgi(app, per_round)

        asyncio.run(asgi_rounds())
        for _ in range(ROUNDS):
            for name, app in wsgi.items():
                times[name] += time_wsgi(app, per_round)
        counted = telemetry.stats.requests
        for t in (telemetry, telemetry_c, telemetry_w):
            t.close()
        writer.close()
        writer_t.close()
    med = {k: pct(v, 0.5) for k, v in times.items()}
    p99 = {k: pct(v, 0.99) for k, v in times.items()}
    rows = [
        ("bare ASGI app (baseline)", "bare", None),
        ("**Vigil `TelemetryMiddleware`**", "telemetry", "bare"),
        (f"peer: prometheus_client {version('prometheus-client')} Histogram + Counters",
         "prometheus", "bare"),
        ("`CaptureMiddleware` (capture only)", "capture", "bare"),
        ("`CaptureMiddleware` + `telemetry=`", "capture+telemetry", "bare"),
        ("  of which telemetry (vs capture only)", "capture+telemetry", "capture"),
        ("bare WSGI app (baseline)", "wsgi bare", None),
        ("**Vigil `WSGITelemetryMiddleware`**", "wsgi telemetry", "wsgi bare"),
    ]
    n = per_round * ROUNDS
    lines = [
        "## Serving telemetry: added cost per request (issue 11, item 3)",
        "",
        f"- CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        f"(load average {os.getloadavg()[0]:.2f} at the end); OS: {platform.platform()}",
        f"- date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; vigil "
        f"{vigil.__version__}, Python {platform.python_version()}",
        f"- {n:,} calls per variant in {ROUNDS} interleaved rounds, each call timed alone with "
        "`time.perf_counter_ns`; the ASGI app is called in-process with a fake scope (no "
        "network); Vigil's publishing threads run (sink discarding).",
        "",
        "Reproduce (from the repository root):",
        "",
        "```sh",
        COMMAND,
        "```",
        "",
        "| variant | median | p99 | added median | added p99 |",
        "|---|--:|--:|--:|--:|",
    ]
    for label, name, base in rows:
        added = (f"{med[name] - med[base]:+.2f} µs", f"{p99[name] - p99[base]:+.2f} µs") \
            if base else ("-", "-")
        lines.append(f"| {label} | {med[name]:.2f} µs | {p99[name]:.2f} µs | {added[0]} | "
                     f"{added[1]} |")
    lines += [
        "",
        f"Aim (issue 11): the telemetry middleware's added median cost under 20 µs, within the "
        f"capture call's budget (capture's aim: median <= 20 µs). The Vigil middleware counted "
        f"{counted:,} requests; per request it reads the timer four times, wraps `send` to "
        "see the status, and makes one lock-protected update of the minute's counts "
        "(latencies quantised to 8 significant bits); publishing (statistic sets, once a "
        "minute) happens in its own thread. The peer does a `labels(...)` lookup and a locked "
        "update per metric (histogram and counter) on every request.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("telemetry", text)


if __name__ == "__main__":
    main()
