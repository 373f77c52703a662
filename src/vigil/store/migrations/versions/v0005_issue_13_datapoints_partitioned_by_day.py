"""Issue 13, the metric store at scale: datapoints partitioned by UTC day on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 15:50:00.000000

On PostgreSQL the plain ``datapoints`` table becomes a table partitioned by range of
``timestamp`` with one partition per UTC day that holds data (``datapoints_pYYYYMMDD``), every
row copied over with its id, the id sequence kept. The primary key becomes ``(id, timestamp)``
(PostgreSQL wants the partition key in it); the indexes and the foreign key are built after
the copy, which is faster than keeping them up row by row. SQLite keeps its one table: nothing
to do there. The downgrade copies the rows back into one plain table.
"""

from __future__ import annotations

from datetime import date, timedelta

from alembic import op
from sqlalchemy import text

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# the partition layout when this revision was written (vigil.store.partitions): a revision
# does not import the code it migrates
_OLD = "datapoints_unpartitioned"
_COLUMNS = 'id, series_id, "timestamp", value, sample_count, sum, minimum, maximum, unit'


def _partition(day: date) -> str:
    return f"datapoints_p{day.year:04d}{day.month:02d}{day.day:02d}"


def _bounds(day: date) -> tuple[str, str]:
    after = "10000-01-01" if day == date.max else (day + timedelta(days=1)).isoformat()
    return f"'{day.isoformat()} 00:00:00+00'", f"'{after} 00:00:00+00'"


def _move_aside() -> None:
    """Rename the current table, its indexes and constraints out of the way."""
    op.execute(f"ALTER TABLE datapoints RENAME TO {_OLD}")
    op.execute(f"ALTER INDEX datapoints_pkey RENAME TO {_OLD}_pkey")
    op.execute(f"ALTER INDEX ix_datapoints_series_time RENAME TO ix_{_OLD}_series_time")
    op.execute("ALTER SEQUENCE datapoints_id_seq OWNED BY NONE")


def _finish(partitioned: bool) -> None:
    """Keys, index and foreign key on the new table; the sequence its own; the old table gone."""
    pk = '(id, "timestamp")' if partitioned else "(id)"
    op.execute(f"ALTER TABLE datapoints ADD CONSTRAINT datapoints_pkey PRIMARY KEY {pk}")
    op.execute('CREATE INDEX ix_datapoints_series_time ON datapoints (series_id, "timestamp")')
    op.execute(
        "ALTER TABLE datapoints ADD CONSTRAINT datapoints_series_id_fkey "
        "FOREIGN KEY (series_id) REFERENCES metric_series (id)"
    )
    op.execute("ALTER SEQUENCE datapoints_id_seq OWNED BY datapoints.id")
    op.execute(f"DROP TABLE {_OLD}")
    op.execute("ANALYZE datapoints")


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return
    _move_aside()
    op.execute(
        f'CREATE TABLE datapoints (LIKE {_OLD} INCLUDING DEFAULTS) PARTITION BY RANGE ("timestamp")'
    )
    days = op.get_bind().execute(
        text(f"SELECT DISTINCT ((\"timestamp\" AT TIME ZONE 'UTC')::date) FROM {_OLD}")
    ).scalars()
    for day in sorted(days):
        low, high = _bounds(day)
        op.execute(
            f"CREATE TABLE {_partition(day)} PARTITION OF datapoints "
            f"FOR VALUES FROM ({low}) TO ({high})"
        )
    op.execute(f"INSERT INTO datapoints ({_COLUMNS}) SELECT {_COLUMNS} FROM {_OLD}")
    _finish(partitioned=True)


def downgrade() -> None:
    """Undo this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return
    _move_aside()
    op.execute(f"CREATE TABLE datapoints (LIKE {_OLD} INCLUDING DEFAULTS)")
    op.execute(f"INSERT INTO datapoints ({_COLUMNS}) SELECT {_COLUMNS} FROM {_OLD}")
    _finish(partitioned=False)
