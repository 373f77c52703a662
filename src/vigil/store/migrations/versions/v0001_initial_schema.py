"""The initial schema: every table of Vigil as it stood before migrations existed.

Revision ID: 0001
Revises: none
Create Date: 2026-12-01 18:46:12.050766
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "action_definitions",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "name"),
    )
    op.create_table(
        "action_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("rule", sa.String(length=255), nullable=True),
        sa.Column("workflow", sa.String(length=255), nullable=True),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("parent_run_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("input", sa.JSON(), nullable=True),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("current_step", sa.String(length=255), nullable=True),
        sa.Column("current_input", sa.JSON(), nullable=True),
        sa.Column("steps_taken", sa.Integer(), nullable=False),
        sa.Column("resumes", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["parent_run_id"], ["action_runs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_action_runs_parent_run_id"), "action_runs", ["parent_run_id"], unique=False
    )
    op.create_index(
        "ix_action_runs_rule_started", "action_runs", ["rule", "started_at"], unique=False
    )
    op.create_index(
        "ix_action_runs_status_heartbeat", "action_runs", ["status", "heartbeat_at"], unique=False
    )

    op.create_table(
        "alarm_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alarm_name", sa.String(length=255), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_state", sa.String(length=32), nullable=False),
        sa.Column("new_state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reason_data", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_alarm_history_alarm_time", "alarm_history", ["alarm_name", "time"], unique=False
    )

    op.create_table(
        "alarms",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=False),
        sa.Column("state_reason_data", sa.JSON(), nullable=False),
        sa.Column("state_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("memory", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "delivery_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("subscription", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("protocol", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", "subscription", name="uq_delivery_outbox_message_sub"),
    )
    op.create_index("ix_delivery_outbox_claim", "delivery_outbox", ["claim_token"], unique=False)
    op.create_index(
        "ix_delivery_outbox_due", "delivery_outbox", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(
        "ix_delivery_outbox_subscription",
        "delivery_outbox",
        ["subscription", "status"],
        unique=False,
    )

    op.create_table(
        "detector_states",
        sa.Column("schedule_name", sa.String(length=255), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("last_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("schedule_name", "stream", "detector"),
    )
    op.create_table(
        "dispatched_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "endpoints",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("variant", sa.String(length=255), nullable=False),
        sa.Column("capture_uri", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("endpoint_name", sa.String(length=255), nullable=True),
        sa.Column("schedule_name", sa.String(length=255), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_events_kind_time", "events", ["kind", "time"], unique=False)

    op.create_table(
        "executions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("schedule_name", sa.String(length=255), nullable=False),
        sa.Column("endpoint_name", sa.String(length=255), nullable=False),
        sa.Column("scheduled_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("records_read", sa.BigInteger(), nullable=True),
        sa.Column("records_skipped", sa.BigInteger(), nullable=True),
        sa.Column("violation_count", sa.Integer(), nullable=True),
        sa.Column("output_uri", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "schedule_name", "window_start", "window_end", "attempt", name="uq_execution_window"
        ),
    )
    op.create_index(
        "ix_executions_endpoint_time",
        "executions",
        ["endpoint_name", "scheduled_time"],
        unique=False,
    )
    op.create_index(
        "ix_executions_schedule_time",
        "executions",
        ["schedule_name", "scheduled_time"],
        unique=False,
    )
    op.create_index(
        "ix_executions_status_lease", "executions", ["status", "lease_expires_at"], unique=False
    )

    op.create_table(
        "metric_series",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("series_key", sa.String(length=64), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("dimensions_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("series_key"),
    )
    op.create_index("ix_metric_series_name", "metric_series", ["namespace", "name"], unique=False)

    op.create_table(
        "notification_groups",
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("group_key", sa.String(length=1024), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("sent_firing", sa.JSON(), nullable=False),
        sa.Column("changed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("topic", "group_key"),
    )
    op.create_table(
        "notified_states",
        sa.Column("alarm", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("alarm", "topic"),
    )
    op.create_table(
        "silences",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("protocol", sa.String(length=32), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("filter_policy", sa.JSON(), nullable=True),
        sa.Column("retry", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_subscriptions_topic"), "subscriptions", ["topic"], unique=False)

    op.create_table(
        "topics",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("grouping", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "action_step_attempts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=255), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("input", sa.JSON(), nullable=True),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("stdout", sa.Text(), nullable=True),
        sa.Column("stderr", sa.Text(), nullable=True),
        sa.Column("wait_seconds", sa.Double(), nullable=False),
        sa.Column("child_run_id", sa.String(length=36), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["action_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_action_step_attempts_run_seq", "action_step_attempts", ["run_id", "seq"], unique=False
    )

    op.create_table(
        "baselines",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("endpoint_name", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_name"], ["endpoints.name"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index(
        op.f("ix_baselines_endpoint_name"), "baselines", ["endpoint_name"], unique=False
    )

    op.create_table(
        "datapoints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("sample_count", sa.Float(), nullable=True),
        sa.Column("sum", sa.Float(), nullable=True),
        sa.Column("minimum", sa.Float(), nullable=True),
        sa.Column("maximum", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["metric_series.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_datapoints_series_time", "datapoints", ["series_id", "timestamp"], unique=False
    )

    op.create_table(
        "schedules",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("endpoint_name", sa.String(length=255), nullable=False),
        sa.Column("baseline_name", sa.String(length=255), nullable=True),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("window_start_offset", sa.String(length=64), nullable=True),
        sa.Column("window_end_offset", sa.String(length=64), nullable=True),
        sa.Column("monitor_type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_scheduled_time", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["baseline_name"], ["baselines.name"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["endpoint_name"],
            ["endpoints.name"],
        ),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index(
        op.f("ix_schedules_endpoint_name"), "schedules", ["endpoint_name"], unique=False
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index(op.f("ix_schedules_endpoint_name"), table_name="schedules")

    op.drop_table("schedules")
    op.drop_index("ix_datapoints_series_time", table_name="datapoints")

    op.drop_table("datapoints")
    op.drop_index(op.f("ix_baselines_endpoint_name"), table_name="baselines")

    op.drop_table("baselines")
    op.drop_index("ix_action_step_attempts_run_seq", table_name="action_step_attempts")

    op.drop_table("action_step_attempts")
    op.drop_table("topics")
    op.drop_index(op.f("ix_subscriptions_topic"), table_name="subscriptions")

    op.drop_table("subscriptions")
    op.drop_table("silences")
    op.drop_table("notified_states")
    op.drop_table("notification_groups")
    op.drop_index("ix_metric_series_name", table_name="metric_series")

    op.drop_table("metric_series")
    op.drop_index("ix_executions_status_lease", table_name="executions")
    op.drop_index("ix_executions_schedule_time", table_name="executions")
    op.drop_index("ix_executions_endpoint_time", table_name="executions")

    op.drop_table("executions")
    op.drop_index("ix_events_kind_time", table_name="events")

    op.drop_table("events")
    op.drop_table("endpoints")
    op.drop_table("dispatched_events")
    op.drop_table("detector_states")
    op.drop_index("ix_delivery_outbox_subscription", table_name="delivery_outbox")
    op.drop_index("ix_delivery_outbox_due", table_name="delivery_outbox")
    op.drop_index("ix_delivery_outbox_claim", table_name="delivery_outbox")

    op.drop_table("delivery_outbox")
    op.drop_table("api_tokens")
    op.drop_table("alarms")
    op.drop_index("ix_alarm_history_alarm_time", table_name="alarm_history")

    op.drop_table("alarm_history")
    op.drop_index("ix_action_runs_status_heartbeat", table_name="action_runs")
    op.drop_index("ix_action_runs_rule_started", table_name="action_runs")
    op.drop_index(op.f("ix_action_runs_parent_run_id"), table_name="action_runs")

    op.drop_table("action_runs")
    op.drop_table("action_definitions")
