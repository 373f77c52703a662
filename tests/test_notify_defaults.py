"""Default alarms of endpoints and hosts: created when an endpoint is registered or a host
first reports, thresholds from vigil.yaml's ``defaults`` and the endpoint's ``config``,
turned off (and removed), and a real evaluation over datapoints put through the store going
ALARM (the breach judged by NumPy over the same values)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from vigil.alerts.platform import (
    PlatformDefaults,
    ensure_platform_alarms,
    save_defaults,
)
from vigil.alerts.service import evaluate_alarms
from vigil.app.catalog import apply_config, current_config, upsert_endpoint
from vigil.app.config import EndpointSpec, diff_config, dump_config, parse_config
from vigil.metrics.datum import MetricDatum
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.models import AlarmRecord
from vigil.store.settings import Settings

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    return db


def _specs(db: Database) -> dict[str, dict]:
    with db.session() as s:
        return {r.name: r.spec for r in s.query(AlarmRecord)}


def test_registered_endpoint_gets_its_alarms_with_overrides(tmp_path: Path) -> None:
    db = _db(tmp_path)
    upsert_endpoint(db, EndpointSpec(name="churn"))
    upsert_endpoint(db, EndpointSpec(name="fraud", variant="v2",
                                     config={"error_rate": 0.01, "p99_latency_ms": 250,
                                             "default_alarm_actions": ["fraud-oncall"]}))
    specs = _specs(db)
    assert sorted(specs) == ["churn-5xx-errors", "churn-p99-latency", "fraud-5xx-errors",
                             "fraud-p99-latency"]
    churn = specs["churn-5xx-errors"]
    assert (churn["namespace"], churn["metric_name"], churn["statistic"]) == (
        "AWS/SageMaker", "Invocation5XXErrors", "Average")
    assert churn["dimensions"] == {"EndpointName": "churn", "VariantName": "AllTraffic"}
    assert churn["threshold"] == 0.05 and churn["treat_missing_data"] == "notBreaching"
    assert churn["severity"] == "critical" and specs["churn-p99-latency"]["severity"] == "high"
    assert specs["churn-p99-latency"]["threshold"] == 1_000_000.0  # 1 s in microseconds
    assert specs["fraud-5xx-errors"]["threshold"] == 0.01
    assert specs["fraud-p99-latency"]["threshold"] == 250_000.0
    assert specs["fraud-5xx-errors"]["dimensions"]["VariantName"] == "v2"
    assert specs["fraud-5xx-errors"]["alarm_actions"] == ["fraud-oncall"]
    # turned off for one endpoint: its alarms are removed
    upsert_endpoint(db, EndpointSpec(name="churn", config={"default_alarms": False}))
    assert sorted(_specs(db)) == ["fraud-5xx-errors", "fraud-p99-latency"]


def test_yaml_defaults_apply_thresholds_and_turn_families_off(tmp_path: Path) -> None:
    db = _db(tmp_path)
    settings = Settings(data_dir=tmp_path)
    text = """
endpoints: [{name: churn}]
topics: [{name: oncall}]
defaults:
  endpoint_alarms: {error_rate: 0.1, p99_latency_ms: 2000, alarm_actions: [oncall]}
  host_alarms: {memory_percent: 80, disk_percent: 95, alarm_actions: [oncall]}
"""
    cfg = parse_config(text)
    assert parse_config(dump_config(cfg)) == cfg
    apply_config(settings, db, cfg)
    specs = _specs(db)
    assert specs["churn-5xx-errors"]["threshold"] == 0.1
    assert specs["churn-p99-latency"]["threshold"] == 2_000_000.0
    assert specs["churn-5xx-errors"]["alarm_actions"] == ["oncall"]
    assert current_config(db).defaults == cfg.defaults
    assert current_config(db).alarms == []  # default alarms are not exported as the user's
    off = parse_config(text.replace("alarm_actions: [oncall]}", "enabled: false}", 1))
    apply_config(settings, db, off)
    assert _specs(db) == {}


def test_default_alarms_notify_the_platform_topics_unless_told_otherwise(tmp_path: Path) -> None:
    db = _db(tmp_path)
    settings = Settings(data_dir=tmp_path)
    text = """
endpoints: [{name: churn}]
topics: [{name: oncall}, {name: pager}]
platform: {failure_topics: [oncall]}
"""
    cfg = parse_config(text)
    plan = apply_config(settings, db, cfg)
    assert "+ platform:" in plan.lines()  # the section is a line of the plan, as objects are
    specs = _specs(db)
    # out of the box: whom a failed job or pipeline notifies
    assert specs["churn-5xx-errors"]["alarm_actions"] == ["oncall"]
    assert specs["churn-p99-latency"]["ok_actions"] == ["oncall"]
    assert "alarm_actions" not in dump_config(current_config(db))  # unset stays unset
    moved = parse_config(text.replace("[oncall]}", "[pager]}"))
    assert diff_config(current_config(db), moved).lines() == ["~ platform: (failure_topics)"]
    apply_config(settings, db, moved)  # the platform topics changed: the alarms follow
    assert _specs(db)["churn-5xx-errors"]["alarm_actions"] == ["pager"]
    own = parse_config(text + "defaults: {endpoint_alarms: {alarm_actions: []}}\n")
    apply_config(settings, db, own)  # told otherwise: nobody
    assert _specs(db)["churn-5xx-errors"]["alarm_actions"] == []


def test_host_alarms_appear_when_a_host_reports_and_go_alarm(tmp_path: Path) -> None:
    db = _db(tmp_path)
    store = MetricStore(db)
    memory = [70.0, 93.5, 95.0, 97.25]  # one value per minute from T0
    store.put([MetricDatum("vigil/Host", "MemoryUtilization", {"Host": "web-1"},
                           T0 + dt.timedelta(minutes=i), v, unit="Percent")
               for i, v in enumerate(memory)])
    store.put([MetricDatum("vigil/Host", "DiskUtilization", {"Host": "web-1", "Mount": "/"},
                           T0, 40.0, unit="Percent")])
    save_defaults(db, PlatformDefaults.model_validate({"host_alarms": {"memory_percent": 92}}))
    assert sorted(ensure_platform_alarms(db, store)) == ["host-web-1-disk-/", "host-web-1-memory"]
    assert ensure_platform_alarms(db, store) == []  # nothing changes the second time
    mem = _specs(db)["host-web-1-memory"]
    assert mem["threshold"] == 92.0 and mem["treat_missing_data"] == "notBreaching"
    now = T0 + dt.timedelta(minutes=4)
    found = {t.alarm: t.new_state for t in evaluate_alarms(db, store, now)}
    # the reference: the last three minutes' averages, all above 92?
    expected = "ALARM" if bool(np.all(np.array(memory[-3:]) > 92.0)) else "OK"
    assert found["host-web-1-memory"] == expected == "ALARM"
    assert "host-web-1-disk-/" not in found or found["host-web-1-disk-/"] == "OK"


def test_endpoint_error_rate_and_p99_latency_go_alarm(tmp_path: Path) -> None:
    db = _db(tmp_path)
    store = MetricStore(db)
    upsert_endpoint(db, EndpointSpec(name="churn"))
    dims = {"EndpointName": "churn", "VariantName": "AllTraffic"}
    rng = np.random.default_rng(7)
    rates = [0.0, 0.02, 0.2, 0.3, 0.25]  # per minute: 3 of 5 above 0.05
    data = []
    for i, rate in enumerate(rates):
        n = 200
        errors = int(rate * n)
        data.append(MetricDatum("AWS/SageMaker", "Invocation5XXErrors", dims,
                                T0 + dt.timedelta(minutes=10 + i), None, sample_count=n,
                                sum=float(errors), minimum=0.0, maximum=1.0 if errors else 0.0))
    latencies: list[np.ndarray] = []
    for p in range(3):  # three 5-minute periods of slow requests
        values = rng.lognormal(mean=13.5, sigma=0.4, size=1200)  # around 0.7 s, tail > 1 s
        latencies.append(values)
        start = T0 + dt.timedelta(minutes=5 * p)
        data += [MetricDatum("AWS/SageMaker", "ModelLatency", dims,
                             start + dt.timedelta(seconds=float(j % 290)), float(v),
                             unit="Microseconds") for j, v in enumerate(values)]
    store.put(data)
    found = {t.alarm: t for t in evaluate_alarms(db, store, T0 + dt.timedelta(minutes=15))}
    breaches = sum(r > 0.05 for r in rates)
    assert found["churn-5xx-errors"].new_state == ("ALARM" if breaches >= 3 else "OK")
    p99 = [float(np.percentile(v, 99, method="inverted_cdf")) for v in latencies]
    want = "ALARM" if all(x > 1_000_000 for x in p99) else "OK"
    assert found["churn-p99-latency"].new_state == want == "ALARM"
