"""The metric store on PostgreSQL at scale: puts, one-series queries, a 10,000-alarm cycle.

A throwaway PostgreSQL cluster (Debian's binaries, as tests/pg_fixture.py starts them) run as
a user would run it: ``fsync=on``, ``synchronous_commit=on``, ``full_page_writes=on``, with
``shared_buffers=1GB`` and ``max_wal_size=8GB`` (a modest production setting); data under
``/tmp``, removed at the end.

1. Put rate. Vigil: ``MetricStore.put`` of ``--put-sample`` ``MetricDatum`` (built beforehand)
   in batches of 10,000, one ``put`` (one transaction) per batch, into a fresh database made by
   ``Database.create_all`` (day partitions made by the puts themselves). Peer: raw psycopg
   ``COPY`` of the same rows, as ready-made tuples with their series ids, one transaction per
   batch, into another fresh database of the same schema whose partitions were made before
   the clock started: the floor for a Python writer.
2. The store: ``--datapoints`` datapoints (default 100,000,000) of SageMaker-named metrics,
   87% from per-minute endpoint series (``AWS/SageMaker`` Invocations, ModelLatency as
   statistic sets, ...) and 13% from hourly monitoring series
   (``aws/sagemaker/Endpoints/data-metrics`` feature drift) over ``--days`` days (default 60),
   written server-side (``INSERT ... SELECT generate_series``) into the store's own schema,
   partitions made by ``MetricStore.prepare_partitions``. The load itself is not a figure.
3. On that store: one series' hourly statistics over a day and over 30 days (SampleCount,
   Average, Maximum, p99), and one cycle of 10,000 metric alarms (``evaluate_many``; periods
   60, 300 and 3,600 s) at the end of the data, steady (states as the previous cycle left
   them) and cold (every alarm from INSUFFICIENT_DATA); the states are checked against the
   single-alarm path on a sample. The query plans (``EXPLAIN``) show the partitions read.

Reproduce: ``.venv/bin/python bench/bench_pg_metrics.py`` (writes section "pg-metrics" of
bench/RESULTS.md; ``--datapoints N``, ``--days N``, ``--put-sample N``, ``--no-write``).
Needs about 200 bytes of disk per datapoint under /tmp (check ``df -h /tmp``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent / "tests"))

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import vigil  # noqa: E402
from pg_fixture import PostgresCluster  # noqa: E402
from results import write_section  # noqa: E402
from vigil.alerts.alarms import (  # noqa: E402
    INSUFFICIENT_DATA,
    MetricAlarm,
    evaluate_many,
    fetch_and_evaluate,
)
from vigil.store import Database, MetricDatum, MetricStore, dimensions_key, series_key  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_pg_metrics.py"
UTC = dt.timezone.utc
END = dt.datetime(2024, 7, 1, tzinfo=UTC)
BATCH = 10_000
MINUTE_SHARE = 0.87
ENDPOINT_NS = "AWS/SageMaker"
MINUTE_METRICS = ["Invocations", "ModelLatency", "OverheadLatency", "Invocation4XXErrors",
                  "Invocation5XXErrors", "CPUUtilization", "MemoryUtilization",
                  "DiskUtilization"]
STAT_SETS = {"ModelLatency", "OverheadLatency"}  # per-minute statistic sets (microseconds)
DRIFT_NS = "aws/sagemaker/Endpoints/data-metrics"
OPTIONS = [
    "-c fsync=on", "-c synchronous_commit=on", "-c full_page_writes=on",
    "-c shared_buffers=1GB", "-c max_wal_size=8GB", "-c checkpoint_timeout=15min",
    "-c maintenance_work_mem=256MB", "-c work_mem=32MB", "-c max_connections=50",
]


class DurableCluster(PostgresCluster):
    """tests/pg_fixture.py's cluster with durability on (as a user runs it)."""

    def start(self) -> str:
        t0 = time.perf_counter()
        self._check(self._run(self.bindir / "initdb", "-D", self.data, "-U", "postgres",
                              "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions"),
                    "initdb")
        options = " ".join([f"-c listen_addresses=127.0.0.1 -p {self.port}",
                            f"-c unix_socket_directories={self.root}", *OPTIONS])
        self._check(self._run(self.bindir / "pg_ctl", "start", "-D", self.data, "-l",
                              self.logfile, "-w", "-t", "60", "-o", options), "pg_ctl start")
        print(f"cluster up in {time.perf_counter() - t0:.1f} s at {self.root}", flush=True)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def create(self, name: str) -> str:
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def drop(self, name: str) -> None:
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")


def layout(total: int, days: int) -> tuple[list[tuple[str, str, dict[str, str]]], int]:
    """The series (namespace, name, dimensions), per-minute ones first; how many per-minute."""
    minute = max(len(MINUTE_METRICS), round(MINUTE_SHARE * total / (1440 * days)))
    hourly = max(1, round((1 - MINUTE_SHARE) * total / (24 * days)))
    out: list[tuple[str, str, dict[str, str]]] = []
    for i in range(minute):
        metric = MINUTE_METRICS[i % len(MINUTE_METRICS)]
        endpoint = f"endpoint-{i // len(MINUTE_METRICS):04d}"
        out.append((ENDPOINT_NS, metric, {"EndpointName": endpoint, "VariantName": "AllTraffic"}))
    for j in range(hourly):
        endpoint, feature = f"endpoint-{j // 50:04d}", f"feature_{j % 50:02d}"
        out.append((DRIFT_NS, f"feature_baseline_drift_{feature}",
                    {"Endpoint": endpoint, "MonitoringSchedule": f"{endpoint}-dq"}))
    return out, minute


def sample(series: list[tuple[str, str, dict[str, str]]], minute: int, n: int) -> list[MetricDatum]:
    """The first ``n`` datapoints of the mix in arrival order (minute by minute)."""
    rng = random.Random(1)
    out: list[MetricDatum] = []
    t = dt.datetime(2024, 1, 1, tzinfo=UTC)
    while len(out) < n:
        for k in range(minute):
            ns, name, dims = series[k]
            if name in STAT_SETS:
                lo, hi = rng.uniform(1e3, 5e3), rng.uniform(5e3, 5e4)
                c = float(rng.randint(1, 200))
                out.append(MetricDatum(ns, name, dims, t, None, unit="Microseconds",
                                       sample_count=c, sum=c * (lo + hi) / 2, minimum=lo,
                                       maximum=hi))
            else:
                out.append(MetricDatum(ns, name, dims, t, rng.random() * 100))
        if t.minute == 0:
            for ns, name, dims in series[minute:]:
                out.append(MetricDatum(ns, name, dims, t, rng.random()))
        t += dt.timedelta(minutes=1)
    return out[:n]


def put_rates(
    cluster: DurableCluster, data: list[MetricDatum], repeat: int
) -> dict[str, list[float]]:
    """Seconds of each run of Vigil's puts and of the peer's COPY of the same rows, the two
    taking turns (each run into a fresh database)."""
    runs: dict[str, list[float]] = {"vigil": [], "peer": []}
    ids: dict[tuple[str, str, str], int] = {}
    for r in range(repeat):
        vigil_db = Database(cluster.create("bench_put_vigil"))
        vigil_db.create_all()
        store = MetricStore(vigil_db)
        t = time.perf_counter()
        for i in range(0, len(data), BATCH):
            store.put(data[i : i + BATCH])
        runs["vigil"].append(time.perf_counter() - t)
        ids = {(s.namespace, s.name, s.dimensions_key): sid for s, sid in _series(vigil_db)}
        vigil_db.dispose()
        cluster.drop("bench_put_vigil")
        runs["peer"].append(peer_copy(cluster, data, ids))
        print(f"put run {r + 1}: vigil {runs['vigil'][-1]:.1f} s, peer {runs['peer'][-1]:.1f} s",
              flush=True)
    return runs


def peer_copy(cluster: DurableCluster, data: list[MetricDatum],
              ids: dict[tuple[str, str, str], int]) -> float:
    """Seconds for raw psycopg COPY of ``data`` into a fresh database of the same schema."""
    peer_db = Database(cluster.create("bench_put_peer"))
    peer_db.create_all()
    days = {d.timestamp.date() for d in data}
    first, last = (dt.datetime.combine(d, dt.time(), UTC) for d in (min(days), max(days)))
    MetricStore(peer_db).prepare_partitions(first, last)
    with peer_db.engine.begin() as conn:  # the same series, with the same ids
        conn.exec_driver_sql(
            "INSERT INTO metric_series (id, series_key, namespace, name, dimensions_key, "
            "created_at) VALUES (%s, %s, %s, %s, %s, now())",
            [(sid, series_key(*k), *k) for k, sid in ids.items()],
        )
    rows = [(ids[(d.namespace, d.name, d.dimensions_key)], d.timestamp, d.value, d.sample_count,
             d.sum, d.minimum, d.maximum, d.unit) for d in data]
    url = make_url(peer_db.url)
    where = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    with psycopg.connect(**where) as pc:
        t = time.perf_counter()
        for i in range(0, len(rows), BATCH):
            with pc.cursor() as cur, cur.copy(
                'COPY datapoints (series_id, "timestamp", value, sample_count, sum, minimum, '
                "maximum, unit) FROM STDIN"
            ) as copy:
                for row in rows[i : i + BATCH]:
                    copy.write_row(row)
            pc.commit()
        seconds = time.perf_counter() - t
    peer_db.dispose()
    cluster.drop("bench_put_peer")
    return seconds


def summarise(lines: list[str]) -> list[str]:
    """A plan's top nodes, its first scans and how many partitions it read."""
    scans = [x.strip() for x in lines if "Scan" in x]
    read = {m[0] for x in scans if (m := re.search(r"datapoints_p\d{8}", x))}
    tops = [x.strip() for x in lines if "Scan" not in x and "->" in x][:3]
    head = [x.strip() for x in lines[:1]]
    tail = [x.strip() for x in lines if x.startswith(("Planning Time", "Execution Time"))]
    more = [f"... {len(read)} partition(s) read in all: {', '.join(sorted(read))[:90]}"]
    return head + tops + scans[:2] + more + tail


def _series(db: Database) -> list[tuple[Any, int]]:
    from sqlalchemy import select

    from vigil.store.models import MetricSeries

    with db.session() as s:
        return [(m, m.id) for m in s.scalars(select(MetricSeries))]


def load(db: Database, series: list[tuple[str, str, dict[str, str]]], minute: int,
         days: int) -> float:
    """Write the whole store server-side; seconds spent."""
    t = time.perf_counter()
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO metric_series (id, series_key, namespace, name, dimensions_key, "
            "created_at) VALUES (%s, %s, %s, %s, %s, now())",
            [(i + 1, series_key(ns, n, dimensions_key(d)), ns, n, dimensions_key(d))
             for i, (ns, n, d) in enumerate(series)],
        )
    start = END - dt.timedelta(days=days)
    MetricStore(db).prepare_partitions(start, END - dt.timedelta(seconds=1))
    sets = [i + 1 for i in range(minute) if series[i][1] in STAT_SETS]
    plain = [i + 1 for i in range(minute) if series[i][1] not in STAT_SETS]
    hourly = [i + 1 for i in range(minute, len(series))]
    for day in range(days):
        lo, hi = start + dt.timedelta(days=day), start + dt.timedelta(days=day + 1)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO datapoints (series_id, \"timestamp\", value, unit) "
                "SELECT s, t, random() * 100, 'None' FROM unnest(%s::bigint[]) s, "
                "generate_series(%s::timestamptz, %s::timestamptz - interval '1 minute', "
                "interval '1 minute') t", (plain, lo, hi),
            )
            conn.exec_driver_sql(
                "INSERT INTO datapoints (series_id, \"timestamp\", sample_count, sum, minimum, "
                "maximum, unit) SELECT s, t, c, c * (lo + hi) / 2, lo, hi, 'Microseconds' FROM "
                "(SELECT s, t, 1 + floor(random() * 200) c, 1000 + random() * 4000 lo, "
                "5000 + random() * 45000 hi FROM unnest(%s::bigint[]) s, generate_series("
                "%s::timestamptz, %s::timestamptz - interval '1 minute', interval '1 minute') t "
                "OFFSET 0) r", (sets, lo, hi),
            )
            conn.exec_driver_sql(
                "INSERT INTO datapoints (series_id, \"timestamp\", value, unit) "
                "SELECT s, t, random(), 'None' FROM unnest(%s::bigint[]) s, "
                "generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour', "
                "interval '1 hour') t", (hourly, lo, hi),
            )
        if day % 10 == 9:
            print(f"  loaded {day + 1} of {days} days ({time.perf_counter() - t:.0f} s)",
                  flush=True)
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM (ANALYZE) datapoints"
        )
    return time.perf_counter() - t


def make_alarms(series: list[tuple[str, str, dict[str, str]]], minute: int,
                n: int) -> list[MetricAlarm]:
    rng = random.Random(9)
    ops = ["GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold",
           "LessThanOrEqualToThreshold"]
    out = []
    for i in range(n):
        ns, name, dims = series[i % len(series)]
        k = rng.randint(1, 5)
        if i % len(series) < minute:
            period = rng.choice([60, 300])
            stat = rng.choice(["Average", "Maximum", "Sum", "SampleCount", "Minimum"])
            threshold = 50.0 if name not in STAT_SETS else 20_000.0
        else:
            period, stat, threshold = 3600, rng.choice(["Average", "Maximum"]), 0.5
        if stat == "SampleCount":
            threshold = 1.0
        out.append(MetricAlarm(
            name=f"alarm-{i}", namespace=ns, metric_name=name, dimensions=dims, statistic=stat,
            period=period, evaluation_periods=k, datapoints_to_alarm=rng.randint(1, k),
            comparison_operator=rng.choice(ops), threshold=threshold,
            treat_missing_data=rng.choice(["missing", "notBreaching", "breaching", "ignore"]),
        ))
    return out


def best(fn: Any, repeat: int) -> tuple[float, list[float], Any]:
    runs, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t)
    return min(runs), runs, out


def plan(db: Database, sql: str, params: dict[str, Any]) -> list[str]:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        rows = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql), params)
        return [r[0] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datapoints", type=int, default=100_000_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--put-sample", type=int, default=1_000_000)
    parser.add_argument("--alarms", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--put-repeat", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    print(shutil.disk_usage("/tmp"), flush=True)
    load_before = os.getloadavg()[0]
    series, minute = layout(args.datapoints, args.days)
    cluster = DurableCluster()
    try:
        cluster.start()
        data = sample(series, minute, args.put_sample)
        put_runs = put_rates(cluster, data, args.put_repeat)
        rates = {k: min(v) for k, v in put_runs.items()}
        del data
        db = Database(cluster.create("bench_store"))
        db.create_all()
        loaded = load(db, series, minute, args.days)
        with db.engine.connect() as conn:
            from sqlalchemy import text

            total = int(conn.scalar(text("SELECT count(*) FROM datapoints")) or 0)
            parts = int(conn.scalar(text(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = 'datapoints'::regclass")) or 0)
            size = int(conn.scalar(text(
                "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                "WHERE inhparent = 'datapoints'::regclass")) or 0)
        print(f"store: {total:,} datapoints, {parts} partitions, {size / 2**30:.1f} GiB, "
              f"loaded in {loaded:.0f} s", flush=True)
        store = MetricStore(db)
        ns, name, dims = series[1]  # ModelLatency of endpoint-0000: statistic sets
        stats = ["SampleCount", "Average", "Maximum", "p99"]
        q_day = best(lambda: store.query(ns, name, dims, END - dt.timedelta(days=1), END, 3600,
                                         stats), args.repeat + 2)
        q_month = best(lambda: store.query(ns, name, dims, END - dt.timedelta(days=30), END,
                                           3600, stats), args.repeat + 2)
        ns2, name2, dims2 = series[0]  # Invocations: raw values, percentiles from them
        q_month_raw = best(lambda: store.query(ns2, name2, dims2, END - dt.timedelta(days=30),
                                               END, 3600, stats), args.repeat + 2)
        alarms = make_alarms(series, minute, args.alarms)
        cold = {a.name: INSUFFICIENT_DATA for a in alarms}
        cold_s, cold_runs, result = best(lambda: evaluate_many(store, alarms, END, cold),
                                         args.repeat)
        steady = dict(result.states)
        steady_s, steady_runs, again = best(lambda: evaluate_many(store, alarms, END, steady),
                                            args.repeat)
        assert not again.transitions
        checked = random.Random(2).sample(alarms, min(300, len(alarms)))
        wrong = sum(fetch_and_evaluate(store, a, END, steady[a.name]).state != steady[a.name]
                    for a in checked)
        if wrong:
            raise SystemExit(f"batch and single-alarm paths disagree on {wrong} alarms")
        counts: dict[str, int] = {}
        for s in result.states.values():
            counts[s] = counts.get(s, 0) + 1
        sid = 1 + series.index(series[1])
        month_plan = plan(db, (  # the store's grouped query (MetricStore.query), by hand
            'SELECT floor(extract(epoch FROM "timestamp") / 3600) b, '
            "sum(coalesce(sample_count, 1)), sum(coalesce(sum, value)), "
            "min(coalesce(minimum, value)), max(coalesce(maximum, value)) FROM datapoints "
            'WHERE series_id = :s AND "timestamp" >= :a AND "timestamp" < :b GROUP BY 1'),
            {"s": sid, "a": END - dt.timedelta(days=30), "b": END})
        ids = list(range(1, min(len(series), 10_000) + 1))
        alarm_plan = plan(db, (
            "SELECT series_id, count(*), sum(coalesce(sum, value)) FROM datapoints "
            'WHERE series_id = ANY(:ids) AND "timestamp" >= :a AND "timestamp" < :b '
            "GROUP BY series_id"), {"ids": ids, "a": END - dt.timedelta(minutes=10), "b": END})
        with db.engine.connect() as conn:
            pgv = conn.scalar(text("SHOW server_version"))
        db.dispose()
    finally:
        cluster.stop()
    load_after = os.getloadavg()[0]
    n = args.put_sample
    when = dt.datetime.now(UTC)
    plan_text = "\n".join([*summarise(month_plan), "", *summarise(alarm_plan)])
    command = COMMAND
    if (args.datapoints, args.days, args.put_sample) != (100_000_000, 60, 1_000_000):
        command += f" --datapoints {args.datapoints} --days {args.days} --put-sample {n}"
    states = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))

    def row(label: str, x: tuple[float, list[float], Any]) -> str:
        runs = ", ".join(f"{r:.3f}" for r in x[1])
        return f"| {label} | {x[0] * 1000:.0f} ms | {runs} |"

    stat_sets = "SampleCount/Average/Maximum/p99"
    queries = "\n".join([
        row(f"one series, a day of hourly {stat_sets} (statistic sets)", q_day),
        row("one series, 30 days of the same (statistic sets: p99 hidden, none read)", q_month),
        row("one series, 30 days of the same over raw values (43,200 read for p99)",
            q_month_raw),
        row(f"{len(alarms):,} alarms, one `evaluate_many` cycle, steady",
            (steady_s, steady_runs, None)),
        row(f"{len(alarms):,} alarms, one cycle, cold (every alarm transitions, full reasons)",
            (cold_s, cold_runs, None)),
    ])
    v_rate, p_rate = f"{n / rates['vigil']:,.0f}", f"{n / rates['peer']:,.0f}"
    v_runs, p_runs = (", ".join(f"{r:.1f}" for r in put_runs[k]) for k in ("vigil", "peer"))
    v_row = ("| vigil `MetricStore.put` (series lookup, partitions made on the way, `COPY`) | "
             f"{v_rate} | {rates['vigil']:.1f} s | {v_runs} |")
    p_row = ("| peer: raw psycopg `COPY` of ready tuples (series ids known, partitions made "
             f"beforehand) | {p_rate} | {rates['peer']:.1f} s | {p_runs} |")
    smaller = (
        f"\n\nRun at {args.datapoints:,} datapoints, below the default 100,000,000, to fit the "
        "time at hand; the default run is the command without options."
        if args.datapoints < 100_000_000
        else ""
    )
    text_ = f"""## Metric store on PostgreSQL: {total:,} datapoints in day partitions{smaller}

- CPU: {platform.machine()}, {os.cpu_count()} cores shared with other work (load average
  {load_before:.2f} at the start, {load_after:.2f} at the end); OS: {platform.platform()}
- date: {when:%Y-%m-%d %H:%M} UTC; vigil {vigil.__version__}, Python
  {platform.python_version()}, PostgreSQL {pgv}, psycopg {psycopg.__version__}
- cluster: durable (`fsync=on`, `synchronous_commit=on`, `full_page_writes=on`),
  `shared_buffers=1GB`, `max_wal_size=8GB`, on the machine's one disk

Reproduce (from the repository root; the cluster is made under /tmp and removed):

```sh
{command}
```

**Puts**: {n:,} datapoints of the mix below, in arrival order, batches of {BATCH:,}, one
transaction (one fsync'd commit) per batch, each writer into a fresh database of the store's
schema, the two taking turns; best of {args.put_repeat}.

| writer | datapoints/s | best | runs (s) |
|---|--:|--:|---|
{v_row}
{p_row}

Vigil runs at {100 * rates['peer'] / rates['vigil']:.0f}% of the floor's rate.

**The store**: {total:,} datapoints over {args.days} days (to {END:%Y-%m-%d}) in {parts} day
partitions ({size / 2**30:.1f} GiB with indexes), {len(series):,} series: {minute:,}
per-minute `AWS/SageMaker` endpoint series ({", ".join(MINUTE_METRICS)}; the latencies as
statistic sets) and {len(series) - minute:,} hourly `{DRIFT_NS}` drift series; written
server-side in {loaded:.0f} s (not a figure of Vigil's).

| on that store | time | runs (s) |
|---|--:|---|
{queries}

Alarms: periods 60 and 300 s on the per-minute series and 3,600 s on the hourly ones, N 1..5,
M 1..N, every basic statistic, operator and missing-data treatment; states {states}; 300 of
them checked against the single-alarm path (`fetch_and_evaluate`): all agree. Target: a
cycle in at most 1 s.

The plans (`EXPLAIN (ANALYZE, BUFFERS)`): a month of one series, then the alarm evaluator's
grouped query over the last 10 minutes of {len(ids):,} series; the time range prunes to the
days it covers, each read through its `(series_id, timestamp)` index:

```
{plan_text}
```
"""
    print(text_)
    if not args.no_write:
        write_section("pg-metrics", text_)


if __name__ == "__main__":
    main()
