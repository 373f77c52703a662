"""The Spark engine: the same mergeable profile, computed by Spark tasks and merged here.

Each task profiles its unit (a file or Parquet row group read with Vigil's own readers, a
slice of an in-memory table, or a partition of a Spark DataFrame through ``mapInArrow``) into
a :class:`~vigil.profile.dataset.DatasetProfile`; the profiles (KLL, HLL and frequent-items
sketches, exact sums) pickle back to the driver, which merges them in the local engine's
order. So counts, sums, means, minima, maxima and inferred types equal the local engine's
exactly, quantiles and distinct counts agree within the sketches' error.

A Spark Connect server (``sc://HOST:PORT``) works as well as a classic master: there the
units travel as the rows of a small DataFrame, each profiled by ``mapInArrow`` (a Connect
client has no ``SparkContext`` to ``parallelize`` them with).

pyspark is imported here only, and only when a session is needed.
"""

from __future__ import annotations

import functools
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from vigil.analysis.engines.detect import is_spark_dataframe
from vigil.analysis.engines.options import ReadOptions, merge_results
from vigil.analysis.engines.quality import QualityPart, QualitySpec, quality_tables, quality_unit
from vigil.analysis.engines.units import (
    UnitResult,
    coalesce,
    ipc_table,
    list_units,
    profile_tables,
    profile_unit,
    table_slices,
)
from vigil.errors import ConfigError, EngineError
from vigil.io.readers import BadRecords, iter_tables, resolve_sources, to_arrow
from vigil.profile.dataset import DatasetProfile

DEFAULT_MASTER = "local[*]"
MASTER_ENV = "VIGIL_SPARK_MASTER"
_MASTER = re.compile(
    r"local(\[(\*|\d+)(,\s*\d+)?\])?|local-cluster\[\d+,\s*\d+,\s*\d+\]"
    r"|spark://[^/\s:]+(:\d+)?(,[^/\s:]+(:\d+)?)*|yarn|k8s://\S+|mesos://\S+"
    r"|sc://[^/\s:]+(:\d+)?(/;\S*)?"
)


def spark_master(master: str | None = None) -> str:
    """The master URL to use: ``master``, else ``$VIGIL_SPARK_MASTER``, else ``local[*]``,
    checked for its form.

    >>> spark_master("local[2]"), spark_master("spark://10.0.0.5:7077")
    ('local[2]', 'spark://10.0.0.5:7077')
    >>> spark_master("sc://spark-connect.internal:15002")  # a Spark Connect server
    'sc://spark-connect.internal:15002'
    >>> spark_master("lokal[2]")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vigil.errors.ConfigError: [config_error] --spark-master 'lokal[2]': not a Spark master URL...
    """
    url = master or os.environ.get(MASTER_ENV) or DEFAULT_MASTER
    if not _MASTER.fullmatch(url):
        raise ConfigError(
            f"--spark-master {url!r}: not a Spark master URL; expected local, local[N], "
            "local[*], spark://HOST:PORT, yarn, k8s://URL or sc://HOST:PORT (Spark Connect)"
        )
    return url


def spark_session(master: str | None = None) -> Any:
    """The active SparkSession, or a new one on ``master`` (see :func:`spark_master`)."""
    try:  # lazy: pyspark (and its JVM) loads only when a Spark session is needed
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "--engine spark needs pyspark; install it with pip install 'vigil[spark]'"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    url = spark_master(master)
    if url.startswith("sc://"):  # a Spark Connect server: a client session, no JVM here
        try:
            return SparkSession.builder.remote(url).getOrCreate()
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise EngineError(
                f"--spark-master {url}: cannot reach Spark Connect: {first}"
            ) from None
    # a Connect session made earlier in this process leaves pyspark in Connect mode (this
    # variable), where a classic master cannot start: asked for one, it is classic again
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
    if url.startswith("local"):  # the tasks run this interpreter, which has Vigil
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(url)
        .appName("vigil")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # py4j and Spark raise many kinds; one line for the user
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EngineError(f"--spark-master {url}: cannot start Spark: {first}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Profiles on Spark: ``master`` (see :func:`spark_master`) or an existing ``session``."""

    name = "spark"

    def __init__(self, master: str | None = None, session: Any = None) -> None:
        if master is not None:
            spark_master(master)  # a malformed URL fails before any JVM starts
        self.master = master
        self._session = session

    @property
    def session(self) -> Any:
        """The SparkSession, started on first use."""
        if self._session is None:
            self._session = spark_session(self.master)
        return self._session

    def profile(
        self,
        data: Any,
        options: ReadOptions,
        *,
        progress: Callable[[int], None] | None = None,
        on_table: Callable[[pa.Table], None] | None = None,
    ) -> tuple[DatasetProfile, BadRecords]:
        """Profile ``data`` (paths, an in-memory table or a Spark DataFrame) on Spark.

        ``on_table`` (the anomaly model's fit or scan) reads the rows here, in the local
        engine's order, after the Spark job: paths and tables only."""
        if on_table is not None and is_spark_dataframe(data):
            raise ConfigError(
                "the anomaly model reads every row in this process: profile the DataFrame's "
                "files, or use a baseline without an anomaly model"
            )
        for _ in iter_tables([], **_reader_kwargs(options)):  # checks the options here
            pass
        if is_spark_dataframe(data):
            results = self._dataframe(data, options)
        else:
            table = to_arrow(data)
            results = (
                self._table(table, options) if table is not None else self._files(data, options)
            )
        parts = [r.unwrap() for r in sorted(results, key=lambda r: r.index)]
        if progress is not None:
            for profile, _ in parts:
                progress(profile.item_count)
        if on_table is not None:
            for table in iter_tables(data, **_reader_kwargs(options), bad=BadRecords()):
                if options.columns is not None:
                    table = table.select([c for c in options.columns if c in table.column_names])
                on_table(table)
        return merge_results(parts)

    def _run(self, what: str, job: Callable[[], list[Any]]) -> list[Any]:
        try:
            return job()
        except Exception as exc:  # a failed Spark job: one line naming it
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise EngineError(f"Spark job profiling {what} failed: {first}") from None

    @property
    def connect(self) -> bool:
        """Whether the session is a Spark Connect client (no ``SparkContext``)."""
        return type(self.session).__module__.startswith("pyspark.sql.connect")

    def _parallelism(self) -> int:
        if not self.connect:
            return int(self.session.sparkContext.defaultParallelism)
        found = self.session.conf.get("spark.default.parallelism", None)
        return int(found) if found else max(2, os.cpu_count() or 2)

    def _map(self, items: list[Any], task: Callable[[Any], Any]) -> list[Any]:
        """``task`` of each item, on Spark, in the items' order: a task per item through the
        SparkContext, or on Spark Connect the items as rows of a DataFrame, each mapped by
        ``mapInArrow``."""
        if not self.connect:
            sc = self.session.sparkContext
            return list(sc.parallelize(items, len(items)).map(task).collect())
        rows = [(i, pickle.dumps(item)) for i, item in enumerate(items)]
        df = self.session.createDataFrame(rows, "i int, item binary").repartition(len(rows))
        each = functools.partial(_map_rows, task=task)
        done = df.mapInArrow(each, "i int, result binary").collect()
        return [pickle.loads(r["result"]) for r in sorted(done, key=lambda r: r["i"])]

    def _files(self, data: Any, options: ReadOptions) -> list[UnitResult]:
        inputs = [data] if isinstance(data, (str, os.PathLike)) else list(data)
        units = list_units(resolve_sources(inputs), options)
        if not units:
            return []
        task = functools.partial(profile_unit, options=options)
        return self._run(f"{len(units)} unit(s)", lambda: self._map(units, task))

    def _table(self, table: pa.Table, options: ReadOptions) -> list[UnitResult]:
        slices = table_slices(table, self._parallelism())
        task = functools.partial(_table_task, columns=options.columns)
        return self._run("a table", lambda: self._map(slices, task))

    def model_quality(
        self, data: Any, options: ReadOptions, spec: QualitySpec
    ) -> list[QualityPart]:
        """The model-quality summaries of ``data`` (paths, an in-memory table or a Spark
        DataFrame, a summary per partition), one per unit in unit order (see
        :mod:`vigil.analysis.engines.quality`)."""
        for _ in iter_tables([], **_reader_kwargs(options)):  # checks the options here
            pass
        if is_spark_dataframe(data):
            return self._dataframe_quality(data, options, spec)
        table = to_arrow(data)
        sources: list[Any]
        if table is not None:
            sources = list(table_slices(table, self._parallelism()))
        else:
            inputs = [data] if isinstance(data, (str, os.PathLike)) else list(data)
            sources = list(list_units(resolve_sources(inputs), options))
        if not sources:
            return []
        task = functools.partial(quality_unit, options=options, spec=spec)
        parts: list[QualityPart] = self._run("model quality", lambda: self._map(sources, task))
        return sorted(parts, key=lambda p: p.index)

    def _dataframe_quality(
        self, df: Any, options: ReadOptions, spec: QualitySpec
    ) -> list[QualityPart]:
        task = functools.partial(_quality_dataframe_task, options=options, spec=spec)

        def job() -> list[QualityPart]:
            rows = df.mapInArrow(task, "part int, summary binary").collect()
            return sorted((pickle.loads(r["summary"]) for r in rows), key=lambda p: p.index)

        parts: list[QualityPart] = self._run("model quality of a DataFrame", job)
        return parts

    def _dataframe(self, df: Any, options: ReadOptions) -> list[UnitResult]:
        task = functools.partial(_dataframe_task, columns=options.columns)

        def job() -> list[UnitResult]:
            rows = df.mapInArrow(task, "part int, profile binary").collect()
            return [
                UnitResult(int(r["part"]), pickle.loads(r["profile"]), BadRecords()) for r in rows
            ]

        return self._run("a DataFrame", job)


def _reader_kwargs(options: ReadOptions) -> dict[str, Any]:
    return {
        "format": options.format,
        "header": options.header,
        "capture_content": options.capture_content,
        "delimiter": options.delimiter,
        "encoding": options.encoding,
    }


def _table_task(item: tuple[int, bytes], columns: tuple[str, ...] | None) -> UnitResult:
    index, payload = item
    table = ipc_table(payload)
    return UnitResult(index, profile_tables([table], columns), BadRecords())


def _dataframe_task(
    batches: Iterator[pa.RecordBatch], columns: tuple[str, ...] | None
) -> Iterator[pa.RecordBatch]:
    from pyspark import TaskContext  # lazy: inside the task, where pyspark is loaded

    ctx = TaskContext.get()
    part = ctx.partitionId() if ctx is not None else 0
    profile = profile_tables(coalesce(batches), columns)
    yield pa.RecordBatch.from_pydict(
        {"part": [part], "profile": [pickle.dumps(profile)]},
        schema=pa.schema([("part", pa.int32()), ("profile", pa.binary())]),
    )


def _quality_dataframe_task(
    batches: Iterator[pa.RecordBatch], options: ReadOptions, spec: QualitySpec
) -> Iterator[pa.RecordBatch]:
    """One partition's model-quality summary, as the unit numbered by its partition."""
    from pyspark import TaskContext  # lazy: inside the task, where pyspark is loaded

    ctx = TaskContext.get()
    part = ctx.partitionId() if ctx is not None else 0
    tables = (pa.Table.from_batches([b]) for b in batches if b.num_rows)
    summary = quality_tables(part, tables, options, spec)
    yield pa.RecordBatch.from_pydict(
        {"part": [part], "summary": [pickle.dumps(summary)]},
        schema=pa.schema([("part", pa.int32()), ("summary", pa.binary())]),
    )


_RESULT = pa.schema([("i", pa.int32()), ("result", pa.binary())])


def _map_rows(
    batches: Iterator[pa.RecordBatch], task: Callable[[Any], Any]
) -> Iterator[pa.RecordBatch]:
    """``task`` of each pickled item of a partition (the Spark Connect path of ``_map``)."""
    for batch in batches:
        for i, item in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(),
                           strict=True):
            result = pickle.dumps(task(pickle.loads(item)))
            yield pa.RecordBatch.from_pydict({"i": [i], "result": [result]}, schema=_RESULT)
