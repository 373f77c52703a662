"""The day partitions of the ``datapoints`` table on PostgreSQL: names, creation, retention.

On PostgreSQL ``datapoints`` is partitioned by range of ``timestamp``, one partition a UTC day,
named ``datapoints_pYYYYMMDD`` and holding ``[day 00:00, next day 00:00)`` UTC. Why a day:

- the alarm evaluator and the dashboards read the last minutes or hours: one partition (two
  around midnight), whose ``(series_id, timestamp)`` index stays small enough to be cached
  while it takes every put of the day;
- retention drops whole days (``DROP TABLE``: no dead rows, no vacuum) and deletes rows in
  one day at most, the one the cut falls in;
- the default retention, 455 days, is 455 partitions: well within what PostgreSQL plans
  quickly, since every query of the store names a time range and is pruned to its days.

Partitions are made before a put needs them (:func:`ensure`): :class:`~vigil.store.metrics.
MetricStore` asks for the days of each batch and the day after the newest one, so a put far in
the past or future makes its own day and the next day is ready before midnight; the scheduler
prepares the coming days once an hour as well. A partition is created as a plain table and
then attached (``ATTACH PARTITION`` takes a lock on ``datapoints`` that lets reads and writes
go on, where ``CREATE TABLE ... PARTITION OF`` would stop them), under an advisory lock so
that two writers never make the same day twice. Retention (:func:`drop_before`) drops whole
days with ``DROP TABLE``, which holds an exclusive lock on ``datapoints`` for the moment of
the drop (it waits for the queries and puts in flight). Tables named otherwise are left alone.

The names and bounds are pure:

>>> from datetime import date
>>> partition_name(date(2024, 5, 1))
'datapoints_p20240501'
>>> bounds(date(2024, 5, 1))
("'2024-05-01 00:00:00+00'", "'2024-05-02 00:00:00+00'")
>>> day_of_partition("datapoints_p20240501"), day_of_partition("datapoints_old")
(datetime.date(2024, 5, 1), None)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, text

from vigil.store.columns import UTC

log = logging.getLogger(__name__)

__all__ = [
    "PARENT",
    "Dropped",
    "bounds",
    "day_of_partition",
    "drop_before",
    "ensure",
    "existing",
    "is_partition_name",
    "is_partitioned",
    "partition_name",
]

PARENT = "datapoints"
_NAME = re.compile(rf"^{PARENT}_p(\d{{4}})(\d{{2}})(\d{{2}})$")
_LOCK_KEY = 0x76706172  # "vpar": serialises the making of partitions between processes
_ONE_DAY = timedelta(days=1)


def partition_name(day: date) -> str:
    """The name of the partition that holds ``day`` (UTC)."""
    return f"{PARENT}_p{day.year:04d}{day.month:02d}{day.day:02d}"


def day_of_partition(name: str) -> date | None:
    """The day a partition of that name holds; ``None`` for any other table name."""
    found = _NAME.match(name)
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:  # datapoints_p20241399: not one of ours
        return None


def is_partition_name(name: str) -> bool:
    """Whether ``name`` is the name of a day partition of ``datapoints``."""
    return day_of_partition(name) is not None


def bounds(day: date) -> tuple[str, str]:
    """The SQL literals of the partition's range: ``day`` 00:00 UTC, inclusive, to the next
    day's, exclusive (year 10000 after the last day Python knows)."""
    after = "10000-01-01" if day == date.max else (day + _ONE_DAY).isoformat()
    return (f"'{day.isoformat()} 00:00:00+00'", f"'{after} 00:00:00+00'")


def is_partitioned(conn: Connection) -> bool:
    """Whether ``datapoints`` is a partitioned table (it is not in a database still at a
    revision before 0005, whose plain table then takes every put as it is)."""
    found = conn.execute(
        text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:parent)"),
        {"parent": PARENT},
    ).first()
    return found is not None


def existing(conn: Connection) -> set[date]:
    """The days that have a partition attached to ``datapoints``."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent)"
        ),
        {"parent": PARENT},
    ).scalars()
    return {d for d in map(day_of_partition, rows) if d is not None}


def ensure(target: Engine | Connection, days: Iterable[date]) -> list[date]:
    """Make the partitions of ``days`` that are missing; the days made.

    With an engine, in a transaction of its own (committed at once); with a connection, in
    its transaction (the caller commits). A caller whose own transaction already holds locks
    (it wrote datapoints or series) must pass that connection: waiting on another one for a
    lock that waits on its own transaction would be a deadlock PostgreSQL cannot see.
    """
    wanted = set(days)
    if not wanted:
        return []
    if isinstance(target, Engine):
        with target.begin() as conn:
            return _ensure(conn, wanted)
    return _ensure(target, wanted)


def _ensure(conn: Connection, wanted: set[date]) -> list[date]:
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    made = sorted(wanted - existing(conn))
    for day in made:
        name, (low, high) = partition_name(day), bounds(day)
        conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)")
        conn.exec_driver_sql(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})"
        )
    if made:
        log.info("metric store: made partitions %s", ", ".join(map(partition_name, made)))
    return made


@dataclass(frozen=True)
class Dropped:
    """What :func:`drop_before` removed: the days and the datapoints they held."""

    days: tuple[date, ...]
    datapoints: int


def drop_before(engine: Engine, cutoff: datetime) -> Dropped:
    """Drop every partition that ends at or before ``cutoff`` (all its datapoints are older),
    in one short transaction; the rows of the partition the cut falls in stay for the caller
    to delete."""
    with engine.begin() as conn:
        old = sorted(d for d in existing(conn) if d < date.max and _midnight_after(d) <= cutoff)
        counted = 0
        for day in old:
            name = partition_name(day)
            counted += int(conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one())
            conn.exec_driver_sql(f"DROP TABLE {name}")
    if old:
        log.info(
            "metric retention: dropped %d partitions (%s to %s, %d datapoints)",
            len(old), partition_name(old[0]), partition_name(old[-1]), counted,
        )  # fmt: skip
    return Dropped(tuple(old), counted)


def _midnight_after(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + _ONE_DAY
