"""Alembic migrations of the case store (run by ``tipstaff init``)."""
