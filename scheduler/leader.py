"""Who may schedule: one daemon per database.

SQLite: an exclusive ``flock`` on ``<database>.daemon.lock``; a second daemon on the same file
refuses to start. PostgreSQL: a session-level advisory lock held on a dedicated connection;
any number of daemons may run, one leads, the others wait and take over when the leader's
connection goes away (the server releases the lock when the process dies).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from tipstaff.engine.errors import TipstaffError

LEADER_KEY = 0x7469707374616666 & 0x7FFFFFFFFFFFFFFF  # "tipstaff" as a bigint


class DaemonError(TipstaffError, RuntimeError):
    """The daemon cannot run as asked."""


class SqliteLock:
    """The single daemon of an embedded database."""

    def __init__(self, database_path: str) -> None:
        self.path = Path(f"{database_path}.daemon.lock")
        self._file: Any = None

    def try_acquire(self) -> bool:
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise DaemonError(f"another tipstaff daemon ({holder}) is running on this SQLite "
                              f"database (lock {self.path}); SQLite allows one daemon — use "
                              "PostgreSQL to run several") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def still_held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class PostgresLease:
    """Leadership among several daemons on one PostgreSQL database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Any = None

    def try_acquire(self) -> bool:
        try:
            if self._connection is None:
                self._connection = self.engine.connect()
            got = self._connection.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                           {"k": LEADER_KEY}).scalar()
            self._connection.commit()
        except SQLAlchemyError:
            self._drop()
            return False
        return bool(got)

    def still_held(self) -> bool:
        """True while the lock's connection is alive (checked with a round trip)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except SQLAlchemyError:
            self._drop()
            return False

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except SQLAlchemyError:
                pass
            self._connection = None

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"),
                                         {"k": LEADER_KEY})
                self._connection.commit()
            except SQLAlchemyError:
                pass
            self._drop()


def for_engine(engine: Engine) -> SqliteLock | PostgresLease:
    """The leadership mechanism that suits the engine's database."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            raise DaemonError("the daemon needs a database file or PostgreSQL, not :memory:")
        return SqliteLock(os.path.abspath(database))
    return PostgresLease(engine)
