"""Tests for the Deequ-layout KLL sketch against independent references.

References: numpy's exact sorted data (empirical CDF, ``np.quantile(method="inverted_cdf")``,
``np.histogram`` with explicit edges) and the buckets of a real SageMaker statistics.json.
"""

from __future__ import annotations

import doctest
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vigil.profile.kll as kll_module
from vigil.profile.kll import KLLSketch

STATS = Path("/work/shared/data/sagemaker/data_quality_statistics.json")
N = 1_000_000
LEVEL0 = 2050  # Deequ capacity of level 0 for k=2048: 2 * (ceil(2048 / 2) + 1)


def _features() -> list[dict]:
    return json.loads(STATS.read_text())["features"] if STATS.exists() else []


def _exact_cdf(sorted_data: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_data, x, side="right") / len(sorted_data)


def _max_error(sketch: KLLSketch, sorted_data: np.ndarray) -> float:
    """Max |sketch cdf - exact cdf| over data quantiles, sketch items and their neighbours."""
    items = sketch.weighted_items()[0]
    grid = np.quantile(sorted_data, np.linspace(0.0, 1.0, 5001), method="inverted_cdf")
    x = np.unique(np.concatenate([grid, items, np.nextafter(items, -np.inf)]))
    return float(np.max(np.abs(sketch.cdf(x) - _exact_cdf(sorted_data, x))))


def _weight(levels: list[np.ndarray] | list[list[float]]) -> int:
    return sum(len(level) * 2**i for i, level in enumerate(levels))


@pytest.fixture(scope="module")
def datasets() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20240601)
    return {
        "normal": rng.normal(3.0, 2.0, N),
        "lognormal": rng.lognormal(0.0, 1.5, N),
        "uniform": rng.uniform(-1.0, 1.0, N),
        "duplicated": rng.choice(
            np.array([0.0, 1.0, 2.5, 7.0, 100.0]), N, p=[0.5, 0.2, 0.2, 0.09, 0.01]
        ),
    }


def test_docstring_example() -> None:
    assert doctest.testmod(kll_module, raise_on_error=True).attempted > 0


@pytest.mark.skipif(not STATS.exists(), reason="SageMaker sample file not available")
@pytest.mark.parametrize("name", ["_c0", "_c1", "_c2", "_c3", "_c4", "_c5"])
def test_sagemaker_buckets_reproduced_exactly(name: str) -> None:
    doc = json.loads(STATS.read_text())
    assert doc["version"] == 0.0
    (feature,) = [f for f in doc["features"] if f["name"] == name]
    stats = feature["numerical_statistics"]
    kll = stats["distribution"]["kll"]
    sketch = KLLSketch.from_data(kll["sketch"]["data"], **kll["sketch"]["parameters"])
    assert (sketch.k, sketch.c) == (2048, 0.64)
    assert sketch.n == stats["common"]["num_present"] == 100
    expected = [(b["lower_bound"], b["upper_bound"], b["count"]) for b in kll["buckets"]]
    assert sketch.buckets(stats["min"], stats["max"]) == expected
    assert sketch.to_data() == kll["sketch"]["data"]


def test_exact_below_level0_capacity() -> None:
    data = np.random.default_rng(1).normal(size=LEVEL0)
    sketch = KLLSketch()
    sketch.update(data[:700])
    sketch.update(data[700:])
    assert sketch.n == LEVEL0 and len(sketch.levels) == 1
    np.testing.assert_array_equal(sketch.levels[0], data)  # kept in arrival order
    srt = np.sort(data)
    x = np.concatenate([data, data + 1e-9, [-10.0, 10.0]])
    np.testing.assert_array_equal(sketch.cdf(x), _exact_cdf(srt, x))
    np.testing.assert_array_equal(sketch.rank_exclusive(x), np.searchsorted(srt, x, "left"))
    q = (np.arange(1000) + 0.3) / 1000
    np.testing.assert_array_equal(sketch.quantile(q), np.quantile(data, q, method="inverted_cdf"))
    assert sketch.quantile(0.0) == srt[0] and sketch.quantile(1.0) == srt[-1]
    sketch.update(np.array([0.5]))  # one value over the capacity triggers a compaction
    assert len(sketch.levels) == 2 and sketch.n == LEVEL0 + 1


def test_deequ_compaction_schedule() -> None:
    # k=4: capacities 2*(ceil(4*0.64**h/2)+1) = 6, 6, 4, ...
    one_by_one = KLLSketch(k=4)
    for v in range(1, 8):
        one_by_one.update(np.array([v]))
    # 7 > 6 held: sort all but the trailing odd item, keep offset 0 -> 1, 3, 5
    assert one_by_one.to_data() == [[7.0], [1.0, 3.0, 5.0]]
    for v in range(8, 17):
        one_by_one.update(np.array([v]))
    # 13 > 12 held at 16: level 0 (7..16) compacts with the flipped offset 1
    assert one_by_one.to_data() == [[], [1.0, 3.0, 5.0, 8.0, 10.0, 12.0, 14.0, 16.0]]
    chunk = KLLSketch(k=4)
    chunk.update(np.arange(16, 0, -1))
    assert chunk.to_data() == [[], [1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0]]
    chunk.merge(one_by_one)  # 16 >= 12 held: compacts level 1 into a new level 2
    assert chunk.n == 32 and _weight(chunk.levels) == 32
    assert [len(level) for level in chunk.levels] == [0, 0, 8]


def test_nan_and_dtypes() -> None:
    sketch = KLLSketch()
    sketch.update(np.array([1.0, np.nan, 2.0, np.nan]))
    sketch.update(np.array([3, 4], dtype=np.int64))
    sketch.update(np.array([5.5], dtype=np.float32))
    sketch.update(np.array([], dtype=np.float64))
    assert sketch.n == 5
    assert sketch.to_data() == [[1.0, 2.0, 3.0, 4.0, 5.5]]
    assert all(level.dtype == np.float64 for level in sketch.levels)


def test_empty_sketch() -> None:
    sketch = KLLSketch()
    assert sketch.n == 0 and sketch.to_data() == [[]]  # Deequ always holds one compactor
    assert np.isnan(sketch.cdf(1.0)) and np.isnan(sketch.quantile(0.5))
    assert sketch.rank_inclusive(1.0) == 0.0
    assert [b[2] for b in sketch.buckets(0.0, 1.0)] == [0.0] * 10
    assert KLLSketch.from_data([]).to_data() == [[]]
    assert KLLSketch.from_data([[]]).n == 0


@pytest.mark.parametrize("name", ["normal", "lognormal", "uniform", "duplicated"])
@pytest.mark.parametrize("seed", [None, 7])
def test_error_bound_chunks_and_merge(datasets: dict, name: str, seed: int | None) -> None:
    data = datasets[name]
    srt = np.sort(data)
    bound = KLLSketch.rank_error()
    errors = {}
    for chunk in (N, 262_144, 65_536, 10_007, 1_000):
        sketch = KLLSketch(seed=seed)
        for start in range(0, N, chunk):
            sketch.update(data[start : start + chunk])
        assert sketch.n == N == _weight(sketch.levels)
        errors[chunk] = _max_error(sketch, srt)
    cuts = [0, 1, 999, 50_000, 123_457, 400_000, 400_001, 777_777, N]
    parts = []
    for lo, hi in itertools.pairwise(cuts):
        part = KLLSketch(seed=seed)
        for start in range(lo, hi, 65_536):
            part.update(data[start : min(hi, start + 65_536)])
        parts.append(part)
    merged = KLLSketch(seed=seed)
    for part in parts:
        merged.merge(part)
    assert merged.n == N == _weight(merged.levels)
    errors["merged"] = _max_error(merged, srt)
    assert max(errors.values()) <= bound, errors
    # a quantile estimate v has exact rank(<= v) >= q - bound and rank(< v) <= q + bound
    q = np.linspace(0.0, 1.0, 101)
    est = merged.quantile(q)
    assert np.all(np.searchsorted(srt, est, "right") / N >= q - bound)
    assert np.all(np.searchsorted(srt, est, "left") / N <= q + bound)
    assert np.all(est <= np.quantile(data, np.minimum(q + bound, 1.0), method="inverted_cdf"))


def test_rank_error_scales_with_k() -> None:
    data = np.random.default_rng(3).lognormal(size=300_000)
    srt = np.sort(data)
    for k in (128, 512):
        sketch = KLLSketch(k=k)
        for start in range(0, len(data), 5_000):
            sketch.update(data[start : start + 5_000])
        assert _max_error(sketch, srt) <= KLLSketch.rank_error(k)
    assert KLLSketch.rank_error(128) > KLLSketch.rank_error(512) > KLLSketch.rank_error()


def test_round_trip_and_level_weights(datasets: dict) -> None:
    sketch = KLLSketch()
    for start in range(0, N, 100_000):
        sketch.update(datasets["lognormal"][start : start + 100_000])
    data = json.loads(json.dumps(sketch.to_data()))
    assert len(data) > 1 and sketch.n == N == _weight(data)
    back = KLLSketch.from_data(data, k=2048.0, c=0.64)
    assert back.n == sketch.n and back.to_data() == data
    for mine, theirs in zip(sketch.levels, back.levels, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    values, weights = back.weighted_items()
    assert np.all(np.diff(values) >= 0) and weights.sum() == N
    assert set(np.unique(weights)) <= {2.0**i for i in range(len(data))}
    np.testing.assert_array_equal(back.buckets(0.0, 50.0), sketch.buckets(0.0, 50.0))


def test_merge_and_copy_leave_others_untouched() -> None:
    rng = np.random.default_rng(5)
    a, b = KLLSketch(seed=1), KLLSketch(seed=2)
    a.update(rng.normal(size=300_000))
    b.update(rng.normal(size=5_000))
    before_b, before_a = b.to_data(), a.to_data()
    c = a.copy()
    a.merge(b)
    assert b.to_data() == before_b and c.to_data() == before_a
    assert a.n == 305_000 and c.n == 300_000
    empty = KLLSketch()
    empty.merge(c)
    c.merge(KLLSketch())
    assert empty.n == c.n == 300_000


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=300
    ),
    split=st.integers(min_value=0, max_value=300),
    queries=st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=20),
)
def test_exact_regime_property(values: list[float], split: int, queries: list[float]) -> None:
    data = np.array(values, dtype=np.float64)
    sketch = KLLSketch()
    sketch.update(data[:split])
    sketch.update(data[split:])
    assert sketch.n == len(data) and sketch.to_data() == [data.tolist()]
    srt = np.sort(data)
    x = np.concatenate([data, np.array(queries)])
    np.testing.assert_array_equal(sketch.rank_inclusive(x), np.searchsorted(srt, x, "right"))
    np.testing.assert_array_equal(sketch.rank_exclusive(x), np.searchsorted(srt, x, "left"))
    q = np.linspace(0.0, 1.0, 11)
    est = sketch.quantile(q)  # smallest value whose inclusive rank reaches q * n
    assert np.all(np.searchsorted(srt, est, "right") >= q * len(data))
    assert np.all(np.searchsorted(srt, est, "left") < np.maximum(q * len(data), 1))
    lo, hi = float(srt[0]), float(srt[-1])
    buckets = sketch.buckets(lo, hi)
    edges = [b[0] for b in buckets] + [buckets[-1][1]]
    assert edges == [lo + (hi - lo) * i / 10 for i in range(11)]
    if hi > lo and np.all(np.diff(edges) > 0):
        expected, _ = np.histogram(data, bins=np.array(edges))
        assert [b[2] for b in buckets] == expected.astype(float).tolist()
    if edges[-1] == hi:  # lo + (hi - lo) can round below hi, as in Deequ
        assert sum(b[2] for b in buckets) == len(data)
