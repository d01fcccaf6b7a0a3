"""Access decisions to the audit chain, written in batches by one background thread.

Every allow and deny is recorded; writing each in its own transaction would serialise every
page view behind SQLite's single writer, so decisions are queued and flushed together
(every 0.2 s, or at 500 queued). A decision can be lost only if the process dies within that
window; writes of data (events, acknowledgments) carry their own audit record in their own
transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from tipstaff.store import repo

log = logging.getLogger("tipstaff.web")


class AuditWriter:
    def __init__(self, engine: Engine, *, interval: float = 0.2) -> None:
        self.engine = engine
        self.interval = interval
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tipstaff-audit", daemon=True)
        self._thread.start()

    def record(self, *, actor: str, action: str, subject: str, detail: dict[str, Any]
               ) -> None:
        self._queue.put({"at": dt.datetime.now(dt.UTC), "actor": actor, "action": action,
                         "subject": subject, "detail": detail})

    def flush(self) -> None:
        batch: list[dict[str, Any]] = []
        while not self._queue.empty() and len(batch) < 500:
            batch.append(self._queue.get_nowait())
        if not batch:
            return
        try:
            with Session(self.engine) as session, session.begin():
                repo.add_audit_many(session, records=batch)
        except SQLAlchemyError as exc:
            log.error("audit write failed; retrying", extra={"fields": {"error": str(exc)[:200]}})
            for item in batch:
                self._queue.put(item)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            while not self._queue.empty():
                self.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        while not self._queue.empty():
            self.flush()
