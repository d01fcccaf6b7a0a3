"""Evaluations for the web: one engine thread, and a cache that knows when a report expires.

durable_rules is not thread-safe, while the web server answers from a thread pool: every
evaluation runs on one dedicated thread. A report stays valid until its case gets a new event
or until the next instant its findings could change on their own (a due instant passing, a
recorded future event taking effect, the end of the local day its notes speak of); until
then a status is served from the cache, re-stamped with the request's instant.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlalchemy import select as core_select
from sqlmodel import Session

from tipstaff.engine.evaluate import CaseReport, next_change
from tipstaff.engine.events import Event
from tipstaff.engine.order import Order
from tipstaff.store import repo, service
from tipstaff.store.models import CaseRow, EventRow

UTC = dt.UTC
EVENTS = EventRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Evaluated:
    """A case as evaluated: its row, order, events (recording order) and report."""

    case: CaseRow
    order: Order
    events: list[Event]
    through_seq: int
    report: CaseReport


@dataclass(frozen=True, slots=True)
class _Entry:
    through_seq: int
    valid_from: dt.datetime
    valid_until: dt.datetime
    value: Evaluated


def valid_until(report: CaseReport, events: list[Event], zone: str, at: dt.datetime
                ) -> dt.datetime:
    """The first instant after ``at`` at which ``report`` could change without an event:
    :func:`~tipstaff.engine.evaluate.next_change`, or the end of the local day its notes
    speak of."""
    tz = ZoneInfo(zone)
    end_of_day = dt.datetime.combine(at.astimezone(tz).date() + dt.timedelta(days=1),
                                     dt.time(), tzinfo=tz).astimezone(UTC)
    change = next_change(report, events, zone, at)
    return min(end_of_day, change) if change is not None else end_of_day


class Evaluations:
    """Evaluate cases on one thread, with the cache described above."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tipstaff-engine")
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _evaluate(self, order: Order, events: list[Event], at: dt.datetime,
                  case_id: str) -> CaseReport:
        # The process's one evaluator, created on and used only by the engine thread (two
        # evaluators would register the same durable_rules rulesets twice).
        return service.evaluator().evaluate(order, events, at=at, case_id=case_id)

    def evaluate(self, order: Order, events: list[Event], at: dt.datetime,
                 case_id: str) -> CaseReport:
        """An uncached evaluation on the engine thread (e.g. a hypothetical event)."""
        return self._pool.submit(self._evaluate, order, events, at, case_id).result()

    def run(self, function: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run ``function`` on the engine thread (anything that evaluates, e.g. recording
        events) and return its result."""
        return self._pool.submit(function, *args, **kwargs).result()

    def _through(self, session: Session, case_id: str) -> int:
        """The case's last event sequence number (0: none)."""
        return int(session.execute(core_select(func.coalesce(func.max(EVENTS.c.seq), 0))
                                   .where(EVENTS.c.case_id == case_id)).scalar() or 0)

    def peek(self, case_id: str, at: dt.datetime) -> Evaluated | None:
        """The cached evaluation when still valid at ``at`` (one small query), else None."""
        with self._lock:
            entry = self._cache.get(case_id)
        if entry is None or not entry.valid_from <= at < entry.valid_until:
            return None
        with Session(self.engine) as session:
            if self._through(session, case_id) != entry.through_seq:
                return None
        report = dataclasses.replace(entry.value.report, as_of=at)
        return dataclasses.replace(entry.value, report=report)

    async def case_async(self, case_id: str, at: dt.datetime) -> Evaluated:
        """:meth:`case` for async routes: a valid cached answer at once, else the
        evaluation off the event loop."""
        from starlette.concurrency import run_in_threadpool

        cached = self.peek(case_id, at)
        if cached is not None:
            return cached
        evaluated: Evaluated = await run_in_threadpool(self.case, case_id, at)
        return evaluated

    def case(self, case_id: str, at: dt.datetime) -> Evaluated:
        """The case evaluated at ``at`` (from the cache when still valid)."""
        cached = self.peek(case_id, at)
        if cached is not None:
            return cached
        with Session(self.engine) as session:
            case = repo.get_case(session, case_id=case_id)
            order = repo.order_of(session, case=case)
            events, through = repo.list_events(session, case_id=case_id)
        report = self.evaluate(order, events, at, case_id)
        value = Evaluated(case=case, order=order, events=events, through_seq=through,
                          report=report)
        with self._lock:
            self._cache[case_id] = _Entry(through, at, valid_until(report, events, case.zone,
                                                                   at), value)
        return value
