"""Profiling on several cores gives the same profile: column threads, the Parquet reader's
read-ahead, and the sum of squares taken as OpenBLAS takes it on two threads."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from threadpoolctl import ThreadpoolController, threadpool_limits

from vigil.errors import ConfigError
from vigil.io.readers import iter_tables
from vigil.profile.blas import single_threaded, sum_squares
from vigil.profile.dataset import DatasetProfile, default_threads


def _openblas() -> bool:
    return any(i["internal_api"] == "openblas" for i in ThreadpoolController().info())


@pytest.mark.skipif(not _openblas(), reason="numpy is not linked with OpenBLAS")
@pytest.mark.parametrize("n", [1, 9_999, 10_000, 10_001, 10_002, 65_537, 100_000, 262_144])
def test_sum_squares_is_openblas_ddot_on_two_threads(n: int):
    g = np.random.default_rng(n)
    for x in (g.lognormal(0.0, 2.0, n), g.normal(1e6, 1e5, n) - 1e6):
        with threadpool_limits(2, user_api="blas"):
            reference = float(np.dot(x, x))  # OpenBLAS itself, two threads
        with single_threaded():
            assert sum_squares(x) == reference
        assert math.isclose(sum_squares(x), math.fsum(x * x), rel_tol=1e-12)


def test_single_threaded_limits_blas_and_restores_it_when_the_last_user_leaves():
    controller = ThreadpoolController()
    blas = [i for i in controller.info() if i["user_api"] == "blas"]
    if not blas:
        pytest.skip("no BLAS found by threadpoolctl")
    with threadpool_limits(2, user_api="blas"):
        with single_threaded():
            with single_threaded():  # re-entrant: a column thread inside the profile's guard
                assert all(i["num_threads"] == 1 for i in controller.select(user_api="blas").info())
            assert all(i["num_threads"] == 1 for i in controller.select(user_api="blas").info())
        assert all(i["num_threads"] == 2 for i in controller.select(user_api="blas").info())


def _table(n: int, seed: int) -> pa.Table:
    g = np.random.default_rng(seed)
    x = g.normal(0.0, 3.0, n)
    x[g.random(n) < 0.01] = np.nan
    return pa.table(
        {
            "x": x,
            "y": g.lognormal(0.0, 1.5, n),
            "i": pa.array(g.integers(-9, 9, n), mask=g.random(n) < 0.02),
            "s": pa.array(g.choice(["a", "b", "c", "7", "2.5"], n), mask=g.random(n) < 0.05),
            "u": pa.array([f"k{v}" for v in g.integers(0, 20_000, n)]),
        }
    )


def test_column_threads_and_read_ahead_give_the_profile_of_one_thread(tmp_path: Path):
    path = tmp_path / "groups.parquet"
    table = _table(120_000, 3)
    pq.write_table(table, path, row_group_size=20_000)  # six row groups, read ahead
    chunks = list(iter_tables(path))
    assert [c.num_rows for c in chunks] == [20_000] * 6
    for chunk, i in zip(chunks, range(6), strict=True):  # in order, as written
        assert chunk.column("y").to_pylist() == table.column("y")[i * 20_000 :][:20_000].to_pylist()
    docs = []
    for threads in (1, 2, 3):
        p = DatasetProfile(threads=threads)
        for chunk in iter_tables(path):
            p.update(chunk)
        docs.append(p.to_statistics().dumps())
    assert docs[0] == docs[1] == docs[2]
    # and the figures are the data's (math.fsum and numpy as the references)
    p = DatasetProfile(threads=2)
    for chunk in iter_tables(path):
        p.update(chunk)
    y = table.column("y").to_numpy()
    num = next(f for f in p.to_statistics().features if f.name == "y").numerical_statistics
    assert num is not None
    assert num.sum == math.fsum(y) and num.min == y.min() and num.max == y.max()
    assert math.isclose(num.std_dev, float(np.std(y)), rel_tol=1e-12)


def test_read_ahead_stops_when_the_reader_is_left_early(tmp_path: Path):
    path = tmp_path / "groups.parquet"
    pq.write_table(_table(50_000, 4), path, row_group_size=10_000)
    tables = iter_tables(path)
    first = next(tables)
    tables.close()  # the pending read of row group 2 is waited for, nothing leaks
    assert first.num_rows == 10_000


def test_threads_come_from_vigil_threads_or_the_usable_cores(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VIGIL_THREADS", "3")
    assert DatasetProfile().threads == 3
    monkeypatch.setenv("VIGIL_THREADS", "many")
    with pytest.raises(ConfigError, match="VIGIL_THREADS='many'"):
        default_threads()
    monkeypatch.delenv("VIGIL_THREADS")
    assert default_threads() == min(2, len(os.sched_getaffinity(0)))
