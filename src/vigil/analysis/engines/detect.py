"""Telling a Spark DataFrame apart without importing pyspark."""

from __future__ import annotations

from typing import Any


def is_spark_dataframe(data: Any) -> bool:
    """True for a pyspark DataFrame (classic or Spark Connect), judged by its class's module,
    so this works (and answers False) where pyspark is not installed.

    >>> import pyarrow as pa
    >>> is_spark_dataframe(pa.table({"x": [1]})), is_spark_dataframe(["a.csv"])
    (False, False)
    """
    cls = type(data)
    return cls.__module__.startswith("pyspark.sql") and cls.__name__ == "DataFrame"
