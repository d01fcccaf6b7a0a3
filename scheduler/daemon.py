"""The daemon: wakes when something is due, keeps deadlines current, delivers the outbox.

One cycle (:meth:`Daemon.cycle`) reads the clock once, then
1. records replayed events whose instant has come (simulation only),
2. re-evaluates the cases that need it (new events from other processes, a due instant
   passed, the daily re-check), which records changed deadline versions and plans or
   cancels their reminders in the same transaction,
3. claims and delivers every due outbox row,
4. writes a heartbeat, and asks APScheduler to wake it at the next instant anything is due.

APScheduler is only the alarm clock (a one-off job at the next due instant and a periodic
sweep); everything that matters lives in the store, so a missed or dropped APScheduler job
costs at most one sweep interval. The main loop also waits with a timeout of two sweep
intervals, and restarts APScheduler when it stopped waking us (its thread can die silently).
Every database error in a cycle is logged and the cycle retried with back-off: every step is
its own transaction, so a failed one leaves nothing half-done.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, func
from sqlalchemy import select as core_select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from tipstaff.engine.evaluate import next_change
from tipstaff.engine.events import Event
from tipstaff.scheduler import leader
from tipstaff.scheduler.clock import Clock
from tipstaff.scheduler.dispatch import Channels, Dispatcher
from tipstaff.store import db, outbox, repo, service
from tipstaff.store.db import StoreError
from tipstaff.store.models import CaseRow, DaemonRow, EventRow, naive_utc

UTC = dt.UTC
log = logging.getLogger("tipstaff.daemon")
RECHECK_EVERY = dt.timedelta(days=1)
EVALUATE_BATCH = 200
FOLLOWER_POLL_SECONDS = 2.0
CASES = CaseRow.__table__  # type: ignore[attr-defined]
EVENTS = EventRow.__table__  # type: ignore[attr-defined]



class Daemon:
    """One daemon process. :meth:`run` blocks until :meth:`stop` (or SIGTERM/SIGINT)."""

    def __init__(self, engine: Engine, *, clock: Clock, channels: Channels,
                 base_url: str = "http://localhost:8080", sweep_seconds: float = 30.0,
                 name: str | None = None, replay: Sequence[Event] = (),
                 until: dt.datetime | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.sweep_seconds = sweep_seconds
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.replay = sorted(replay, key=lambda e: e.instant("UTC"))
        self.until = until
        self.dispatcher = Dispatcher(engine, me=self.name, channels=channels,
                                     base_url=base_url, late_after=outbox.policy().late_after,
                                     now=clock.now, should_stop=self.stopping)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._next_eval: dict[str, dt.datetime] = {}
        self._seen_seq = 0
        self._scheduler: BackgroundScheduler | None = None
        self._last_alarm = time.monotonic()
        self._started = clock.now()
        self._role = "follower"
        self._errors = 0
        self._last_error: str | None = None
        self.lease = leader.for_engine(engine)

    # -- lifecycle ---------------------------------------------------------------------------

    def stop(self, *_: Any) -> None:
        """Ask the loop to finish (signal-safe)."""
        self._stop.set()
        self._wake.set()

    def stopping(self) -> bool:
        return self._stop.is_set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self) -> None:
        """Check the schema, win leadership, rebuild, then cycle until stopped."""
        db.check_known(self.engine)
        log.info("starting", extra={"fields": {"daemon": self.name,
                                               "clock": self.clock.description,
                                               "database": self.engine.url.render_as_string()}})
        try:
            while not self.stopping():
                if not self._lead():
                    break
                self._start_alarm()
                try:
                    self._loop()
                finally:
                    self._stop_alarm()
        finally:
            self.lease.release()
            self._role = "stopped"
            self._safe_heartbeat()
            log.info("stopped", extra={"fields": {"daemon": self.name,
                                                  "sent": self.dispatcher.sent}})

    def _lead(self) -> bool:
        """Wait until this daemon leads (SQLite: at once or never). False: stopped first."""
        announced = False
        while not self.stopping():
            if self.lease.try_acquire():
                self._role = "leader"
                with Session(self.engine) as session, session.begin():
                    reclaimed = outbox.reclaim_abandoned(session, me=self.name)
                    if reclaimed:
                        repo.add_audit(session, at=self.clock.now(), actor=self.name,
                                       action="alert.reclaimed", subject="outbox",
                                       detail={"rows": reclaimed})
                self._rebuild()
                log.info("leading", extra={"fields": {"daemon": self.name,
                                                      "reclaimed": reclaimed}})
                return True
            if not announced:
                log.info("following: another daemon leads", extra={"fields": {
                    "daemon": self.name}})
                announced = True
            self._role = "follower"
            self._safe_heartbeat()
            self.clock.run()
            self._stop.wait(FOLLOWER_POLL_SECONDS)
            self.clock.hold()
        return False

    def _rebuild(self) -> None:
        """Derived state from the store: every case is re-evaluated on the first cycles."""
        now = self.clock.now()
        with Session(self.engine) as session:
            self._next_eval = {case_id: now for case_id in
                               session.execute(core_select(CASES.c.id)).scalars()}
            self._seen_seq = int(session.execute(
                core_select(func.coalesce(func.max(EVENTS.c.seq), 0))).scalar() or 0)

    # -- the loop ----------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self.stopping():
            if not self.lease.still_held():
                log.error("lost leadership (database connection gone); following again",
                          extra={"fields": {"daemon": self.name}})
                self._role = "follower"
                return
            try:
                busy = self.cycle()
                self._errors = 0
            except (SQLAlchemyError, StoreError) as exc:
                self._errors += 1
                self._last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                log.error("cycle failed; retrying", extra={"fields": {
                    "error": self._last_error, "consecutive": self._errors}})
                # A simulated clock stands still here: an outage of the database is real
                # time, not the case's time.
                self._stop.wait(min(2.0 ** self._errors, 30.0))
                continue
            if self.until is not None and self.clock.now() >= self.until and not busy:
                log.info("simulation reached --until", extra={"fields": {
                    "until": self.until.isoformat()}})
                self._stop.set()
                break
            if not busy:
                self._sleep()

    def cycle(self) -> bool:
        """One pass at one instant; True when work may remain (cycle again at once)."""
        now = self.clock.now()
        self._replay(now)
        self._notice_new_events(now)
        busy = self._reevaluate(now)
        while not self.stopping():
            handled = self.dispatcher.run_once()
            if handled == 0:
                break
        self._heartbeat(now)
        return busy

    def _replay(self, now: dt.datetime) -> None:
        due: list[Event] = []
        while self.replay and self.replay[0].instant("UTC") <= now:
            due.append(self.replay.pop(0))
        if due:
            recorded = service.record_events(self.engine, due, at=now, actor=self.name)
            log.info("replayed events", extra={"fields": {"added": recorded.added,
                                                          "at": now.isoformat()}})

    def _notice_new_events(self, now: dt.datetime) -> None:
        """Cases with events recorded by other processes since the last look."""
        with Session(self.engine) as session:
            rows = session.execute(core_select(EVENTS.c.case_id, func.max(EVENTS.c.seq))
                                   .where(EVENTS.c.seq > self._seen_seq)
                                   .group_by(EVENTS.c.case_id)).all()
            new_cases = session.execute(core_select(CASES.c.id)).scalars().all() \
                if len(self._next_eval) != self._count_cases(session) else []
        for case_id, seq in rows:
            self._next_eval[case_id] = now
            self._seen_seq = max(self._seen_seq, int(seq))
        for case_id in new_cases:
            self._next_eval.setdefault(case_id, now)

    @staticmethod
    def _count_cases(session: Session) -> int:
        return int(session.execute(core_select(func.count()).select_from(CASES)).scalar()
                   or 0)

    def _reevaluate(self, now: dt.datetime) -> bool:
        """Re-evaluate up to one batch of cases that are due; True if more are waiting."""
        due = sorted(c for c, when in self._next_eval.items() if when <= now)
        batch = due[:EVALUATE_BATCH]
        if not batch:
            return False
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            cases = repo.get_cases(session, case_ids=batch)
            stored = repo.list_events_many(session, case_ids=batch)
            items = []
            for case_id in batch:
                events, through = stored.get(case_id, ([], 0))
                order = repo.order_of(session, case=cases[case_id])
                report = service.evaluator().evaluate(order, events, at=now, case_id=case_id)
                items.append((cases[case_id], report, through))
                # Again when its findings can next change by themselves, or for the daily
                # re-check.
                change = next_change(report, events, cases[case_id].zone, now)
                recheck = now + RECHECK_EVERY
                self._next_eval[case_id] = min(recheck, change) if change else recheck
            changed = repo.add_findings_many(session, items=items, at=now,
                                             record_unchanged=False)
        if changed:
            log.info("deadlines changed", extra={"fields": {"cases": len(batch),
                                                            "new_versions": changed}})
        return len(due) > len(batch)

    # -- heartbeat and alarm -----------------------------------------------------------------

    def _heartbeat(self, now: dt.datetime) -> None:
        wall = dt.datetime.now(UTC)
        with Session(self.engine) as session, session.begin():
            row = session.get(DaemonRow, self.name)
            if row is None:
                row = DaemonRow(name=self.name, host=socket.gethostname(), pid=os.getpid(),
                                role=self._role, clock=self.clock.description,
                                started_utc=naive_utc(wall), beat_utc=naive_utc(wall),
                                clock_utc=naive_utc(now))
            row.role = self._role
            row.beat_utc = naive_utc(wall)
            row.clock_utc = naive_utc(now)
            row.last_tick_utc = naive_utc(now)
            row.sent = self.dispatcher.sent
            row.failures = self.dispatcher.failures
            row.last_sent_utc = (naive_utc(self.dispatcher.last_sent)
                                 if self.dispatcher.last_sent else None)
            row.last_error = self._last_error
            session.add(row)

    def _safe_heartbeat(self) -> None:
        try:
            self._heartbeat(self.clock.now())
        except (SQLAlchemyError, StoreError) as exc:
            log.error("heartbeat failed", extra={"fields": {"error": str(exc)[:200]}})

    def _alarm(self) -> None:
        self._last_alarm = time.monotonic()
        self._wake.set()

    def _start_alarm(self) -> None:
        scheduler = BackgroundScheduler(timezone=UTC, daemon=True)
        scheduler.add_job(self._alarm, "interval", seconds=self.sweep_seconds, id="sweep",
                          misfire_grace_time=None, coalesce=True, max_instances=1)
        scheduler.start()
        self._scheduler = scheduler
        self._last_alarm = time.monotonic()

    def _stop_alarm(self) -> None:
        if self._scheduler is not None:
            if self._scheduler.running:  # a dead one raises on shutdown
                self._scheduler.shutdown(wait=False)
            self._scheduler = None

    def _alarm_alive(self) -> bool:
        scheduler = self._scheduler
        thread = getattr(scheduler, "_thread", None)
        return bool(scheduler is not None and scheduler.running and thread is not None
                    and thread.is_alive())

    def _sleep(self) -> None:
        """Wait for the next due instant (an APScheduler one-off job), a sweep, or a stop."""
        with Session(self.engine) as session:
            candidates = [t for t in (outbox.next_due(session),) if t is not None]
        if self._next_eval:
            candidates.append(min(self._next_eval.values()))
        if self.replay:
            candidates.append(self.replay[0].instant("UTC"))
        if self.until is not None:
            candidates.append(self.until)
        target = min(candidates) if candidates else None
        seconds = self.sweep_seconds
        if target is not None:
            seconds = max(0.0, min(self.clock.real_seconds_until(target), self.sweep_seconds))
        if not self._alarm_alive():
            log.error("APScheduler is not running; restarting it")
            self._stop_alarm()
            self._start_alarm()
        assert self._scheduler is not None
        self._wake.clear()
        self._scheduler.add_job(self._alarm, "date", id="wake", replace_existing=True,
                                run_date=dt.datetime.now(UTC) + dt.timedelta(seconds=seconds),
                                misfire_grace_time=None, coalesce=True)
        self.clock.run()
        try:
            woke = self._wake.wait(timeout=seconds + 2 * self.sweep_seconds)
        finally:
            self.clock.hold(not_after=target)
        if not woke and not self.stopping():
            # Neither the one-off wake nor the sweep fired: the alarm is broken.
            log.error("APScheduler missed its wake-up; restarting it",
                      extra={"fields": {"silent_seconds": round(
                          time.monotonic() - self._last_alarm, 1)}})
            self._stop_alarm()
            self._start_alarm()
