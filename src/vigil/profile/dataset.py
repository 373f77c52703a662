"""A whole data set's mergeable profile and its ``statistics.json``."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from vigil.errors import ConfigError
from vigil.formats.statistics import (
    CategoricalBucket,
    CategoricalDistribution,
    CommonStatistics,
    DatasetStatistics,
    FeatureStatistics,
    KLLBucket,
    KLLDistribution,
    KLLParameters,
    KLLSketchData,
    NumericalDistribution,
    NumericalStatistics,
    Statistics,
    StringDistribution,
    StringStatistics,
)
from vigil.profile.blas import single_threaded
from vigil.profile.column import ColumnProfile

NUM_BUCKETS = 10
MAX_CATEGORICAL_BUCKETS = 1000
#: column threads without ``VIGIL_THREADS``: measured to pay on two cores (bench/RESULTS.md)
DEFAULT_THREADS = 2


def default_threads() -> int:
    """``VIGIL_THREADS`` when set, else the cores this process may use, at most
    :data:`DEFAULT_THREADS`."""
    text = os.environ.get("VIGIL_THREADS", "").strip()
    if text:
        try:
            return max(1, int(text))
        except ValueError:
            raise ConfigError(f"VIGIL_THREADS={text!r}: expected a whole number >= 1") from None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(DEFAULT_THREADS, cores))


class DatasetProfile:
    """Profiles chunks of a table; the merge of chunk profiles equals the whole's profile.

    >>> import pyarrow as pa
    >>> p = DatasetProfile()
    >>> p.update(pa.table({"age": [30, 40, None], "state": ["CA", "NY", "CA"]}))
    >>> s = p.to_statistics()
    >>> [(f.name, f.inferred_type) for f in s.features], s.dataset.item_count
    ([('age', 'Integral'), ('state', 'String')], 3)
    """

    def __init__(self, kll_k: int = 2048, category_cap: int = 10_000, threads: int = 0) -> None:
        """``threads`` > 1 profiles a chunk's columns in threads (numpy and Arrow release the
        GIL); 0: ``VIGIL_THREADS``, else the usable cores up to :data:`DEFAULT_THREADS`. Each
        column is profiled by one thread at a time, in chunk order, so the profile is the same
        whatever the thread count."""
        self.kll_k = kll_k
        self.category_cap = category_cap
        self.columns: dict[str, ColumnProfile] = {}
        self.item_count = 0
        self.threads = threads or default_threads()

    def _column(self, name: str) -> ColumnProfile:
        col = self.columns.get(name)
        if col is None:
            col = ColumnProfile(name, kll_k=self.kll_k, category_cap=self.category_cap)
            col.types.missing = self.item_count  # rows seen before the column appeared
            self.columns[name] = col
        return col

    def update(self, table: pa.Table | pa.RecordBatch) -> None:
        """Profile one chunk; columns missing from it count as missing values."""
        n = table.num_rows
        names = list(table.column_names)
        cols = [self._column(name) for name in names]
        for name, col in self.columns.items():
            if name not in names:
                col.types.missing += n
        work = list(zip(cols, (table.column(i) for i in range(len(names)))))
        with single_threaded():  # BLAS's own threads would only compete with these
            if self.threads > 1 and n >= 10_000 and len(work) > 1:
                with ThreadPoolExecutor(self.threads) as pool:
                    list(pool.map(lambda cw: cw[0].update(cw[1]), work))
            else:
                for col, arr in work:
                    col.update(arr)
        self.item_count += n

    def merge(self, other: DatasetProfile) -> None:
        """Fold the profile of another chunk of the same data set in."""
        for name, col in self.columns.items():
            if name not in other.columns:
                col.types.missing += other.item_count
        for name, col in other.columns.items():
            if name in self.columns:
                self.columns[name].merge(col)
            else:
                mine = self._column(name)
                mine.merge(col)
        self.item_count += other.item_count

    def to_statistics(self) -> Statistics:
        """statistics.json of everything profiled so far."""
        return Statistics(
            version=0.0,
            dataset=DatasetStatistics(item_count=self.item_count),
            features=[feature_statistics(c) for c in self.columns.values()],
        )


def feature_statistics(col: ColumnProfile) -> FeatureStatistics:
    """One feature of statistics.json, in SageMaker's shape."""
    t = col.inferred_type
    common = CommonStatistics(num_present=col.types.present, num_missing=col.types.missing)
    if t in ("Integral", "Fractional"):
        m = col.moments
        buckets = [
            KLLBucket(lower_bound=lo, upper_bound=hi, count=c)
            for lo, hi, c in col.kll.buckets(m.minimum, m.maximum, NUM_BUCKETS)
        ]
        kll = KLLDistribution(
            buckets=buckets,
            sketch=KLLSketchData(
                parameters=KLLParameters(c=col.kll.c, k=float(col.kll.k)), data=col.kll.to_data()
            ),
        )
        num = NumericalStatistics(
            common=common,
            mean=m.mean,
            sum=m.total,
            std_dev=m.std_dev,
            min=m.minimum,
            max=m.maximum,
            distribution=NumericalDistribution(kll=kll),
        )
        return FeatureStatistics(name=col.name, inferred_type=t, numerical_statistics=num)
    cats = col.categories
    dist = None
    distinct = 0.0
    if cats is not None:
        distinct = cats.distinct_count()
        dist = StringDistribution(
            categorical=CategoricalDistribution(
                buckets=[
                    CategoricalBucket(value=v, count=c)
                    for v, c in cats.items(MAX_CATEGORICAL_BUCKETS)
                ]
            )
        )
    stats = StringStatistics(common=common, distinct_count=distinct, distribution=dist)
    return FeatureStatistics(name=col.name, inferred_type=t, string_statistics=stats)
