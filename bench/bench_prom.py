"""What one Prometheus scrape of ``GET /metrics`` costs over a big metric store, beside the
standard Python exposition of the same series.

Store (SQLite, a temporary file): ``--endpoints`` endpoints x ``--minutes`` minutes of serving
telemetry as the middleware stores it (an ``Invocations`` and an ``Invocation5XXErrors``
statistic set and three ``ModelLatency`` value sets per minute), plus ``--hosts`` hosts x
``--minutes`` minutes of ``CPUUtilization``. Vigil: ``Exporter.render()`` (what the route
answers), the first scrape after a start (it reads the whole store once), then the median of
``--scrapes`` later scrapes, each after one minute of new datapoints (counters, histograms and
gauges advance by what was stored since). Peer: ``prometheus_client.generate_latest`` over a
registry holding the same series (counters, histograms with the same buckets, gauges) in
memory, which is what an exporter that keeps its figures in process pays per scrape.

Reproduce: ``.venv/bin/python bench/bench_prom.py`` (writes section "prom" of
bench/RESULTS.md; ``--endpoints``, ``--hosts``, ``--minutes``, ``--scrapes``, ``--no-write``).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from vigil.app.prom_exporter import Exporter
from vigil.metrics.datum import MetricDatum
from vigil.metrics.exposition import LATENCY_BUCKETS
from vigil.store.db import Database
from vigil.store.metrics import MetricStore

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from results import write_section  # noqa: E402

LATENCIES_US = (3000, 12000, 80000)


def minute(endpoints: int, hosts: int, t: datetime) -> list[MetricDatum]:
    out = []
    for e in range(endpoints):
        dims = {"EndpointName": f"e{e}", "VariantName": "AllTraffic"}
        out.append(MetricDatum("AWS/SageMaker", "Invocations", dims, t, sample_count=30,
                               sum=30, minimum=1, maximum=1))
        out.append(MetricDatum("AWS/SageMaker", "Invocation5XXErrors", dims, t,
                               sample_count=30, sum=1, minimum=0, maximum=1))
        for v in LATENCIES_US:
            out.append(MetricDatum("AWS/SageMaker", "ModelLatency", dims, t, sample_count=10,
                                   sum=10 * v, minimum=v, maximum=v, unit="Microseconds"))
    for h in range(hosts):
        out.append(MetricDatum("vigil/Host", "CPUUtilization", {"Host": f"h{h}"}, t, 50.0,
                               unit="Percent"))
    return out


def peer(endpoints: int, hosts: int, scrapes: int) -> float:
    registry = CollectorRegistry()
    calls = Counter("vigil_endpoint_invocations", "Invocations", ["endpoint", "variant"],
                    registry=registry)
    errors = Counter("vigil_endpoint_invocation_errors", "Errors",
                     ["endpoint", "variant", "code_class"], registry=registry)
    latency = Histogram("vigil_endpoint_model_latency_seconds", "Latency",
                        ["endpoint", "variant"], buckets=LATENCY_BUCKETS, registry=registry)
    cpu = Gauge("vigil_instance_cpu_utilization_ratio", "CPU", ["host"], registry=registry)
    for e in range(endpoints):
        calls.labels(f"e{e}", "AllTraffic").inc(30)
        errors.labels(f"e{e}", "AllTraffic", "5xx").inc(1)
        for v in LATENCIES_US:
            latency.labels(f"e{e}", "AllTraffic").observe(v / 1e6)
    for h in range(hosts):
        cpu.labels(f"h{h}").set(0.5)
    times = []
    for _ in range(scrapes):
        t = time.perf_counter()
        generate_latest(registry)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoints", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--minutes", type=int, default=4000)
    parser.add_argument("--scrapes", type=int, default=15)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/m.db")
        db.create_all()
        store = MetricStore(db)
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        stored = 0
        for m in range(args.minutes, 0, -1):
            batch = minute(args.endpoints, args.hosts, now - timedelta(minutes=m))
            store.put(batch)
            stored += len(batch)
        exporter = Exporter(db)
        t = time.perf_counter()
        body = exporter.render()
        first = time.perf_counter() - t
        lines = len(body.splitlines())
        later = []
        for i in range(args.scrapes):
            store.put(minute(args.endpoints, args.hosts, now + timedelta(seconds=i)))
            t = time.perf_counter()
            exporter.render()
            later.append(time.perf_counter() - t)
        db.dispose()
    vigil_s = statistics.median(later)
    peer_s = peer(args.endpoints, args.hosts, args.scrapes)
    text = f"""## prom: one scrape of `GET /metrics` over a big store (issue 11, item 5)

`.venv/bin/python bench/bench_prom.py` ({platform.machine()}, Python
{platform.python_version()}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)

Store: SQLite, {stored:,} datapoints ({args.endpoints} endpoints x {args.minutes:,} minutes of
serving telemetry, {args.hosts} hosts x {args.minutes:,} minutes of CPU); the exposition has
{lines:,} lines.

| scrape | time |
|---|---:|
| Vigil, first after a start (reads the store once) | {first * 1000:,.0f} ms |
| Vigil, later (median of {args.scrapes}, a minute of new data each) | {vigil_s * 1e3:,.1f} ms |
| peer: `prometheus_client.generate_latest`, the same series in memory | {peer_s * 1000:,.1f} ms |

A later scrape reads only the datapoints stored since the previous one (a primary-key range),
so its cost follows what changed, not the size of the store.
"""
    print(text)
    if not args.no_write:
        write_section("prom", text)


if __name__ == "__main__":
    main()
