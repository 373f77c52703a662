"""Serving telemetry through the middlewares: FastAPI (ASGI, httpx's in-process transport) and
Flask (WSGI, werkzeug's client), telemetry-only and with capture, into the real metric store;
latency percentiles against NumPy's nearest rank of the latencies the model took."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import numpy as np
import pytest

from telemetry_apps import ModelTimer, Wall, fastapi_model, flask_model
from vigil.capture import (
    CaptureMiddleware,
    CaptureWriter,
    ServingTelemetry,
    TelemetryMiddleware,
    WSGICaptureMiddleware,
    WSGITelemetryMiddleware,
    store_sink,
)
from vigil.errors import ConfigError
from vigil.store import Database, MetricStore

UTC = timezone.utc
T0 = 1_714_557_600  # a minute boundary
NS = "AWS/SageMaker"
DIMS = {"EndpointName": "churn", "VariantName": "AllTraffic"}
BOUND = 2.0**-8


@pytest.fixture
def store() -> MetricStore:
    db = Database("sqlite://")
    db.create_all()
    return MetricStore(db)


def plan(seed: int, n: int) -> list[tuple[int, str]]:
    """(latency ns, status) per request: lognormal latencies, some 4xx, 5xx and exceptions."""
    rng = np.random.default_rng(seed)
    latencies = (rng.lognormal(np.log(3e6), 0.6, size=n)).astype(np.int64) + 1
    statuses = rng.choice(["200", "200", "200", "200", "400", "503", "raise"], size=n)
    return list(zip(latencies.tolist(), statuses.tolist()))


def query(store: MetricStore, name: str, stats: list[str], minutes: int = 2) -> list[dict]:
    start = datetime.fromtimestamp(T0, UTC)
    return store.query(NS, name, DIMS, start, start + timedelta(minutes=minutes), 60, stats)


def check_store(store: MetricStore, requests: dict[int, list[tuple[int, str]]]) -> None:
    """Every published figure against the requests sent, minute by minute."""
    stats = ["SampleCount", "Average", "Minimum", "Maximum", "p50", "p90", "p99"]
    latency = query(store, "ModelLatency", stats)
    overhead = query(store, "OverheadLatency", ["SampleCount", "Minimum"])
    invocations = query(store, "Invocations", ["Sum", "SampleCount"])
    four = query(store, "Invocation4XXErrors", ["Sum", "Average"])
    five = query(store, "Invocation5XXErrors", ["Sum", "Average"])
    assert len(latency) == len(requests)
    for minute, sent in requests.items():
        n = len(sent)
        values = np.array([ns for ns, _ in sent], dtype=np.float64) / 1000
        row = latency[minute]
        assert row["SampleCount"] == n and row["Unit"] == "Microseconds"
        want = {"Average": values.mean(), "Minimum": values.min(), "Maximum": values.max(),
                **{f"p{p}": np.percentile(values, p, method="inverted_cdf") for p in (50, 90, 99)}}
        for stat, value in want.items():
            assert abs(row[stat] - value) <= value * BOUND + 1e-9, (minute, stat)
        assert overhead[minute]["SampleCount"] == n and overhead[minute]["Minimum"] >= 0
        assert invocations[minute]["Sum"] == invocations[minute]["SampleCount"] == n
        n4 = sum(s == "400" for _, s in sent)
        n5 = sum(s in ("503", "raise") for _, s in sent)
        assert (four[minute]["Sum"], five[minute]["Sum"]) == (n4, n5)
        assert five[minute]["Average"] == pytest.approx(n5 / n)
        assert four[minute]["Average"] == pytest.approx(n4 / n)


async def drive_asgi(app: object, wall: Wall, requests: dict[int, list[tuple[int, str]]]) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://model") as client:
        for minute, sent in requests.items():
            for i, (ns, status) in enumerate(sent):
                wall.now = T0 + 60 * minute + 50 * i / len(sent)
                r = await client.post("/invocations", content=b"1,2,3",
                                      headers={"X-Latency-Ns": str(ns), "X-Status": status})
                assert r.status_code == (500 if status == "raise" else int(status))
            assert (await client.get("/ping")).status_code == 200  # not an invocation


@pytest.mark.parametrize("with_capture", [False, True])
def test_asgi_figures_match_the_requests(
    store: MetricStore, tmp_path: Path, with_capture: bool
) -> None:
    timer, wall = ModelTimer(), Wall(T0)
    telemetry = ServingTelemetry("churn", sink=store_sink(store), clock=wall)
    model = fastapi_model(timer)
    writer = CaptureWriter("churn", destination=tmp_path / "capture", clock=wall)
    app = (CaptureMiddleware(model, writer, telemetry=telemetry, timer=timer) if with_capture
           else TelemetryMiddleware(model, telemetry, timer=timer))  # fmt: skip
    requests = {0: plan(1, 240), 1: plan(2, 90)}
    asyncio.run(drive_asgi(app, wall, requests))
    telemetry.close()
    writer.close()
    check_store(store, requests)
    assert telemetry.stats.pending == 0 and telemetry.stats.requests == 330
    files = list((tmp_path / "capture").rglob("*.jsonl"))
    if with_capture:  # captured as before: the 2xx answers only
        lines = sum(len(p.read_text().splitlines()) for p in files)
        assert lines == sum(s == "200" for sent in requests.values() for _, s in sent)
    else:
        assert files == []


@pytest.mark.parametrize("with_capture", [False, True])
def test_wsgi_figures_match_the_requests(
    store: MetricStore, tmp_path: Path, with_capture: bool
) -> None:
    timer, wall = ModelTimer(), Wall(T0)
    telemetry = ServingTelemetry("churn", sink=store_sink(store), clock=wall)
    flask_app = flask_model(timer)
    writer = CaptureWriter("churn", destination=tmp_path / "capture", clock=wall)
    flask_app.wsgi_app = (  # type: ignore[method-assign]
        WSGICaptureMiddleware(flask_app.wsgi_app, writer, telemetry=telemetry, timer=timer)
        if with_capture
        else WSGITelemetryMiddleware(flask_app.wsgi_app, telemetry, timer=timer)
    )
    requests = {0: plan(3, 200), 1: plan(4, 60)}
    client = flask_app.test_client()
    for minute, sent in requests.items():
        for i, (ns, status) in enumerate(sent):
            wall.now = T0 + 60 * minute + 50 * i / len(sent)
            r = client.post("/invocations", data=b"1,2,3", buffered=True,
                            headers={"X-Latency-Ns": str(ns), "X-Status": status})
            assert r.status_code == (500 if status == "raise" else int(status))
        assert client.get("/ping", buffered=True).status_code == 200
    telemetry.close()
    writer.close()
    check_store(store, requests)


def test_wsgi_exceptions_and_early_close_count_once(store: MetricStore) -> None:
    wall = Wall(T0)
    telemetry = ServingTelemetry("churn", sink=store_sink(store), clock=wall)

    def raises_at_call(environ: dict, start_response: object) -> list[bytes]:
        raise ValueError("before any answer")

    def raises_while_streaming(environ: dict, start_response: object):  # type: ignore[no-untyped-def]
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        yield b"part"
        raise ValueError("mid-stream")

    def streams(environ: dict, start_response: object):  # type: ignore[no-untyped-def]
        start_response("404 Not Found", [])  # type: ignore[operator]
        yield b"a"
        yield b"b"

    environ = {"PATH_INFO": "/invocations", "REQUEST_METHOD": "POST"}
    for app in (raises_at_call, raises_while_streaming):
        wrapped = WSGITelemetryMiddleware(app, telemetry)
        with pytest.raises(ValueError):
            body = wrapped(dict(environ), lambda *a: None)
            list(body)
    body = WSGITelemetryMiddleware(streams, telemetry)(dict(environ), lambda *a: None)
    assert next(iter(body)) == b"a"
    body.close()  # type: ignore[attr-defined]  # the client went away: counted at close
    body.close()  # type: ignore[attr-defined]  # once
    telemetry.close()
    inv = query(store, "Invocations", ["Sum"], 1)[0]
    four = query(store, "Invocation4XXErrors", ["Sum"], 1)[0]
    five = query(store, "Invocation5XXErrors", ["Sum"], 1)[0]
    assert (inv["Sum"], four["Sum"], five["Sum"]) == (3, 1, 2)


def test_routes_and_non_http_scopes(store: MetricStore) -> None:
    wall = Wall(T0)
    telemetry = ServingTelemetry("churn", sink=store_sink(store), clock=wall)

    async def app(scope: dict, receive: object, send: object) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204})  # type: ignore[operator]
            await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    async def run(wrapped: object, paths: list[str]) -> None:
        async def receive() -> dict:
            return {"type": "http.request", "body": b""}

        async def send(message: dict) -> None:
            pass

        await wrapped({"type": "lifespan"}, receive, send)  # type: ignore[operator]
        for path in paths:
            await wrapped({"type": "http", "path": path}, receive, send)  # type: ignore[operator]

    paths = ["/predict/a", "/predict/b", "/ping", "/invocations"]
    asyncio.run(run(TelemetryMiddleware(app, telemetry, routes=["/predict/*"]), paths))
    asyncio.run(run(TelemetryMiddleware(app, telemetry, routes=None), paths))
    telemetry.close()
    assert query(store, "Invocations", ["Sum"], 1)[0]["Sum"] == 2 + 4


def test_real_timer_gives_overhead_with_capture(store: MetricStore, tmp_path: Path) -> None:
    telemetry = ServingTelemetry("churn", sink=store_sink(store))
    writer = CaptureWriter("churn", destination=tmp_path / "capture")
    app = CaptureMiddleware(fastapi_model(ModelTimer()), writer, telemetry=telemetry)
    asyncio.run(drive_asgi(app, Wall(T0), {0: [(1000, "200")] * 20}))
    telemetry.close()
    writer.close()
    now = datetime.now(UTC)
    rows = store.query(NS, "OverheadLatency", DIMS, now - timedelta(minutes=5),
                       now + timedelta(minutes=1), 600, ["SampleCount", "Minimum"])
    assert sum(r["SampleCount"] for r in rows) == 20
    assert min(r["Minimum"] for r in rows) > 0  # the capture call's own time is in it


def test_bad_configuration() -> None:
    with pytest.raises(ConfigError, match="telemetry: expected a ServingTelemetry"):
        TelemetryMiddleware(lambda *a: None, object())  # type: ignore[arg-type]
    telemetry = ServingTelemetry("e", sink=lambda data: None)
    with pytest.raises(ConfigError, match="routes: expected a list of paths"):
        WSGITelemetryMiddleware(lambda *a: [], telemetry, routes="/invocations")
    telemetry.close()
    with pytest.raises(ConfigError, match="flush_interval"):
        ServingTelemetry("e", sink=lambda data: None, flush_interval=0)
    with pytest.raises(ConfigError, match="sink: expected a callable"):
        ServingTelemetry("e", sink=None)  # type: ignore[arg-type]
