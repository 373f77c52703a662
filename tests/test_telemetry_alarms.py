"""Alarms on serving telemetry produced through the middleware: ModelLatency p99 and
Invocation5XXErrors Average go to ALARM (and stay OK on healthy traffic), evaluated by the
same calls the server's loop makes (``evaluate_many``)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from telemetry_apps import ModelTimer, Wall
from vigil.alerts.alarms import ALARM, INSUFFICIENT_DATA, OK, MetricAlarm, evaluate_many
from vigil.capture import ServingTelemetry, TelemetryMiddleware, store_sink
from vigil.store import Database, MetricStore

UTC = timezone.utc
T0 = 1_714_557_600
DIMS = {"EndpointName": "churn", "VariantName": "AllTraffic"}

P99 = MetricAlarm(name="churn-p99", namespace="AWS/SageMaker", metric_name="ModelLatency",
                  dimensions=DIMS, statistic="p99", period=60, evaluation_periods=3,
                  threshold=100_000, comparison_operator="GreaterThanThreshold")  # 100 ms
ERRORS = MetricAlarm(name="churn-5xx", namespace="AWS/SageMaker",
                     metric_name="Invocation5XXErrors", dimensions=DIMS, statistic="Average",
                     period=60, evaluation_periods=3, datapoints_to_alarm=2, threshold=0.05,
                     comparison_operator="GreaterThanThreshold",
                     treat_missing_data="notBreaching")  # fmt: skip


def serve(store: MetricStore, minutes: list[tuple[float, float]], seed: int = 1) -> None:
    """1,000 requests a minute through TelemetryMiddleware; per minute (share of requests
    taking 0.3 to 0.9 s, share answering 503)."""
    timer, wall = ModelTimer(), Wall(T0)
    telemetry = ServingTelemetry("churn", sink=store_sink(store), clock=wall)
    rng = np.random.default_rng(seed)
    plan: list[tuple[int, int]] = []

    async def model(scope: dict, receive: object, send: object) -> None:
        latency, status = plan.pop()
        timer.ns += latency
        await send({"type": "http.response.start", "status": status})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"0.1"})  # type: ignore[operator]

    app = TelemetryMiddleware(model, telemetry, timer=timer)

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def send(message: dict) -> None:
        pass

    async def run() -> None:
        for minute, (slow, failing) in enumerate(minutes):
            for i in range(1000):
                latency = (rng.uniform(3e8, 9e8) if rng.random() < slow
                           else rng.lognormal(np.log(5e6), 0.3))  # fmt: skip
                plan.append((int(latency), 503 if rng.random() < failing else 200))
                wall.now = T0 + 60 * minute + i * 0.05
                await app({"type": "http", "path": "/invocations"}, receive, send)

    asyncio.run(run())
    telemetry.close()


@pytest.fixture
def store() -> MetricStore:
    db = Database("sqlite://")
    db.create_all()
    return MetricStore(db)


def at(minutes: int) -> datetime:
    return datetime.fromtimestamp(T0, UTC) + timedelta(minutes=minutes)


def test_slow_and_failing_minutes_set_off_both_alarms(store: MetricStore) -> None:
    # minutes 0-1 healthy; 2-4: 3 % of requests take 0.3-0.9 s and 12 % answer 503
    serve(store, [(0.0, 0.0), (0.0, 0.0), (0.03, 0.12), (0.03, 0.12), (0.03, 0.12)])
    healthy = evaluate_many(store, [P99, ERRORS], at(2), {})
    assert healthy.states == {"churn-p99": OK, "churn-5xx": OK}
    result = evaluate_many(store, [P99, ERRORS], at(5), healthy.states)
    assert result.states == {"churn-p99": ALARM, "churn-5xx": ALARM}
    reasons = {e.alarm_name: e.reason for e in result.transitions}
    assert reasons["churn-p99"].startswith("Threshold Crossed: 3 out of the last 3 datapoints")
    assert reasons["churn-5xx"].startswith("Threshold Crossed: 3 out of the last 3 datapoints")
    # the p99 the alarm saw is the one of the latencies, from the store's statistic sets
    row = store.query("AWS/SageMaker", "ModelLatency", DIMS, at(4), at(5), 60, ["p99"])[0]
    assert 300_000 * (1 - 1 / 256) <= row["p99"] <= 900_000 * (1 + 1 / 256)


def test_healthy_traffic_stays_ok_and_no_traffic_is_insufficient(store: MetricStore) -> None:
    assert evaluate_many(store, [P99], at(5), {}).states == {"churn-p99": INSUFFICIENT_DATA}
    # 0.5 % slow requests do not move p99; 2 % errors stay under the 5 % threshold
    serve(store, [(0.005, 0.02)] * 5, seed=2)
    result = evaluate_many(store, [P99, ERRORS], at(5), {})
    assert result.states == {"churn-p99": OK, "churn-5xx": OK}
