"""The metric store: put datapoints, query statistics by period, list metrics, expire old data.

Aggregation runs in SQL where it is plain (count, sum, min, max grouped by an epoch-aligned
period bucket); percentiles are computed with NumPy from the raw values of each period
(nearest rank, see :mod:`vigil.metrics.statistics`).

Datapoints reference their series (:class:`~vigil.store.models.MetricSeries`: namespace,
name, dimensions), created on first use and cached by the store. Writing is the hot path:
:meth:`MetricStore.put` sends each batch straight to the driver, ``executemany`` on SQLite
and ``COPY`` on PostgreSQL, inside one transaction per call.

On PostgreSQL the datapoints are partitioned by UTC day (:mod:`vigil.store.partitions`): a put
first makes the partitions its batch needs (and the day after), retention drops the days
entirely older than the cut and deletes rows only in the day the cut falls in. Callers see no
difference: the same calls, the same answers as on SQLite.

>>> from datetime import datetime, timedelta, timezone
>>> from vigil.store.db import Database
>>> db = Database("sqlite://"); db.create_all()
>>> store = MetricStore(db)
>>> t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
>>> store.put(MetricDatum("app", "latency", {"Endpoint": "churn"}, t0 + timedelta(seconds=s), v,
...                       unit="Milliseconds") for s, v in [(5, 10.0), (30, 30.0), (70, 20.0)])
3
>>> for row in store.query("app", "latency", {"Endpoint": "churn"}, t0, t0 + timedelta(hours=1),
...                        60, ["SampleCount", "Average", "p50"]):
...     print(row["Timestamp"].time(), row["SampleCount"], row["Average"], row["p50"], row["Unit"])
00:00:00 2.0 20.0 10.0 Milliseconds
00:01:00 1.0 20.0 20.0 Milliseconds
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any, cast

import numpy as np
import orjson
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from vigil.errors import ConfigError, InputError
from vigil.metrics.datum import MetricDatum, dimensions_key, series_key
from vigil.metrics.statistics import nearest_rank, parse_statistics
from vigil.store import partitions
from vigil.store.columns import UTC, as_utc
from vigil.store.db import Database, affected_rows
from vigil.store.models import Datapoint, MetricSeries

log = logging.getLogger(__name__)

_TABLE = cast(Table, Datapoint.__table__)
_COLUMNS = ("series_id", "timestamp", "value", "sample_count", "sum", "minimum", "maximum", "unit")
SeriesId = tuple[str, str, str]  # (namespace, name, dimensions_key)


class MetricStore:
    """Datapoints in the database behind ``db`` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database, *, batch_size: int = 10_000) -> None:
        if db.dialect not in ("sqlite", "postgresql"):
            raise ConfigError(
                f"metric store: {db.dialect} is not supported (use SQLite or PostgreSQL)"
            )
        if batch_size < 1:
            raise ConfigError(f"batch_size: expected 1 or more, got {batch_size}")
        self.db = db
        self.batch_size = batch_size
        self._series: dict[SeriesId, int] = {}  # ids of series known to exist (committed)
        self._days: set[date] = set()  # PostgreSQL: days whose partition exists (committed)
        self._partitioned: bool | None = None  # PostgreSQL: datapoints partitioned (known)
        dialect = db.engine.dialect
        quote = dialect.identifier_preparer.quote
        self._columns_sql = ", ".join(quote(c) for c in _COLUMNS)
        self._table_sql = quote(_TABLE.name)
        self._timestamp_sql = f"{self._table_sql}.{quote('timestamp')}"

    # -- writing ------------------------------------------------------------------------

    def put(self, data: Iterable[MetricDatum]) -> int:
        """Store every datum, all or none (one transaction); the number stored."""
        stored = 0
        created: dict[SeriesId, int] = {}
        made: set[date] = set()  # partitions made in this put's own transaction
        sqlite = self.db.dialect == "sqlite"
        partitioned = not sqlite and self._is_partitioned()
        with self._forget_series_on_integrity_error(), self.db.engine.begin() as conn:
            for batch in _batches(data, self.batch_size):
                for i, d in enumerate(batch):
                    if not isinstance(d, MetricDatum):
                        raise InputError(
                            f"datum {stored + i}: expected a MetricDatum, got {type(d).__name__}"
                        )
                if partitioned:
                    self._partitions_for(conn, batch, stored > 0, made)
                ids = self._series_ids(conn, batch, created)
                rows: list[tuple[Any, ...]]
                if sqlite:  # the hot loop, with columns.sqlite_text inlined (datums are UTC)
                    rows = [
                        (ids[(d.namespace, d.name, d.dimensions_key)],
                         d.timestamp.isoformat(" ", "microseconds")[:26],
                         d.value, d.sample_count, d.sum, d.minimum, d.maximum, d.unit)
                        for d in batch
                    ]  # fmt: skip
                else:
                    rows = [
                        (ids[(d.namespace, d.name, d.dimensions_key)], d.timestamp,
                         d.value, d.sample_count, d.sum, d.minimum, d.maximum, d.unit)
                        for d in batch
                    ]  # fmt: skip
                self._insert(conn, rows)
                stored += len(rows)
        self._series.update(created)  # only once committed: a rollback would undo them
        self._days.update(made)
        return stored

    def _partitions_for(
        self, conn: Connection, batch: list[MetricDatum], started: bool, made: set[date]
    ) -> None:
        """Make the partitions of the batch's days and of the day after its newest, before
        the batch is written. For the first batch, in a transaction of their own (the put's
        holds no lock yet, so waiting on another connection cannot deadlock unseen; they stay
        if the put rolls back: empty days); for a later one, in the put's transaction, where
        PostgreSQL sees every wait (see :func:`vigil.store.partitions.ensure`)."""
        days = {d.timestamp.date() for d in batch}
        newest = max(days)
        if newest < date.max:
            days.add(newest + timedelta(days=1))  # ahead of need: tomorrow is ready tonight
        missing = days - self._days - made
        if not missing:
            return
        if started:
            partitions.ensure(conn, missing)
            made.update(missing)
        else:
            partitions.ensure(self.db.engine, missing)
            self._days.update(missing)

    def prepare_partitions(self, start: datetime, end: datetime) -> list[date]:
        """Make the partitions of every UTC day from ``start`` to ``end`` (both included)
        that are missing, on PostgreSQL; the days made (none on SQLite, which has one table).
        The scheduler calls it hourly for the coming days."""
        first, last = as_utc(start, "start").date(), as_utc(end, "end").date()
        if self.db.dialect != "postgresql" or last < first or not self._is_partitioned():
            return []
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        made = partitions.ensure(self.db.engine, days)
        self._days.update(days)
        return made

    @contextmanager
    def _forget_series_on_integrity_error(self) -> Iterator[None]:
        """A cached series id the database refuses (its series was removed behind this
        store's back, say by a restore) is dropped, so the next put looks it up again."""
        try:
            yield
        except IntegrityError:  # or a partition dropped behind its back: looked up again too
            self._series.clear()
            self._days.clear()
            self._partitioned = None
            raise

    def _is_partitioned(self) -> bool:
        if self._partitioned is None:
            with self.db.engine.connect() as conn:
                self._partitioned = partitions.is_partitioned(conn)
        return self._partitioned

    def _series_ids(
        self, conn: Connection, batch: list[MetricDatum], created: dict[SeriesId, int]
    ) -> dict[SeriesId, int]:
        """Ids of the batch's series; creates the missing ones (recorded in ``created``)."""
        ids: dict[SeriesId, int] = {}
        missing: dict[str, SeriesId] = {}
        for series in {(d.namespace, d.name, d.dimensions_key) for d in batch}:
            found = self._series.get(series) or created.get(series)
            if found is None:
                missing[series_key(*series)] = series
            else:
                ids[series] = found
        if missing:
            insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
            # Race-safe: a series another writer creates meanwhile is not inserted twice.
            conn.execute(
                insert(MetricSeries).on_conflict_do_nothing(index_elements=["series_key"]),
                [
                    {"series_key": k, "namespace": s[0], "name": s[1], "dimensions_key": s[2]}
                    for k, s in missing.items()
                ],
            )
            keys = list(missing)
            for i in range(0, len(keys), 500):  # stay far below bound-parameter limits
                found_ids = conn.execute(
                    select(MetricSeries.series_key, MetricSeries.id).where(
                        MetricSeries.series_key.in_(keys[i : i + 500])
                    )
                )
                for key, series_id in found_ids:
                    ids[missing[key]] = created[missing[key]] = series_id
        return ids

    def _insert(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        if self.db.dialect == "sqlite":
            marks = ", ".join("?" * len(_COLUMNS))
            conn.exec_driver_sql(
                f"INSERT INTO {self._table_sql} ({self._columns_sql}) VALUES ({marks})", rows
            )
        else:  # postgresql: COPY is several times faster than INSERT
            sql = f"COPY {self._table_sql} ({self._columns_sql}) FROM STDIN"
            raw = conn.connection.driver_connection
            dbapi_error = conn.dialect.loaded_dbapi.Error
            try:
                with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
                    for row in rows:
                        copy.write_row(row)
            except dbapi_error as exc:  # as SQLAlchemy would: IntegrityError and the like
                raise DBAPIError.instance(sql, None, exc, dbapi_error) from exc

    # -- reading ------------------------------------------------------------------------

    def query(
        self,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str] | None,
        start: datetime,
        end: datetime,
        period_seconds: int,
        statistics: Sequence[str],
        *,
        unit: str | None = None,
    ) -> list[dict[str, Any]]:
        """Statistics of one metric per epoch-aligned period, one row per non-empty period.

        ``dimensions`` selects the datapoints with exactly that dimension set (CloudWatch's
        rule; ``{}`` means no dimensions); ``None`` aggregates every dimension set of the
        metric. Datapoints count when ``start <= timestamp < end``. Each row holds
        ``Timestamp`` (period start, UTC), ``Unit`` (``None`` when units are mixed) and the
        requested statistics; a percentile is ``None`` in a period whose statistic sets
        hide their values (see :mod:`vigil.metrics.statistics`).
        """
        wanted = parse_statistics(statistics)
        if (
            not isinstance(period_seconds, int)
            or isinstance(period_seconds, bool)
            or period_seconds < 1
        ):
            raise InputError(f"period_seconds: expected a positive integer, got {period_seconds!r}")
        start, end = as_utc(start, "start"), as_utc(end, "end")
        if end <= start:
            raise InputError(f"end {end} is not after start {start}")
        where = self._where(namespace, name, dimensions, start, end, unit)
        bucket = self._bucket(period_seconds)
        c = Datapoint
        rows = (
            select(
                bucket,
                func.sum(func.coalesce(c.sample_count, 1.0)),
                func.sum(func.coalesce(c.sum, c.value)),
                func.min(func.coalesce(c.minimum, c.value)),
                func.max(func.coalesce(c.maximum, c.value)),
                func.min(c.unit),
                func.max(c.unit),
                func.sum(case((and_(c.value.is_(None), c.minimum != c.maximum), 1), else_=0)),
            )
            .where(where)
            .group_by(bucket)
            .order_by(bucket)
        )
        percentiles = [p for _, p in wanted if p is not None]
        with self.db.engine.connect() as conn:
            groups = conn.execute(rows).all()
            ranks = self._percentiles(conn, where, bucket, percentiles) if percentiles else {}
        out = []
        for b, count, total, low, high, unit_lo, unit_hi, hidden in groups:
            row: dict[str, Any] = {
                "Timestamp": datetime.fromtimestamp(int(b), UTC),
                "Unit": unit_lo if unit_lo == unit_hi else None,
            }
            count, total = float(count), float(total)
            values = {"SampleCount": count, "Sum": total, "Average": total / count,
                      "Minimum": float(low), "Maximum": float(high)}  # fmt: skip
            j = 0
            for stat, p in wanted:
                if p is None:
                    row[stat] = values[stat]
                else:
                    found = ranks.get(int(b))
                    row[stat] = None if hidden or found is None else float(found[j])
                    j += 1
            out.append(row)
        return out

    @staticmethod
    def _series_query(
        namespace: str, name: str, dimensions: Mapping[str, str] | None
    ) -> Select[Any]:
        if dimensions is None:
            return select(MetricSeries.id).where(
                MetricSeries.namespace == namespace, MetricSeries.name == name
            )
        if not isinstance(dimensions, Mapping):
            raise InputError(f"dimensions: expected a mapping or None, got {dimensions!r}")
        key = series_key(namespace, name, dimensions_key(dimensions))
        return select(MetricSeries.id).where(MetricSeries.series_key == key)

    def _where(
        self,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str] | None,
        start: datetime,
        end: datetime,
        unit: str | None,
    ) -> ColumnElement[bool]:
        c = Datapoint
        clauses = [
            c.series_id.in_(self._series_query(namespace, name, dimensions)),
            c.timestamp >= start,
            c.timestamp < end,
        ]
        if unit is not None:
            clauses.append(c.unit == unit)
        return and_(*clauses)

    def _bucket(self, period: int) -> ColumnElement[int]:
        """SQL for the epoch-aligned period start (seconds) of each datapoint."""
        ts = self._timestamp_sql
        if self.db.dialect == "sqlite":
            # Fixed-width text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, >= 1970). Cut the fraction
            # first: SQLite rounds it to milliseconds, which would move 12:04:59.9999 to 12:05.
            sql = f"(CAST(strftime('%s', substr({ts}, 1, 19)) AS INTEGER) / {period}) * {period}"
        else:
            sql = f"CAST(floor(extract(epoch FROM {ts}) / {period}) * {period} AS BIGINT)"
        return literal_column(sql, BigInteger).label("bucket")

    def _percentiles(
        self,
        conn: Connection,
        where: ColumnElement[bool],
        bucket: ColumnElement[int],
        percentiles: list[float],
    ) -> dict[int, np.ndarray]:
        c = Datapoint
        raw = select(
            bucket, func.coalesce(c.value, c.minimum), func.coalesce(c.sample_count, 1.0)
        ).where(where, or_(c.value.is_not(None), c.minimum == c.maximum))
        rows = conn.execute(raw).all()
        if not rows:
            return {}
        groups = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        values = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        weights = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
        distinct, table = nearest_rank(groups, values, weights, percentiles)
        return {int(g): table[i] for i, g in enumerate(distinct)}

    def list_metrics(
        self, namespace: str | None = None, name_prefix: str | None = None
    ) -> list[tuple[str, str, dict[str, str]]]:
        """Every (namespace, name, dimensions) that holds datapoints, sorted."""
        s = MetricSeries
        query = select(s.namespace, s.name, s.dimensions_key).where(
            exists().where(Datapoint.series_id == s.id)
        )
        if namespace is not None:
            query = query.where(s.namespace == namespace)
        if name_prefix:
            query = query.where(s.name.startswith(name_prefix, autoescape=True))
        with self.db.engine.connect() as conn:
            found = [(ns, n, orjson.loads(key)) for ns, n, key in conn.execute(query)]
        # Sorted here, not in SQL: collations differ between backends.
        return sorted(found, key=lambda m: (m[0], m[1], sorted(m[2].items())))

    def apply_retention(self, older_than: datetime) -> int:
        """Delete datapoints with ``timestamp < older_than``; the number deleted.

        On PostgreSQL the partitions of the days entirely older are dropped whole (their
        datapoints counted first), then the older rows of the day the cut falls in deleted."""
        cutoff = as_utc(older_than, "older_than")
        dropped = 0
        if self.db.dialect == "postgresql" and self._is_partitioned():
            gone = partitions.drop_before(self.db.engine, cutoff)
            self._days.difference_update(gone.days)
            dropped = gone.datapoints
        # Through the series ids, so each series is one range scan of the (series, time) index.
        every_series = select(MetricSeries.id).scalar_subquery()
        with self.db.engine.begin() as conn:
            deleted = dropped + affected_rows(
                conn.execute(
                    delete(Datapoint).where(
                        Datapoint.series_id.in_(every_series), Datapoint.timestamp < cutoff
                    )
                )
            )
        log.info("metric retention: deleted %d datapoints older than %s", deleted, cutoff)
        return deleted


def _batches(data: Iterable[MetricDatum], size: int) -> Iterator[list[MetricDatum]]:
    iterator = iter(data)
    while batch := list(islice(iterator, size)):
        yield batch
