"""Analysis engines: where a profile is computed. One interface, chosen by name.

``local`` (the default) streams the input through one profile in this process; ``spark``
computes the same mergeable profile on Apache Spark and merges it on the driver
(:mod:`vigil.analysis.engines.spark`, which alone imports pyspark, lazily).

>>> get_engine("local").name, ENGINES
('local', ('local', 'spark'))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pyarrow as pa

from vigil.analysis.engines.detect import is_spark_dataframe
from vigil.analysis.engines.local import LocalEngine
from vigil.analysis.engines.options import ReadOptions
from vigil.errors import ConfigError
from vigil.io.readers import BadRecords
from vigil.profile.dataset import DatasetProfile

__all__ = ["ENGINES", "Engine", "ReadOptions", "get_engine", "is_spark_dataframe"]

ENGINES = ("local", "spark")


class Engine(Protocol):
    """What an analysis engine does: profile an input into one merged profile."""

    name: str

    def profile(
        self,
        data: Any,
        options: ReadOptions,
        *,
        progress: Callable[[int], None] | None = None,
        on_table: Callable[[pa.Table], None] | None = None,
    ) -> tuple[DatasetProfile, BadRecords]:
        """The profile of ``data`` and the bad records skipped reading it."""
        ...


def get_engine(
    engine: str | Engine | None = None, *, spark_master: str | None = None, data: Any = None
) -> Engine:
    """The engine named ``engine`` (``local`` or ``spark``; an engine object is returned as
    it is). None picks ``spark`` for a Spark DataFrame ``data`` (on its session), else
    ``local``. ``spark_master``: see :func:`vigil.analysis.engines.spark.spark_master`."""
    if engine is not None and not isinstance(engine, str):
        return engine
    name = engine or ("spark" if is_spark_dataframe(data) else "local")
    if name == "local":
        if is_spark_dataframe(data):
            raise ConfigError("a Spark DataFrame is profiled on Spark; use engine='spark'")
        if spark_master is not None:
            raise ConfigError("--spark-master needs --engine spark")
        return LocalEngine()
    if name == "spark":
        from vigil.analysis.engines.spark import SparkEngine  # lazy: Spark only when asked

        session = data.sparkSession if is_spark_dataframe(data) else None
        return SparkEngine(spark_master, session=session)
    raise ConfigError(f"--engine {name!r}: unknown engine; expected one of {', '.join(ENGINES)}")
