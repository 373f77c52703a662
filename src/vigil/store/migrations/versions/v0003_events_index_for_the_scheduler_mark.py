"""events index for the scheduler mark

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 19:30:58.923862
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_events_kind_created", "events", ["kind", "created_at"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index("ix_events_kind_created", table_name="events")
