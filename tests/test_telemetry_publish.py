"""Publishing serving telemetry: over HTTP to a real Vigil server (uvicorn on 127.0.0.1) with an
ingest token, kept and retried while the server is down, refused batches dropped and counted,
and the Prometheus text of the live figures read by prometheus_client's own parser."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from live_server import LiveServer, free_port, wait_for_health
from telemetry_apps import Wall
from vigil.app.bootstrap import open_database
from vigil.capture import HttpSink, ServingTelemetry, TelemetryStats
from vigil.capture.errors import TelemetrySendError
from vigil.errors import ConfigError
from vigil.metrics.datum import MetricDatum
from vigil.server.app import create_app
from vigil.server.auth import create_token
from vigil.store.settings import Settings

UTC = timezone.utc
T0 = 1_714_557_600


def wait_until(condition: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the telemetry thread did not publish in time"
        time.sleep(0.02)


def api_stats(srv: LiveServer, name: str, stats: list[str]) -> list[dict]:
    params: list[tuple[str, str | int]] = [
        ("namespace", "AWS/SageMaker"), ("name", name), ("period", 60),
        ("start", datetime.fromtimestamp(T0, UTC).isoformat()),
        ("end", datetime.fromtimestamp(T0 + 600, UTC).isoformat()),
        ("dimension", "EndpointName:churn"), ("dimension", "VariantName:AllTraffic"),
    ] + [("statistic", s) for s in stats]  # fmt: skip
    with srv.client("reader") as c:
        r = c.get("/metrics/query", params=params)
    assert r.status_code == 200, r.text
    return r.json()["datapoints"]


def test_the_thread_publishes_finished_minutes_to_a_server(tmp_path: Path) -> None:
    with LiveServer(Settings(data_dir=tmp_path / "data"),
                    {"ingest": "ingest", "reader": "read"}) as srv:  # fmt: skip
        wall = Wall(T0 + 3)
        sink = HttpSink(srv.url, srv.tokens["ingest"])
        telemetry = ServingTelemetry("churn", sink=sink, clock=wall, flush_interval=0.05)
        latencies = np.random.default_rng(8).lognormal(np.log(2e6), 1.0, 3000).astype(int) + 1
        for i, ns in enumerate(latencies.tolist()):
            telemetry.record(ns, 20_000, 500 if i % 10 == 0 else 200)
        wall.now = T0 + 60  # the minute is over: the thread sends it on its next wake-up
        wait_until(lambda: telemetry.stats.published > 0)
        assert telemetry.stats.pending == 0
        row = api_stats(srv, "ModelLatency", ["SampleCount", "p50", "p90", "p99"])[0]
        assert row["SampleCount"] == 3000 and row["Unit"] == "Microseconds"
        values = latencies / 1000
        for p in (50, 90, 99):
            want = np.percentile(values, p, method="inverted_cdf")
            assert abs(row[f"p{p}"] - want) <= want / 256 + 1e-9
        five = api_stats(srv, "Invocation5XXErrors", ["Average", "Sum"])[0]
        assert (five["Average"], five["Sum"]) == (pytest.approx(0.1), 300)
        telemetry.close()
        sink.close()


def _serve_on(port: int, settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    db = open_database(settings)
    token = create_token(db, f"ingest-{port}", "ingest")
    server = uvicorn.Server(uvicorn.Config(create_app(settings, db), host="127.0.0.1",
                                           port=port, log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_health(f"http://127.0.0.1:{port}", 10, thread.is_alive)
    return server, thread, token


def test_minutes_are_kept_while_the_server_is_down_and_sent_when_it_is_back(
    tmp_path: Path,
) -> None:
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings)
    token = create_token(db, "ingest", "ingest")
    wall = Wall(T0 + 1)
    sink = HttpSink(f"http://127.0.0.1:{port}", token, timeout=2)
    telemetry = ServingTelemetry("churn", sink=sink, clock=wall)
    for minute in range(3):
        wall.now = T0 + 60 * minute + 1
        for _ in range(10 * (minute + 1)):
            telemetry.record(1_000_000, 10_000, 200)
    wall.now = T0 + 181
    assert telemetry.flush() is False  # nothing listens yet
    down = telemetry.stats
    assert down.pending > 0 and down.failed_sends >= 1 and down.published == 0
    assert "POST http://127.0.0.1" in (down.last_error or "")
    server, thread, _ = _serve_on(port, settings)
    try:
        assert telemetry.flush() is True
        telemetry.close()
        from vigil.store import MetricStore  # lazy: only this check reads the store itself

        rows = MetricStore(db).query(
            "AWS/SageMaker", "Invocations", {"EndpointName": "churn", "VariantName": "AllTraffic"},
            datetime.fromtimestamp(T0, UTC), datetime.fromtimestamp(T0 + 600, UTC), 60, ["Sum"])
        assert [r["Sum"] for r in rows] == [10, 20, 30]
        assert telemetry.stats.pending == 0 and telemetry.stats.dropped == 0
    finally:
        server.should_exit = True
        thread.join(10)
        sink.close()


def test_a_refused_token_drops_the_batch_and_says_why(tmp_path: Path) -> None:
    with LiveServer(Settings(data_dir=tmp_path / "data"), {"reader": "read"}) as srv:
        sink = HttpSink(srv.url, srv.tokens["reader"])
        telemetry = ServingTelemetry("churn", sink=sink, clock=Wall(T0))
        telemetry.record(1_000, 1_000, 200)
        telemetry.close()
        stats = telemetry.stats
        assert (stats.pending, stats.published, stats.dropped) == (0, 0, 5)
        assert "HTTP 403" in (stats.last_error or "")
        sink.close()


def test_over_max_pending_the_oldest_are_dropped() -> None:
    def down(data: object) -> None:
        raise ConnectionError("no route to host")

    wall = Wall(T0)
    telemetry = ServingTelemetry("churn", sink=down, clock=wall, max_pending=10)
    for minute in range(4):  # 5 datapoints a minute (3 counts, 2 one-value histograms)
        wall.now = T0 + 60 * minute
        telemetry.record(5_000, 5_000, 200)
    wall.now = T0 + 300
    telemetry.flush()
    stats = telemetry.stats
    assert isinstance(stats, TelemetryStats)
    assert (stats.pending, stats.dropped) == (10, 10)
    assert stats.last_error == "ConnectionError: no route to host"
    telemetry.close()


def test_a_sink_exception_never_reaches_the_request_path() -> None:
    calls: list[int] = []

    def flaky(data: list[MetricDatum]) -> None:
        calls.append(len(data))
        if len(calls) == 1:
            raise TelemetrySendError("busy")

    telemetry = ServingTelemetry("churn", sink=flaky, clock=Wall(T0), flush_interval=0.02)
    telemetry.record(1, 1, 200)  # recording never calls the sink
    assert calls == []
    telemetry.close()  # first attempt fails (kept), so close leaves it pending
    assert telemetry.stats.pending == 5
    assert telemetry.stats.failed_sends == 1


def test_prometheus_text_parses_with_prometheus_client() -> None:
    wall = Wall(T0)
    telemetry = ServingTelemetry("churn", sink=lambda data: None, clock=wall)
    latencies_ns = [3_000_000, 8_000_000, 40_000_000, 2_000_000_000, 20_000_000_000]
    for i, ns in enumerate(latencies_ns):
        telemetry.record(ns, 1_000, [200, 404, 500, 503, 200][i])
    wall.now = T0 + 61
    telemetry.flush()  # drained minutes stay in the cumulative figures
    telemetry.record(1_000_000, 1_000, 200)
    families = {f.name: f for f in text_string_to_metric_families(telemetry.prometheus_text())}
    telemetry.close()
    labels = {"endpoint": "churn", "variant": "AllTraffic"}
    [invocations] = families["vigil_endpoint_invocations"].samples
    assert invocations.labels == labels and invocations.value == 6
    errors = {s.labels["code_class"]: s.value
              for s in families["vigil_endpoint_invocation_errors"].samples}  # fmt: skip
    assert errors == {"4xx": 1, "5xx": 2}
    model = families["vigil_endpoint_model_latency_seconds"]
    assert model.type == "histogram"
    buckets = {s.labels["le"]: s.value for s in model.samples if s.name.endswith("_bucket")}
    every = [*latencies_ns, 1_000_000]
    for le, count in buckets.items():  # brute force over the raw latencies
        bound = float(le)
        assert count == sum(ns / 1e9 <= bound for ns in every), le
    count = next(s.value for s in model.samples if s.name.endswith("_count"))
    total = next(s.value for s in model.samples if s.name.endswith("_sum"))
    assert count == 6 and abs(total - sum(every) / 1e9) <= sum(every) / 1e9 / 256


def test_bad_sink_url() -> None:
    with pytest.raises(ConfigError, match="url: expected an http"):
        HttpSink("vigil:8080")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_worker_starts_empty_and_publishes_its_own() -> None:
    sent: list[MetricDatum] = []
    wall = Wall(T0)
    telemetry = ServingTelemetry("churn", sink=sent.extend, clock=wall)
    telemetry.record(1_000, 1_000, 200)  # the parent's request, before the fork
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            empty = telemetry.stats.requests == 0
            telemetry.record(2_000, 1_000, 503)
            telemetry.close()
            fives = [d.sum for d in sent if d.name == "Invocation5XXErrors"]
            os.write(write, b"ok" if empty and fives == [1.0] and len(sent) == 5 else b"no")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 2)
    os.waitpid(pid, 0)
    telemetry.close()
    assert answer == b"ok"
    assert [d.sum for d in sent if d.name == "Invocation5XXErrors"] == [0.0]  # only its own
