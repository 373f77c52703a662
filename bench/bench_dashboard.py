"""Dashboard pages with 1,000 executions and 10,000,000 datapoints in the store.

The store: a whole ``vigil demo`` run (its endpoint, schedule, alarms, training job, events,
host and serving figures), then, in the store's own schema, 1,000 more hourly executions of
its schedule (the 1,000 hours before the demo's, copies of its executions' rows) and figures
until the store holds 10,000,000 datapoints in an installation's layout (see :func:`build`;
written with ``sqlite3`` executemany, cached at ``--data`` for reruns).

A real ``vigil server`` over it; each page is timed two ways, best of ``--repeat``:

- **server**: from the request to the last byte of the HTML (httpx, signed-in cookie);
- **browser**: Debian's Chromium (Playwright) from navigation to every chart drawn
  (``data-drawn`` on every figure), the whole page as a person waits for it.

Peer, in the same run: the same figures through the REST API, the JSON a single-page app (or
Grafana's JSON data source) would fetch before drawing anything: ``/api/v1/executions`` of the
endpoint, and ``/api/v1/metrics/query`` for each series the endpoint page charts.

Reproduce: ``.venv/bin/python bench/bench_dashboard.py`` (writes section "dashboard" of
bench/RESULTS.md; ``--points N`` total datapoints, ``--executions N``, ``--data DIR``,
``--repeat R``, ``--no-write``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent / "tests"))

import httpx  # noqa: E402

import vigil  # noqa: E402
from results import write_section  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_dashboard.py"
CHROMIUM = os.environ.get("VIGIL_CHROMIUM", "/usr/bin/chromium")


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


PER_MINUTE = ("AWS/SageMaker", "vigil/Host")  # serving telemetry and the agent: a minute
PER_WINDOW = ("aws/sagemaker/Endpoints/data-metrics", "vigil/Executions")  # an execution


def build(out: Path, n_points: int, n_executions: int) -> tuple[Path, int, float]:
    """The demo's installation grown to the figures; (data dir, endpoints, seconds spent).

    The demo's endpoint gets ``n_executions`` more hourly executions (copies of its rows in the
    hours before the demo's) with their monitoring figures (one datapoint per series and
    window), a minute's serving and host figures over the same hours; more endpoints, each
    with the same series (serving a minute, monitoring an hour), are added until the store
    holds ``n_points`` datapoints: a store as an installation that size has it."""
    from live_server import free_port
    from vigil import demo
    from vigil.app.bootstrap import open_database
    from vigil.app.catalog import upsert_endpoint
    from vigil.app.config import EndpointSpec
    from vigil.metrics.datum import dimensions_key, series_key
    from vigil.store.settings import Settings

    data = out / "data"
    if (out / "built").exists():
        return data, int((out / "built").read_text()), 0.0
    t = time.perf_counter()
    assert demo.run(out, port=free_port(), keep_running=False) == 0
    con = sqlite3.connect(data / "vigil.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    cols = [r[1] for r in con.execute("PRAGMA table_info(executions)")]
    rows = con.execute(f"SELECT {', '.join(cols)} FROM executions ORDER BY window_start").fetchall()
    first = min(dt.datetime.fromisoformat(r[cols.index("window_start")]) for r in rows)
    first = first.replace(tzinfo=dt.timezone.utc)
    copies = []
    for i in range(n_executions):
        row = list(rows[i % len(rows)])
        shift = first - dt.timedelta(hours=i + 1) - dt.datetime.fromisoformat(
            row[cols.index("window_start")]
        ).replace(tzinfo=dt.timezone.utc)
        row[cols.index("id")] = str(uuid.uuid4())
        for name in ("scheduled_time", "window_start", "window_end", "started_at", "ended_at",
                     "created_at"):
            k = cols.index(name)
            if row[k] is not None:
                row[k] = _stamp(dt.datetime.fromisoformat(row[k]).replace(
                    tzinfo=dt.timezone.utc) + shift)
        copies.append(row)
    con.executemany(
        f"INSERT INTO executions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        copies,
    )
    con.commit()
    series = con.execute("SELECT id, namespace, name, dimensions_key FROM metric_series").fetchall()
    minutes = [_stamp(first - dt.timedelta(minutes=j + 1)) for j in range(n_executions * 60)]
    hours = [_stamp(first - dt.timedelta(hours=j)) for j in range(n_executions)]
    insert = (
        "INSERT INTO datapoints (series_id, timestamp, value, sample_count, sum, minimum,"
        " maximum, unit) VALUES (?, ?, ?, ?, ?, ?, ?, 'None')"
    )
    import random

    rng = random.Random(3)

    def fill(sid: int, namespace: str, name: str) -> None:
        stamps = minutes if namespace in PER_MINUTE else hours
        level = rng.random()
        if namespace == "AWS/SageMaker" and "Latency" in name:  # a statistic set a minute
            con.executemany(insert, ((sid, s, None, 60.0, 60 * level, 0.5 * level, 3 * level)
                                     for s in stamps))
        else:
            con.executemany(insert, ((sid, s, level + 0.1 * rng.random(), None, None, None,
                                      None) for s in stamps))

    for sid, namespace, name, _dims in series:
        if namespace in PER_MINUTE or namespace in PER_WINDOW:
            fill(sid, namespace, name)
    con.commit()
    have = con.execute("SELECT count(*) FROM datapoints").fetchone()[0]
    endpoint_series = [r for r in series if r[1] in PER_MINUTE[:1] + PER_WINDOW]
    per_endpoint = sum(len(minutes) if r[1] in PER_MINUTE else len(hours)
                       for r in endpoint_series)
    more = max(0, -(-(n_points - have) // per_endpoint))
    db = open_database(Settings(data_dir=data))
    for k in range(more):
        upsert_endpoint(db, EndpointSpec(name=f"model-{k + 1:03d}"))
    db.dispose()
    next_id = con.execute("SELECT max(id) FROM metric_series").fetchone()[0] + 1
    for k in range(more):
        endpoint = f"model-{k + 1:03d}"
        for _sid, namespace, name, dims_text in endpoint_series:
            dims = {key: endpoint if value == "cancer-model" else value
                    for key, value in json.loads(dims_text).items()}
            dkey = dimensions_key(dims)
            con.execute(
                "INSERT INTO metric_series (id, series_key, namespace, name, dimensions_key,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (next_id, series_key(namespace, name, dkey), namespace, name, dkey,
                 _stamp(first)),
            )
            fill(next_id, namespace, name)
            next_id += 1
        con.commit()
    con.execute("ANALYZE")
    con.close()
    (out / "built").write_text(str(more + 1))
    return data, more + 1, time.perf_counter() - t


def _pages(api: httpx.Client) -> list[tuple[str, str]]:
    def last(schedule: str) -> str:  # a drifting one: its violations are on the page too
        found = api.get("/executions", params={
            "schedule": schedule, "status": "CompletedWithViolations", "limit": 1}).json()
        return str(found["executions"][0]["id"])

    alarms = api.get("/alarms").json()
    alarm = next((a["name"] for a in alarms.get("alarms", []) if "drift" in a["name"]),
                 alarms["alarms"][0]["name"])
    return [
        ("overview", "/"),
        ("endpoint, last 24 hours", "/endpoints/cancer-model?range=24h"),
        ("endpoint, last 30 days", "/endpoints/cancer-model?range=30d"),
        ("endpoint, last 90 days", "/endpoints/cancer-model?range=90d"),
        ("data-quality execution", f"/executions/{last('hourly')}"),
        ("model-quality execution", f"/executions/{last('hourly-model')}"),
        ("alarms", "/alarms"),
        ("one alarm, last 7 days", f"/alarms/{alarm}?range=7d"),
        ("notifications", "/notifications"),
        ("training job", "/jobs/cancer-train"),
        ("pipelines", "/pipelines"),
        ("host, last 7 days", "/hosts/vm?range=7d"),
        ("metric explorer", "/explore"),
    ]


def _peer(api: httpx.Client, start: dt.datetime, end: dt.datetime) -> int:
    """The REST calls behind the endpoint page's figures; returns the number of calls."""
    api.get("/executions", params={"endpoint": "cancer-model", "limit": 1000}).raise_for_status()
    listed = api.get("/metrics")
    listed.raise_for_status()
    calls = 2
    for m in listed.json()["metrics"]:
        dims = m.get("dimensions") or {}
        if "cancer-model" not in dims.values():
            continue
        api.get("/metrics/query", params={
            "namespace": m["namespace"], "name": m["name"], "statistic": "Average",
            "dimension": [f"{k}:{v}" for k, v in dims.items()], "period": 3600,
            "start": start.isoformat(), "end": end.isoformat(),
        }).raise_for_status()
        calls += 1
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--executions", type=int, default=1_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    out = args.data or Path(tempfile.gettempdir()) / (
        f"vigil-bench-dashboard-{args.points}-{args.executions}"
    )
    data, n_endpoints, built = build(out, args.points, args.executions)
    from playwright.sync_api import sync_playwright

    from live_server import free_port, start_vigil_server
    from vigil.app.bootstrap import open_database
    from vigil.server.auth import create_token
    from vigil.store.settings import Settings

    db = open_database(Settings(data_dir=data))
    token = create_token(db, f"bench-{uuid.uuid4().hex[:8]}", "read")
    with db.engine.connect() as conn:
        n_points = conn.exec_driver_sql("SELECT count(*) FROM datapoints").scalar()
        n_exec = conn.exec_driver_sql("SELECT count(*) FROM executions").scalar()
    db.dispose()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "VIGIL_SELF_METRICS_INTERVAL": "0", "PYTHONPATH": str(HERE.parent / "src")}
    proc = start_vigil_server(data, port, env, start_seconds=120)
    results: list[tuple[str, str, float, float, int, int]] = []
    try:
        api = httpx.Client(base_url=url + "/api/v1", timeout=120,
                           headers={"Authorization": f"Bearer {token}"})
        web = httpx.Client(base_url=url, timeout=120)
        signed = web.post("/signin", data={"token": token}, follow_redirects=False)
        assert signed.status_code == 303, signed.text
        pages = _pages(api)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.goto(url + "/signin")
            page.fill("#token", token)
            page.click("#signin-form button[type=submit]")
            page.wait_for_load_state("load")
            for label, path in pages:
                server_runs, browser_runs = [], []
                size = charts = 0
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    answer = web.get(path)
                    server_runs.append(time.perf_counter() - t)
                    assert answer.status_code == 200, (path, answer.status_code)
                    size = len(answer.content)
                    t = time.perf_counter()
                    page.goto(url + path)
                    page.wait_for_function(
                        "[...document.querySelectorAll('figure.chart')]"
                        ".every(f => f.dataset.drawn)", timeout=60_000)
                    browser_runs.append(time.perf_counter() - t)
                    charts = len(re.findall(r'<figure class="chart"', answer.text))
                results.append((label, path, min(server_runs), min(browser_runs), size, charts))
                print(f"{label:<28} server {min(server_runs) * 1000:7.1f} ms  browser "
                      f"{min(browser_runs) * 1000:7.1f} ms  {size / 1024:7.1f} KiB  "
                      f"{charts} charts")
            browser.close()
        end = dt.datetime.now(dt.timezone.utc)
        peer_runs = []
        calls = 0
        for _ in range(args.repeat):
            t = time.perf_counter()
            calls = _peer(api, end - dt.timedelta(days=30), end)
            peer_runs.append(time.perf_counter() - t)
        peer = min(peer_runs)
        print(f"peer: REST calls behind the endpoint page (30 days): {calls} calls, "
              f"{peer * 1000:.1f} ms")
    finally:
        proc.terminate()
        proc.wait(30)
    load = os.getloadavg()[0]
    when = dt.datetime.now(dt.timezone.utc)
    rows = "\n".join(
        f"| {label} | `{re.sub(r'/executions/[0-9a-f-]+', '/executions/ID', path)}` | "
        f"{s * 1000:.0f} ms | {b * 1000:.0f} ms | {size / 1024:.0f} KiB | {charts} |"
        for label, path, s, b, size, charts in results
    )
    worst = max(r[3] for r in results)
    machine = (
        f"- CPU: {platform.machine()}, {os.cpu_count()} cores (load average {load:.2f}); "
        f"OS: {platform.platform()}\n- date: {when:%Y-%m-%d %H:%M} UTC; vigil "
        f"{vigil.__version__}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    text = f"""## Dashboard: pages over 1,000 executions and 10,000,000 datapoints

{machine}

Store: the demo's installation grown to {n_exec:,} executions and {n_points:,} datapoints
over {n_endpoints} endpoints: the demo's endpoint with {args.executions:,} hourly executions
and their figures (one datapoint per series and window), its serving and host figures one a
minute over those {args.executions:,} hours; more endpoints with the same series fill the
store ({"built in " + format(built, ".0f") + " s" if built else "cached from an earlier run"}).
A real `vigil server`; best of {args.repeat}. **server**: request to the last byte of the
HTML; **browser**: Debian's Chromium from navigation to every chart drawn.

| page | path | server | browser (charts drawn) | HTML | charts |
|---|---|---:|---:|---:|---:|
{rows}

Slowest page in the browser: {worst * 1000:.0f} ms (target: within 1 s).
Peer, same run: the REST calls a client-side page would make for the endpoint page's figures
over 30 days (`/api/v1/executions` + `/api/v1/metrics/query` per series, {calls} calls):
{peer * 1000:.0f} ms before it could draw anything.

Reproduce: `{COMMAND}`
"""
    print(text)
    if not args.no_write:
        write_section("dashboard", text)


if __name__ == "__main__":
    main()
