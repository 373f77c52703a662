"""A real Prometheus (Debian's binary) scrapes a real ``vigil server``'s ``GET /metrics`` with a
read token; what its query API answers must equal what Vigil's store holds. ``promtool check
metrics`` validates the exposition, and Prometheus' own ``/metrics`` parses the same in our
parser and in prometheus_client's."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from live_server import free_port, start_vigil_server
from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.service import put_alarm
from vigil.app.bootstrap import open_database
from vigil.metrics.datum import MetricDatum
from vigil.metrics.exposition_parse import parse_exposition
from vigil.server.auth import create_token
from vigil.store.metrics import MetricStore
from vigil.store.models import AlarmRecord
from vigil.store.settings import Settings

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("promtool") is None,
    reason="Debian's prometheus is not installed (make system-deps)",
)
DIMS = {"EndpointName": "churn", "VariantName": "AllTraffic"}
LATENCIES_MS = [20.0] * 450 + [200.0] * 45 + [3000.0] * 5  # p99 (nearest rank) = 200 ms


def _alarm(name: str) -> MetricAlarm:
    return MetricAlarm(
        name=name, namespace="AWS/SageMaker", metric_name="Invocation5XXErrors",
        dimensions=DIMS, statistic="Average", period=60, evaluation_periods=1, threshold=0.05,
        comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
    )  # fmt: skip


def _fill(data: Path) -> tuple[str, dict[str, Any]]:
    """Tokens, datapoints and alarms in the installation; the read token and the truth."""
    db = open_database(Settings(data_dir=data))
    try:
        secret = create_token(db, "prometheus", "read")
        store = MetricStore(db)
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        points = []
        for minute in range(5):  # per-minute sets, as the telemetry middleware stores them
            t = now - timedelta(minutes=5 - minute)
            points.append(MetricDatum("AWS/SageMaker", "Invocations", DIMS, t, sample_count=20,
                                      sum=20, minimum=1, maximum=1))  # fmt: skip
            points.append(MetricDatum("AWS/SageMaker", "Invocation5XXErrors", DIMS, t,
                                      sample_count=20, sum=minute, minimum=0,
                                      maximum=1))  # fmt: skip
            for ms in sorted(set(LATENCIES_MS)):
                n = LATENCIES_MS.count(ms) / 5
                if n:
                    points.append(MetricDatum(
                        "AWS/SageMaker", "ModelLatency", DIMS, t, sample_count=n,
                        sum=n * ms * 1000, minimum=ms * 1000, maximum=ms * 1000,
                        unit="Microseconds",
                    ))  # fmt: skip
        points.append(MetricDatum("vigil/Host", "CPUUtilization", {"Host": "gpu-1"},
                                  datetime.now(timezone.utc), 150.0, unit="Percent"))  # fmt: skip
        store.put(points)
        for name in ("errors-a", "errors-b", "errors-c"):
            put_alarm(db, _alarm(name))
        with db.session() as s:
            s.execute(
                update(AlarmRecord).where(AlarmRecord.name == "errors-b").values(state="ALARM")
            )
        start, end = now - timedelta(days=1), now + timedelta(days=1)
        total = store.query("AWS/SageMaker", "Invocations", DIMS, start, end, 86400 * 2, ["Sum"])
        errors = store.query(
            "AWS/SageMaker", "Invocation5XXErrors", DIMS, start, end, 86400 * 2, ["Sum"]
        )
        p99 = store.query("AWS/SageMaker", "ModelLatency", DIMS, start, end, 86400 * 2, ["p99"])
        truth = {
            "invocations": total[0]["Sum"], "errors": errors[0]["Sum"],
            "p99_seconds": p99[0]["p99"] / 1e6,
        }  # fmt: skip
        return secret, truth
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp_path = tmp_path_factory.mktemp("prom")
    data = tmp_path / "data"
    data.mkdir()
    secret, truth = _fill(data)
    port = free_port()
    server = start_vigil_server(data, port, os.environ, stderr=subprocess.DEVNULL)
    prom_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: vigil\n"
        f"    authorization: {{credentials: {secret}}}\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    prom = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield {"vigil": f"http://127.0.0.1:{port}", "prom": f"http://127.0.0.1:{prom_port}",
               "secret": secret, "truth": truth, "data": data}  # fmt: skip
    finally:
        prom.terminate()
        server.terminate()
        prom.wait(20)
        server.wait(20)


def _alarm_states(data: Path) -> dict[str, str]:
    db = open_database(Settings(data_dir=data))
    try:
        with db.session() as s:
            return dict(s.execute(select(AlarmRecord.name, AlarmRecord.state)).all())
    finally:
        db.dispose()


def _query(prom: str, expr: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]["result"]  # type: ignore[no-any-return]


def _wait_up(prom: str, seconds: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{prom}/api/v1/targets", timeout=2)
            targets = r.json()["data"]["activeTargets"]
            last = targets
            if targets and targets[0]["health"] == "up" and _query(prom, "vigil_build_info"):
                return targets[0]  # type: ignore[no-any-return]
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"Prometheus never saw the target up: {last}")


def test_a_real_prometheus_scrapes_what_the_store_holds(stack: dict[str, Any]):
    prom, truth = stack["prom"], stack["truth"]
    target = _wait_up(prom)
    assert target["labels"]["job"] == "vigil" and target["lastError"] == ""

    [inv] = _query(prom, 'vigil_endpoint_invocations_total{endpoint="churn"}')
    assert inv["metric"]["variant"] == "AllTraffic"
    assert float(inv["value"][1]) == truth["invocations"] == 100
    [err] = _query(prom, 'vigil_endpoint_invocation_errors_total{code_class="5xx"}')
    assert float(err["value"][1]) == truth["errors"]

    # p99 from the buckets: Prometheus interpolates inside the bucket holding the true p99
    [q] = _query(prom, "histogram_quantile(0.99, vigil_endpoint_model_latency_seconds_bucket)")
    bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
    i = next(k for k, b in enumerate(bounds) if truth["p99_seconds"] <= b + 1e-12)
    assert bounds[i - 1] < float(q["value"][1]) <= bounds[i] + 1e-9
    [count] = _query(prom, "vigil_endpoint_model_latency_seconds_count")
    assert float(count["value"][1]) == len(LATENCIES_MS)
    [total] = _query(prom, "vigil_endpoint_model_latency_seconds_sum")
    assert math.isclose(float(total["value"][1]), sum(LATENCIES_MS) / 1000, rel_tol=1e-9)

    # alarm states: the server's loop evaluates the alarms meanwhile; once both settle, what
    # Prometheus scraped equals the alarms table
    deadline, seen = time.monotonic() + 20, None
    while time.monotonic() < deadline:
        scraped = {r["metric"]["state"]: float(r["value"][1]) for r in _query(prom, "vigil_alarms")}
        per_alarm = {
            r["metric"]["alarm"]: r["metric"]["state"]
            for r in _query(prom, "vigil_alarm_state == 1")
        }
        stored = _alarm_states(stack["data"])
        seen = (scraped, per_alarm, stored)
        wanted = {s: float(sum(v == s for v in stored.values())) for s in scraped}
        # (the endpoint's and the host's default alarms are there beside the test's three)
        ours = {"errors-a", "errors-b", "errors-c"} <= set(stored)
        if scraped == wanted and per_alarm == stored and ours:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"Prometheus' alarm states never matched the store: {seen}")
    [cpu] = _query(prom, 'vigil_instance_cpu_utilization_ratio{host="gpu-1"}')
    assert float(cpu["value"][1]) == 1.5
    assert _query(prom, "process_resident_memory_bytes")


def test_the_exposition_passes_promtool_and_needs_a_read_token(stack: dict[str, Any]):
    url = stack["vigil"] + "/metrics"
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer nope"}, timeout=10).status_code == 401
    r = httpx.get(url, headers={"Authorization": f"Bearer {stack['secret']}"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    checked = subprocess.run(
        ["promtool", "check", "metrics"], input=r.text, capture_output=True, text=True,
        timeout=30,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # Prometheus' own exposition: both parsers read the same samples
    _wait_up(stack["prom"])
    own = httpx.get(stack["prom"] + "/metrics", timeout=10).text
    ours = [(s.name, dict(s.labels), s.value) for f in parse_exposition(own) for s in f.samples]
    theirs = [
        (s.name, dict(s.labels), float(s.value))
        for f in text_string_to_metric_families(own)
        for s in f.samples
    ]
    assert len(ours) == len(theirs) > 100
    for a, b in zip(ours, theirs):
        assert a[:2] == b[:2] and (a[2] == b[2] or (math.isnan(a[2]) and math.isnan(b[2])))
