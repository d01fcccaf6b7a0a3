"""Alembic environment: runs on the connection ``tipstaff.store.db`` hands it."""

from __future__ import annotations

from alembic import context

from tipstaff.store.models import SQLModel

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
