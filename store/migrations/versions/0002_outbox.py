"""Reminders and alerts: the outbox, daemon heartbeats, party addresses.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    """Add the outbox and daemons tables and the parties' delivery addresses."""
    with op.batch_alter_table("parties") as batch:
        batch.add_column(sa.Column("email", sa.String, nullable=True))
        batch.add_column(sa.Column("webhook", sa.String, nullable=True))
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("case_id", sa.String(200), sa.ForeignKey("cases.id"), nullable=False,
                  index=True),
        sa.Column("term_id", sa.String, nullable=False),
        sa.Column("deadline_version", sa.Integer, nullable=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("label", sa.String, nullable=False),
        sa.Column("recipient", sa.String, nullable=False),
        sa.Column("fire_utc", sa.DateTime, nullable=False),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column("due_utc", sa.DateTime, nullable=True),
        sa.Column("zone", sa.String, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("state", sa.String, nullable=False, index=True),
        sa.Column("next_attempt_utc", sa.DateTime, nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("channel", sa.String, nullable=True),
        sa.Column("escalated", sa.Boolean, nullable=False),
        sa.Column("claimed_by", sa.String, nullable=True),
        sa.Column("claimed_until_utc", sa.DateTime, nullable=True),
        sa.Column("sent_utc", sa.DateTime, nullable=True),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("last_error", sa.String, nullable=True),
        sa.Column("created_utc", sa.DateTime, nullable=False),
    )
    op.create_table(
        "daemons",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("host", sa.String, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("clock", sa.String, nullable=False),
        sa.Column("started_utc", sa.DateTime, nullable=False),
        sa.Column("beat_utc", sa.DateTime, nullable=False),
        sa.Column("clock_utc", sa.DateTime, nullable=False),
        sa.Column("last_tick_utc", sa.DateTime, nullable=True),
        sa.Column("last_sent_utc", sa.DateTime, nullable=True),
        sa.Column("sent", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String, nullable=True),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("daemons")
    op.drop_table("outbox")
    with op.batch_alter_table("parties") as batch:
        batch.drop_column("webhook")
        batch.drop_column("email")
