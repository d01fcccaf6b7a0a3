"""Opening the store: SQLite (embedded default) or PostgreSQL, same code.

SQLite is opened in WAL mode with foreign keys on and every write transaction started with
``BEGIN IMMEDIATE`` (one writer; a second writer waits instead of failing mid-transaction).
The schema is created and upgraded by Alembic (``tipstaff init``); opening a database whose
schema is newer than this Tipstaff knows is refused.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from tipstaff.engine.errors import TipstaffError


class StoreError(TipstaffError, RuntimeError):
    """The store cannot be used as asked (not initialised, newer schema, unreachable)."""


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the SQLite settings described above."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's begin() below decide when transactions start.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def _alembic_config() -> Config:
    config = Config()
    location = resources.files("tipstaff.store").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str:
    """The newest schema revision this Tipstaff knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision (None: not initialised)."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise StoreError(f"cannot open the database: {exc.orig}") from None


def init(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to head; returns (before, after)."""
    before = check_known(engine, allow_uninitialised=True)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision()


def check_known(engine: Engine, *, allow_uninitialised: bool = False) -> str | None:
    """Refuse a database that is uninitialised (unless allowed) or newer than this code."""
    revision = current_revision(engine)
    script = ScriptDirectory.from_config(_alembic_config())
    if revision is None:
        if allow_uninitialised:
            return None
        raise StoreError("the database is not initialised; run `tipstaff init` first")
    try:
        script.get_revision(revision)
    except Exception:
        raise StoreError(f"the database schema is at revision {revision}, newer than this "
                         f"Tipstaff knows (up to {head_revision()}); upgrade Tipstaff") from None
    if revision != head_revision():
        raise StoreError(f"the database schema is at revision {revision}; run `tipstaff "
                         f"init` to upgrade it to {head_revision()}")
    return revision


def open_store(url: str) -> Engine:
    """An engine on an initialised, current database."""
    engine = make_engine(url)
    try:
        check_known(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot use the database: {exc}") from None
    return engine
