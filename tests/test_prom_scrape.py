"""Scraping a real HTTP server on loopback serving a changing exposition into the store, and a
real alarm going ALARM on the scraped counter's increase; a bad target fails alone."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from live_server import free_port
from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.service import evaluate_alarms, put_alarm
from vigil.app.bootstrap import open_database
from vigil.app.catalog import apply_config, current_config
from vigil.app.config import parse_config
from vigil.app.prom_scrape import Scraper
from vigil.app.prom_targets import scrape_configs
from vigil.net.policy import ENV_ALLOW
from vigil.store.metrics import MetricStore
from vigil.store.settings import Settings

T = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=10)


class Exposition(BaseHTTPRequestHandler):
    """Serves ``body`` to requests bearing ``token``."""

    body = ""
    token = "t0k3n"
    seen: list[str] = []

    def do_GET(self) -> None:
        Exposition.seen.append(self.headers.get("Authorization", ""))
        if self.headers.get("Authorization") != f"Bearer {Exposition.token}":
            self.send_response(401)
            self.end_headers()
            return
        data = Exposition.body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def _body(errors: float, requests: float, at: datetime) -> str:
    return (
        "# TYPE app_errors_total counter\n"
        f'app_errors_total{{route="/predict"}} {errors} {int(at.timestamp() * 1000)}\n'
        "# TYPE app_queue gauge\n"
        f"app_queue {requests / 10}\n"
        "app_weird NaN\n"
        "# TYPE go_gc_seconds summary\n"
        'go_gc_seconds{quantile="0.5"} 0.01\n'
        "go_gc_seconds_sum 1\ngo_gc_seconds_count 3\n"
    )


def test_scraped_counter_increases_drive_a_real_alarm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(ENV_ALLOW, "127.0.0.1/32")
    monkeypatch.setenv("MODEL_TOKEN", Exposition.token)
    http = ThreadingHTTPServer(("127.0.0.1", 0), Exposition)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    down = free_port()  # nothing listens there: that target fails alone
    settings = Settings(data_dir=tmp_path)
    db = open_database(settings)
    config = parse_config(f"""
scrape_configs:
  - job_name: model
    scrape_interval: 1s
    authorization: {{credentials: "${{env:MODEL_TOKEN}}"}}
    static_configs:
      - targets: ["127.0.0.1:{http.server_port}", "127.0.0.1:{down}"]
        labels: {{team: ml}}
    metric_relabel_configs:
      - {{source_labels: [__name__], regex: "go_.*", action: drop}}
""")
    plan = apply_config(settings, db, config)
    assert plan.summary() == "created 1, updated 0, unchanged 0"
    assert apply_config(settings, db, config).summary() == "created 0, updated 0, unchanged 1"
    exported = current_config(db, "export").scrape_configs[0]
    assert exported.authorization is not None
    assert exported.authorization.credentials == "${env:MODEL_TOKEN}"  # never the secret
    [spec] = scrape_configs(db)
    store = MetricStore(db)
    scraper = Scraper(db, store)
    try:
        instance = f"127.0.0.1:{http.server_port}"
        for i, errors in enumerate((5, 12, 40, 3)):  # the last one: the counter reset
            Exposition.body = _body(errors, 100, T + timedelta(seconds=10 * (i + 1)))
            assert scraper.scrape(spec, instance, {"team": "ml"})
        assert not scraper.scrape(spec, f"127.0.0.1:{down}", {"team": "ml"})
    finally:
        scraper.close()
        http.shutdown()
    assert set(Exposition.seen) == {f"Bearer {Exposition.token}"}

    ns = "prometheus/model"
    dims = {"route": "/predict", "team": "ml", "job": "model", "instance": instance}
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    end = start + timedelta(hours=2)
    assert start < T

    def stat(name: str, statistic: str, d: dict[str, str] = dims) -> float:
        [row] = store.query(ns, name, d, start, end, 7200, [statistic])
        return float(row[statistic])

    assert stat("app_errors_total", "Maximum") == 40  # the raw cumulative values
    assert stat("app_errors_total", "SampleCount") == 4
    # increases: 7, 28, then 3 after the reset (as Prometheus' increase() counts a reset)
    assert stat("app_errors_total:increase", "Sum") == 7 + 28 + 3
    target = {"team": "ml", "job": "model", "instance": instance}
    assert stat("app_queue", "Average", target) == 10
    assert stat("scrape_samples_skipped", "Maximum", target) == 1  # the NaN
    assert not [m for m in store.list_metrics(ns) if m[1].startswith("go_")]  # dropped
    assert stat("up", "Minimum", target) == 1
    assert stat("up", "Maximum", {**target, "instance": f"127.0.0.1:{down}"}) == 0

    put_alarm(db, MetricAlarm(
        name="model-errors", namespace=ns, metric_name="app_errors_total:increase",
        dimensions=dims, statistic="Sum", period=60, evaluation_periods=1, threshold=20,
        comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
    ))  # fmt: skip
    # the samples carry their timestamps: all four scrapes fall in the minute from T
    found = evaluate_alarms(db, store, T + timedelta(minutes=1, seconds=5))
    states = {t.alarm: t.new_state for t in found} if found else {}
    assert states.get("model-errors") == "ALARM", found
