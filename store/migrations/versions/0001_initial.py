"""The first schema: orders, cases, parties, events, findings, deadlines, audit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.String, nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("loaded_utc", sa.DateTime, nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("order_sha256", sa.String(64), sa.ForeignKey("orders.sha256"),
                  nullable=False),
        sa.Column("court", sa.String, nullable=False),
        sa.Column("zone", sa.String, nullable=False),
        sa.Column("caption", sa.String, nullable=False),
        sa.Column("opened_utc", sa.DateTime, nullable=False),
    )
    op.create_table(
        "parties",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(200), sa.ForeignKey("cases.id"), nullable=False,
                  index=True),
        sa.Column("party_id", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("roles", sa.String, nullable=False),
        sa.Column("contact", sa.String, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.UniqueConstraint("case_id", "party_id"),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(200), sa.ForeignKey("cases.id"), nullable=False,
                  index=True),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String, nullable=False),
        sa.Column("occurred_utc", sa.DateTime, nullable=True),
        sa.Column("occurred_offset_min", sa.Integer, nullable=True),
        sa.Column("occurred_date", sa.Date, nullable=True),
        sa.Column("zone", sa.String, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("recorded_utc", sa.DateTime, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("case_id", "event_id"),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(200), sa.ForeignKey("cases.id"), nullable=False,
                  index=True),
        sa.Column("order_sha256", sa.String(64), nullable=False),
        sa.Column("through_seq", sa.Integer, nullable=False),
        sa.Column("as_of_utc", sa.DateTime, nullable=False),
        sa.Column("compliant", sa.Boolean, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("recorded_utc", sa.DateTime, nullable=False),
    )
    op.create_table(
        "deadlines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(200), sa.ForeignKey("cases.id"), nullable=False,
                  index=True),
        sa.Column("term_id", sa.String, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column("due_utc", sa.DateTime, nullable=True),
        sa.Column("zone", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("supersedes", sa.Integer, nullable=True),
        sa.Column("recorded_utc", sa.DateTime, nullable=False),
        sa.UniqueConstraint("case_id", "term_id", "version"),
    )
    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at_utc", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("subject", sa.String, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    """Drop every table."""
    for table in ("audit", "deadlines", "findings", "events", "parties", "cases", "orders"):
        op.drop_table(table)
