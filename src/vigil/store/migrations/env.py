"""alembic's environment for Vigil: run with the connection :mod:`vigil.store.migrations`
hands over (``config.attributes["connection"]``), against the models' metadata.

Batch mode on SQLite (an ``ALTER`` SQLite cannot do becomes copy-and-move of the table);
``UTCDateTime`` columns are written into revisions as ``sa.DateTime(timezone=True)``, the type
they are stored as, so a revision never imports Vigil's code. The day partitions of
``datapoints`` on PostgreSQL (:mod:`vigil.store.partitions`) are data, not schema: autogenerate
leaves them out (:func:`vigil.store.migrations.include_name`).
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from vigil.store.columns import UTCDateTime
from vigil.store.errors import MigrationError
from vigil.store.migrations import include_name
from vigil.store.models import Base


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """How autogenerate writes a column type: Vigil's own types as the type they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run() -> None:
    """Run the migrations on the connection given."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise MigrationError("Vigil's migrations run on a connection: use vigil.store.migrations")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if __name__ != "vigil.store.migrations.env":  # alembic runs this file; importing it does not
    run()
