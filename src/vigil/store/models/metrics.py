"""The metric store's tables: one row per series, datapoints pointing at it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

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
    writing fast (see bench/RESULTS.md, section "metrics").
    """

    __tablename__ = "datapoints"
    __table_args__ = (Index("ix_datapoints_series_time", "series_id", "timestamp"),)

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
