"""Throw-away PostgreSQL databases for tests (127.0.0.1:5432, trust auth)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def new_database(prefix: str) -> str | None:
    """A fresh database's URL (``postgresql+psycopg://...``), or None without a server."""
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    except Exception:
        return None


def require_database(prefix: str) -> str:
    """A fresh database, or a clean skip — a failure where TIPSTAFF_REQUIRE_POSTGRES says
    PostgreSQL must be there (CI)."""
    url = new_database(prefix)
    if url is None:
        if os.environ.get("TIPSTAFF_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required here (TIPSTAFF_REQUIRE_POSTGRES) but "
                        "127.0.0.1:5432 is not reachable")
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    return url


def drop_database(url: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} "
                                "WITH (FORCE)"))
    admin.dispose()
