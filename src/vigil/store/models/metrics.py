"""The metric store's tables: one row per series, datapoints pointing at it.

On PostgreSQL ``datapoints`` is a table partitioned by range of ``timestamp`` (one partition a
UTC day, made and dropped by :mod:`vigil.store.partitions`); its primary key is then
``(id, timestamp)``, since PostgreSQL wants the partition key in every unique constraint. On
SQLite it is one plain table keyed by ``id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import DDLCompiler

from vigil.store.columns import utcnow
from vigil.store.models.base import NAME, Base


class MetricSeries(Base):
    """One metric time series: a namespace, a name and an exact set of dimensions.

    ``dimensions_key`` is the canonical JSON of the dimensions (keys sorted, compact).
    ``series_key`` (SHA-256 of the three, see :func:`vigil.metrics.datum.series_key`) is the
    unique handle, so identity stays one short indexed equality however long the dimensions.
    Series are never deleted: retention removes datapoints only.
    """

    __tablename__ = "metric_series"
    __table_args__ = (Index("ix_metric_series_name", "namespace", "name"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    series_key: Mapped[str] = mapped_column(String(64), unique=True)
    namespace: Mapped[str] = mapped_column(String(NAME))
    name: Mapped[str] = mapped_column(String(NAME))
    dimensions_key: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Datapoint(Base):
    """One datapoint of a series: a raw ``value`` or a statistic set (count, sum, min, max).

    Datapoints point at their :class:`MetricSeries` rather than repeating namespace, name and
    dimensions: rows and the (series, timestamp) index stay small, which is what makes
    writing fast (see bench/RESULTS.md, section "metrics"). On PostgreSQL the table is
    partitioned by day (``PARTITION BY RANGE (timestamp)``, see :mod:`vigil.store.partitions`).
    """

    __tablename__ = "datapoints"
    __table_args__ = (
        Index("ix_datapoints_series_time", "series_id", "timestamp"),
        {
            "postgresql_partition_by": 'RANGE ("timestamp")',
            "info": {"postgresql_primary_key": ("id", "timestamp")},
        },
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    series_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("metric_series.id")
    )
    timestamp: Mapped[datetime]
    value: Mapped[float | None] = mapped_column(Float)
    sample_count: Mapped[float | None] = mapped_column(Float)
    sum: Mapped[float | None] = mapped_column(Float)
    minimum: Mapped[float | None] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32), default="None")


@compiles(PrimaryKeyConstraint, "postgresql")
def _primary_key(constraint: PrimaryKeyConstraint, compiler: DDLCompiler, **kw: Any) -> str:
    """A partitioned table's primary key on PostgreSQL: the columns its ``info`` names
    (``postgresql_primary_key``, the partition key among them); any other table's as usual."""
    table = constraint.table
    columns = table.info.get("postgresql_primary_key")
    if not columns:
        return compiler.visit_primary_key_constraint(constraint, **kw)
    quote = compiler.preparer.quote
    return f"PRIMARY KEY ({', '.join(quote(c) for c in columns)})"
