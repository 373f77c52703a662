"""Profiling: SageMaker's own numbers, every input kind, and mergeable chunks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vigil
from vigil.profile.categorical import CategoryCounter
from vigil.profile.dataset import DatasetProfile
from vigil.profile.kll import KLLSketch
from vigil.profile.types import classify


def test_baseline_of_sagemakers_own_rows_reproduces_its_files_byte_for_byte(
    sagemaker_csv: Path, sagemaker_dir: Path
):
    """The 100 rows behind SageMaker's real statistics.json, profiled by Vigil, give the same
    bytes: types, counts, mean, sum, population std_dev (Spark's Welford), min, max, the 10
    KLL buckets and the sketch; and the same suggested constraints."""
    base = vigil.suggest_baseline(sagemaker_csv, header=False)
    assert base.statistics.dumps() == (sagemaker_dir / "data_quality_statistics.json").read_text()
    assert base.constraints.dumps() == (sagemaker_dir / "data_quality_constraints.json").read_text()


def _frame(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 3, n)
    x[rng.choice(n, 50, replace=False)] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "k": rng.integers(-5, 50, n),
            "s": rng.choice(["CA", "NY", "TX", "WA"], n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )


def test_numbers_match_numpy_and_pandas():
    df = _frame()
    f = {s.name: s for s in vigil.suggest_baseline(df).statistics.features}
    x = df["x"].dropna().to_numpy()
    ns = f["x"].numerical_statistics
    assert f["x"].inferred_type == "Fractional" and f["k"].inferred_type == "Integral"
    assert ns.common.num_present == len(x) and ns.common.num_missing == 50
    assert ns.mean == pytest.approx(x.mean(), rel=1e-15)
    assert ns.sum == pytest.approx(x.sum(), rel=1e-15)
    assert ns.std_dev == pytest.approx(np.std(x), rel=1e-12)  # population std
    assert (ns.min, ns.max) == (x.min(), x.max())
    buckets = ns.distribution.kll.buckets
    assert len(buckets) == 10
    assert sum(b.count for b in buckets) == len(x)
    edges = np.linspace(x.min(), x.max(), 11)
    assert [b.lower_bound for b in buckets] == pytest.approx(edges[:-1], rel=1e-12)
    ss = f["s"].string_statistics
    assert ss.distinct_count == 4.0
    counts = df["s"].value_counts().to_dict()
    assert {b.value: b.count for b in ss.distribution.categorical.buckets} == counts


def test_every_input_kind_gives_the_same_statistics(tmp_path: Path):
    df = _frame(2000)
    df_no_nan = df.assign(x=df["x"].fillna(0.5))
    table = pa.Table.from_pandas(df_no_nan, preserve_index=False)
    pq.write_table(table, tmp_path / "d.parquet")
    df_no_nan.to_csv(tmp_path / "d.csv", index=False)
    df_no_nan.to_csv(tmp_path / "nh.csv", index=False, header=False)
    (tmp_path / "d.jsonl").write_text(df_no_nan.to_json(orient="records", lines=True))
    ref = vigil.suggest_baseline(table).statistics
    for data, kwargs in [
        (df_no_nan, {}),
        (pl.from_pandas(df_no_nan), {}),
        (tmp_path / "d.parquet", {}),
        (str(tmp_path / "d.csv"), {}),
        (str(tmp_path / "d.jsonl"), {}),
    ]:
        got = vigil.suggest_baseline(data, **kwargs).statistics
        assert [(f.name, f.inferred_type) for f in got.features] == [
            (f.name, f.inferred_type) for f in ref.features
        ], data
        for a, b in zip(got.features, ref.features):
            if a.numerical_statistics:
                assert a.numerical_statistics.sum == pytest.approx(b.numerical_statistics.sum)
                assert a.numerical_statistics.common == b.numerical_statistics.common
            else:
                assert a.string_statistics == b.string_statistics
    nh = vigil.suggest_baseline(str(tmp_path / "nh.csv"), header=False).statistics
    assert [f.name for f in nh.features] == ["_c0", "_c1", "_c2"]
    assert nh.features[0].numerical_statistics.mean == pytest.approx(
        ref.features[0].numerical_statistics.mean
    )


def test_capture_files_give_input_and_output_columns(sagemaker_dir: Path):
    path = sagemaker_dir / "data_capture_csv_encoding_from_notebook_output.jsonl"
    only_in = vigil.suggest_baseline(path).statistics
    both = vigil.suggest_baseline(path, capture_content="both").statistics
    assert only_in.dataset.item_count == 3 and len(only_in.features) == 69
    assert [f.name for f in both.features][-1] == "_o0"
    out = both.feature("_o0").numerical_statistics
    assert out.max == 0.3791300654411316 and out.common.num_present == 3
    assert both.feature("_c0").inferred_type == "Integral"
    assert both.feature("_c2").inferred_type == "Fractional"
    batch = vigil.suggest_baseline(
        sagemaker_dir / "data_capture_json_encoding.jsonl", capture_content="both"
    ).statistics
    assert batch.dataset.item_count == 6  # two records of three instances each
    assert batch.feature("_o0").numerical_statistics.sum == pytest.approx(2 * (3.5 + 4 + 5.5))


def test_type_inference_follows_deequs_rule():
    cases = {
        ("1", "2", "-3"): "Integral",
        ("1", "2.5", None): "Fractional",
        ("1e3", "7"): "Fractional",
        ("1", "abc"): "String",
        ("true", "false"): "String",
        (None, None): "Unknown",
    }
    for values, expected in cases.items():
        counts, _ = classify(pa.array(list(values), pa.string()))
        assert counts.inferred_type() == expected, values
    counts, numbers = classify(pa.array([1.0, np.nan, None]))
    assert (counts.fractional, counts.missing) == (1, 2)  # NaN counts as missing
    assert numbers.tolist() == [1.0]


def _chunks(table: pa.Table, sizes: list[int]):
    start = 0
    for size in sizes:
        yield table.slice(start, size)
        start += size
    if start < table.num_rows:
        yield table.slice(start)


def test_merged_chunk_profiles_equal_the_whole_profile():
    rng = np.random.default_rng(3)
    n = 300_000
    x = rng.lognormal(0, 1, n)
    x[::97] = np.nan
    table = pa.table(
        {
            "x": x,
            "i": rng.integers(0, 1000, n),
            "s": rng.choice([f"v{j}" for j in range(30)], n),
            "t": pa.array([str(v) for v in rng.integers(0, 5, n)]),
        }
    )
    whole = DatasetProfile()
    whole.update(table)
    merged = DatasetProfile()
    for chunk in _chunks(table, [1000, 77_777, 50_000, 3]):
        part = DatasetProfile()
        part.update(chunk)
        merged.merge(part)
    assert merged.item_count == whole.item_count == n
    for name in table.column_names:
        a, b = merged.columns[name], whole.columns[name]
        assert a.types == b.types, name  # exact: missing and per-type counts
        assert (a.moments.count, a.moments.minimum, a.moments.maximum) == (
            b.moments.count,
            b.moments.minimum,
            b.moments.maximum,
        )
        assert a.moments.total == b.moments.total  # exact: extended-precision sum
        assert a.moments.std_dev == pytest.approx(b.moments.std_dev, rel=1e-12, nan_ok=True)
        if a.kll.n:
            assert a.kll.n == b.kll.n
            qs = np.linspace(0.01, 0.99, 99)
            exact = np.sort(table[name].to_numpy(zero_copy_only=False).astype(float))
            exact = exact[~np.isnan(exact)]
            for sk in (a.kll, b.kll):
                cdf = np.asarray(sk.cdf(np.quantile(exact, qs)))
                truth = np.searchsorted(exact, np.quantile(exact, qs), side="right") / len(exact)
                assert np.max(np.abs(cdf - truth)) <= KLLSketch.rank_error()
    sa, sb = merged.columns["s"].categories, whole.columns["s"].categories
    assert sa.items() == sb.items() and sa.distinct_count() == 30.0


def test_high_cardinality_strings_switch_to_sketches_within_error():
    values = [f"id-{i}" for i in range(30_000)]
    a, b = CategoryCounter(cap=1000), CategoryCounter(cap=1000)
    a.update_counts((v, 1) for v in values[:20_000])
    b.update_counts((v, 1) for v in values[10_000:])
    a.merge(b)
    assert not a.exact
    # HLL with lg_k=12: relative standard error 1.04/sqrt(4096) = 1.6%; allow 3 sigma
    assert a.distinct_count() == pytest.approx(30_000, rel=3 * 1.04 / 64)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)), min_size=1, max_size=300),
    st.integers(1, 299),
)
def test_merge_property_small_inputs(values: list[float | None], cut: int):
    table = pa.table({"v": pa.array(values, pa.float64())})
    whole, left, right = DatasetProfile(), DatasetProfile(), DatasetProfile()
    whole.update(table)
    left.update(table.slice(0, cut))
    right.update(table.slice(cut))
    left.merge(right)
    a, b = left.columns["v"], whole.columns["v"]
    assert a.types == b.types
    assert a.moments.total == b.moments.total
    assert (a.moments.minimum, a.moments.maximum) == (b.moments.minimum, b.moments.maximum)
    present = sorted(v for v in values if v is not None)
    if present:
        # below the sketch's level-0 capacity every value is kept: exact quantiles
        items, _ = a.kll.weighted_items()
        assert list(items) == present


def test_statistics_json_shape_for_strings(tmp_path: Path):
    base = vigil.suggest_baseline(pa.table({"state": ["CA", "NY", "CA", None]}))
    base.save(tmp_path)
    data = json.loads((tmp_path / "statistics.json").read_text())
    feat = data["features"][0]
    assert feat["inferred_type"] == "String"
    assert feat["string_statistics"]["common"] == {"num_present": 3, "num_missing": 1}
    assert feat["string_statistics"]["distinct_count"] == 2.0
    assert feat["string_statistics"]["distribution"]["categorical"]["buckets"] == [
        {"value": "CA", "count": 2},
        {"value": "NY", "count": 1},
    ]
    cons = json.loads((tmp_path / "constraints.json").read_text())
    assert cons["features"][0]["string_constraints"]["domains"] == ["CA", "NY"]
    assert cons["features"][0]["completeness"] == 0.75


def test_exact_sum_equals_rational_arithmetic():
    """The sum accumulator is exact: it equals the sum in rational arithmetic, also for
    values spanning the whole double range, subnormals and cancellation."""
    from fractions import Fraction

    from vigil.profile.column import exact_sum

    rng = np.random.default_rng(21)
    cases = [
        rng.normal(size=5000),
        rng.lognormal(0, 5, size=5000) * rng.choice([-1, 1], 5000),
        np.ldexp(rng.normal(size=3000), rng.integers(-1070, 1000, 3000)),
        np.array([1e16, 1.0, -1e16, 5e-324, -0.0, 0.1, 0.2, 0.3]),
        rng.integers(-(10**9), 10**9, 4000).astype(float),
    ]
    for x in cases:
        x = x[np.isfinite(x)]
        assert Fraction(exact_sum(x), 1 << 1200) == sum(map(Fraction, x.tolist()))


def test_profiles_pickle_with_sketched_categories():
    import pickle

    p = DatasetProfile(category_cap=50)
    p.update(pa.table({"id": [f"u{i}" for i in range(500)], "x": np.arange(500.0)}))
    q = pickle.loads(pickle.dumps(p))
    assert not q.columns["id"].categories.exact
    assert q.to_statistics() == p.to_statistics()


def test_large_csv_streams_in_blocks_with_the_same_result(tmp_path: Path, monkeypatch):
    """A CSV larger than one read block arrives as several chunks (bounded memory) and gives
    the statistics of reading it whole."""
    from vigil.io import readers

    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"a": rng.normal(size=20_000).round(6), "b": rng.choice(["x", "y"],
                                                                                  20_000)})
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    whole = vigil.suggest_baseline(pa.Table.from_pandas(frame)).statistics
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 16 << 10)  # 16 KiB blocks
    tables = list(readers.iter_tables(str(path)))
    assert len(tables) > 10 and max(t.num_rows for t in tables) < 2000
    streamed = vigil.suggest_baseline(str(path)).statistics
    a, b = streamed.feature("a").numerical_statistics, whole.feature("a").numerical_statistics
    assert (a.sum, a.min, a.max, a.common) == (b.sum, b.min, b.max, b.common)
    assert streamed.feature("b").string_statistics == whole.feature("b").string_statistics
