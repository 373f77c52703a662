"""Serving telemetry's per-minute statistic sets, read back through the real metric store and
checked against NumPy's nearest-rank percentiles (``method="inverted_cdf"``) of the raw values."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from fractions import Fraction

import numpy as np
import pytest

from vigil.errors import ConfigError
from vigil.metrics.serving import (
    DEFAULT_BITS,
    ERRORS_4XX,
    ERRORS_5XX,
    INVOCATIONS,
    MODEL_LATENCY,
    NAMESPACE,
    OVERHEAD_LATENCY,
    ServingAggregator,
    quantise,
)
from vigil.store import Database, MetricStore

UTC = timezone.utc
T0 = 1_714_557_600  # 2024-05-01 10:00:00 UTC, a minute boundary
DIMS = {"EndpointName": "churn", "VariantName": "AllTraffic"}
BOUND = 2.0**-DEFAULT_BITS  # the documented relative error
STATS = ["SampleCount", "Sum", "Average", "Minimum", "Maximum", "p50", "p90", "p99", "p99.9"]


class Wall:
    """A settable wall clock (epoch seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> MetricStore:
    db = Database("sqlite://")
    db.create_all()
    return MetricStore(db)


def query(store: MetricStore, name: str, minutes: int = 3, dims: dict | None = DIMS) -> list[dict]:
    start = datetime.fromtimestamp(T0, UTC)
    return store.query(NAMESPACE, name, dims, start, start + timedelta(minutes=minutes), 60, STATS)


def close_to(got: float, want: float, bound: float = BOUND) -> bool:
    return abs(got - want) <= abs(want) * bound + 1e-9


def exact_rank(values: np.ndarray, p: str) -> float:
    """Nearest rank by brute force in exact arithmetic: the ceil(p% x n)-th smallest value.
    (NumPy's inverted_cdf agrees except where p% x n is an integer that floats miss: p99.9
    of 5,000 values is the 4,995th, but 99.9 / 100 * 5000 = 4995.000000000001 in floats.)"""
    rank = max(1, math.ceil(Fraction(p) / 100 * len(values)))
    return float(np.sort(values)[rank - 1])


def numpy_stats(values_us: np.ndarray) -> dict[str, float]:
    out = {
        "SampleCount": float(len(values_us)),
        "Sum": float(values_us.sum()),
        "Average": float(values_us.mean()),
        "Minimum": float(values_us.min()),
        "Maximum": float(values_us.max()),
        **{f"p{p}": float(np.percentile(values_us, p, method="inverted_cdf"))
           for p in (50, 90, 99)},
        "p99.9": exact_rank(values_us, "99.9"),
    }  # fmt: skip
    for p in ("50", "90", "99"):
        assert exact_rank(values_us, p) == out[f"p{p}"]  # the two references agree
    return out


def test_quantise_bound_and_monotone_by_brute_force() -> None:
    values = np.unique(np.concatenate([np.arange(0, 70_000), np.geomspace(1, 1e12, 50_000)]))
    q = np.array([quantise(int(v)) for v in values])
    v = values.astype(np.int64)
    assert np.all(np.abs(q - v) <= v * BOUND)
    assert np.all(np.diff(q) >= 0)  # monotone: nearest-rank percentiles commute with it
    assert np.array_equal(q[v < 2**DEFAULT_BITS], v[v < 2**DEFAULT_BITS])
    for bits in (4, 12):
        assert all(abs(quantise(int(x), bits) - int(x)) <= int(x) * 2.0**-bits for x in v[::97])


def test_latency_percentiles_through_the_store_match_numpy(store: MetricStore) -> None:
    rng = np.random.default_rng(11)
    wall = Wall(T0)
    agg = ServingAggregator("churn", clock=wall)
    raw: dict[int, list[tuple[int, int]]] = {0: [], 1: [], 2: []}
    for minute, n in ((0, 5000), (1, 1200), (2, 37)):
        model = rng.lognormal(mean=np.log(4e6), sigma=0.8, size=n).astype(np.int64) + 1
        overhead = rng.integers(2_000, 90_000, size=n)
        for i, (m, o) in enumerate(zip(model.tolist(), overhead.tolist())):
            wall.now = T0 + 60 * minute + 59.999 * i / n
            agg.record(m, o, 200)
            raw[minute].append((m, o))
    wall.now = T0 + 180
    data = agg.drain()
    assert agg.drain() == []  # drained minutes are forgotten
    store.put(data)
    for name, column in ((MODEL_LATENCY, 0), (OVERHEAD_LATENCY, 1)):
        rows = query(store, name)
        assert [r["Timestamp"].timestamp() for r in rows] == [T0, T0 + 60, T0 + 120]
        for row, minute in zip(rows, (0, 1, 2)):
            values = np.array([pair[column] for pair in raw[minute]], dtype=np.float64) / 1000
            want = numpy_stats(values)
            assert row["Unit"] == "Microseconds"
            assert row["SampleCount"] == want["SampleCount"]  # exact
            for stat in STATS[1:]:
                assert close_to(row[stat], want[stat]), (name, minute, stat, row[stat], want[stat])
    # the store keeps one set per distinct quantised value, never one row per request
    model_sets = [d for d in data if d.name == MODEL_LATENCY]
    assert len(model_sets) < 0.6 * (5000 + 1200 + 37)
    assert all(d.minimum == d.maximum for d in model_sets)


def test_invocations_and_error_rates_match_brute_force(store: MetricStore) -> None:
    rng = np.random.default_rng(5)
    wall = Wall(T0 + 1)
    agg = ServingAggregator("churn", clock=wall)
    statuses = {0: rng.choice([200, 201, 400, 404, 429, 500, 503], size=900).tolist(),
                1: [200] * 50, 2: [503] * 20}  # fmt: skip
    for minute, codes in statuses.items():
        wall.now = T0 + 60 * minute + 1
        for code in codes:
            agg.record(1_000_000, 10_000, code)
    wall.now = T0 + 200
    store.put(agg.drain())
    invocations = query(store, INVOCATIONS)
    four, five = query(store, ERRORS_4XX), query(store, ERRORS_5XX)
    for minute, codes in statuses.items():
        n = len(codes)
        n4 = sum(400 <= c < 500 for c in codes)
        n5 = sum(c >= 500 for c in codes)
        assert invocations[minute]["Sum"] == invocations[minute]["SampleCount"] == n
        assert four[minute]["Sum"] == n4 and four[minute]["SampleCount"] == n
        assert five[minute]["Sum"] == n5
        assert five[minute]["Average"] == pytest.approx(n5 / n)
        assert four[minute]["Average"] == pytest.approx(n4 / n)
        assert five[minute]["Minimum"] == (1.0 if n5 == n else 0.0)
        assert five[minute]["Maximum"] == (1.0 if n5 else 0.0)
    assert five[1]["Average"] == 0.0 and five[2]["Average"] == 1.0


def test_workers_publishing_the_same_minute_combine_exactly(store: MetricStore) -> None:
    rng = np.random.default_rng(3)
    wall = Wall(T0 + 10)
    workers = [ServingAggregator("churn", clock=wall) for _ in range(3)]
    everything: list[int] = []
    for i, worker in enumerate(workers):
        latencies = rng.gamma(2.0, 1.5e6 * (i + 1), size=700).astype(np.int64) + 1
        for ns in latencies.tolist():
            worker.record(ns, 5_000, 500 if ns > 8e6 else 200)
        everything += latencies.tolist()
    wall.now = T0 + 60
    for worker in workers:
        store.put(worker.drain())
    row = query(store, MODEL_LATENCY, minutes=1)[0]
    want = numpy_stats(np.array(everything, dtype=np.float64) / 1000)
    assert row["SampleCount"] == 2100
    for stat in STATS[1:]:
        assert close_to(row[stat], want[stat]), stat
    five = query(store, ERRORS_5XX, minutes=1)[0]
    assert five["Average"] == pytest.approx(np.mean(np.array(everything) > 8e6))


def test_a_minute_is_published_only_once_it_is_over_unless_final() -> None:
    wall = Wall(T0 + 5)
    agg = ServingAggregator("churn", "blue", clock=wall)
    agg.record(1000, 10, 200)
    assert agg.drain() == []  # the minute is still running
    agg.record(2000, 10, 200)  # same minute, after a drain: merged, not lost
    wall.now = T0 + 61
    agg.record(3000, 10, 200)
    data = agg.drain()
    assert {d.timestamp.timestamp() for d in data} == {T0}
    assert [d.sample_count for d in data if d.name == INVOCATIONS] == [2.0]
    assert data[0].dimensions == {"EndpointName": "churn", "VariantName": "blue"}
    final = agg.drain(final=True)
    assert [d.sample_count for d in final if d.name == INVOCATIONS] == [1.0]
    assert agg.drain(final=True) == []
    live = agg.live()
    assert (live.requests, sum(live.model.values())) == (3, 3)


def test_a_clock_stepping_back_resumes_its_minute() -> None:
    wall = Wall(T0 + 61)
    agg = ServingAggregator("churn", clock=wall)
    agg.record(1000, 10, 200)
    wall.now = T0 + 1
    agg.record(1000, 10, 404)
    wall.now = T0 + 62
    agg.record(1000, 10, 200)
    wall.now = T0 + 200
    counts = {(d.timestamp.timestamp(), d.name): d.sample_count for d in agg.drain()}
    assert counts[(T0, INVOCATIONS)] == 1.0 and counts[(T0 + 60, INVOCATIONS)] == 2.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"endpoint": ""}, "endpoint: expected a name"),
        ({"endpoint": "e", "variant": "x" * 256}, "variant: expected a name"),
        ({"endpoint": "e", "bits": 3}, "bits: expected an integer from 4 to 20"),
        ({"endpoint": "e", "bits": True}, "bits: expected an integer"),
    ],
)
def test_bad_configuration_names_the_field(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ServingAggregator(**kwargs)
