"""Access control: users, case memberships, secrets (API tokens, sessions, feeds), alert
acknowledgments.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    """Create the access-control tables."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(200), nullable=False, unique=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("password_hash", sa.String, nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_utc", sa.DateTime, nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False,
                  index=True),
        sa.Column("case_id", sa.String(200), sa.ForeignKey("cases.id"), nullable=False,
                  index=True),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("party_id", sa.String, nullable=True),
        sa.UniqueConstraint("user_id", "case_id"),
    )
    op.create_table(
        "secrets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False,
                  index=True),
        sa.Column("case_id", sa.String, nullable=True),
        sa.Column("label", sa.String, nullable=False),
        sa.Column("csrf", sa.String, nullable=True),
        sa.Column("created_utc", sa.DateTime, nullable=False),
        sa.Column("expires_utc", sa.DateTime, nullable=True),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_table(
        "acks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_key", sa.String(64), nullable=False, index=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at_utc", sa.DateTime, nullable=False),
        sa.UniqueConstraint("alert_key", "user_id"),
    )


def downgrade() -> None:
    """Drop them."""
    for table in ("acks", "secrets", "memberships", "users"):
        op.drop_table(table)
