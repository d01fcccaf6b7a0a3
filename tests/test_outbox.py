"""The outbox as the store plans it: violation alerts, idempotent planning, cancellation in
the deadline's own transaction, per-order policy overrides (SQLite file; the PostgreSQL path
is exercised by the daemon's failover test)."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from tipstaff.engine.events import parse_events_jsonl
from tipstaff.engine.order import load_bundled_order
from tipstaff.store import db, repo, service
from tipstaff.store.models import OutboxRow

UTC = dt.UTC
WEST = load_bundled_order("west-v-dizon")
WEST_TEXT = resources.files("tipstaff.rules").joinpath("orders", "west-v-dizon.yaml").read_text()
ORDER_DAY = dt.datetime(2013, 11, 4, 16, tzinfo=UTC)


def _opened(path: Path) -> Engine:
    """A store with West v. Dizon loaded and evaluated on the day the order was entered."""
    engine = db.make_engine(f"sqlite:///{path}")
    db.init(engine)
    with Session(engine) as session, session.begin():
        repo.add_order(session, order=WEST, content=WEST_TEXT, at=ORDER_DAY)
        case, _ = repo.open_case(session, case_id="west-v-dizon", order=WEST,
                                 zone="America/Los_Angeles", at=ORDER_DAY)
        report, through = service.evaluate_case(session, case, ORDER_DAY)
        repo.add_findings(session, case=case, report=report, through_seq=through,
                          at=ORDER_DAY)
    return engine


@pytest.fixture
def store(tmp_path: Path) -> Engine:
    return _opened(tmp_path / "store.sqlite3")


def _rows(engine: Engine) -> list[OutboxRow]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxRow).order_by(OutboxRow.id)).scalars())  # type: ignore[call-overload]


def _event(line: str) -> list:  # type: ignore[type-arg]
    return parse_events_jsonl(line, source="test")


def test_order_entry_plans_the_opposition_reminders(store: Engine) -> None:
    rows = [r for r in _rows(store) if r.term_id == "opposition-deadline"]
    assert [(r.label, r.state) for r in rows if r.kind != "overdue"] == [
        ("7 days before", "pending"), ("3 days before", "pending"),
        ("1 day before", "pending"), ("on the day", "pending")]
    assert {r.deadline_version for r in rows} == {1}


def test_a_violation_alerts_both_sides_once(store: Engine) -> None:
    """Sharing D-21 with a newspaper: an immediate alert to counsel for both sides; finding
    the same violation again on a later evaluation queues nothing new."""
    press = ('{"case": "west-v-dizon", "type": "document_shared", "occurred_at": '
             '"2014-01-10T09:00:00-08:00", "id": "press", "data": {"pages": ["D-21"], '
             '"by": "west", "recipient": "a newspaper", "within_litigation": false}}')
    served = resources.files("tipstaff.rules").joinpath(
        "orders", "west-v-dizon.events.jsonl").read_text().splitlines()[0]
    service.record_events(store, _event(served), at=dt.datetime(2013, 11, 9, tzinfo=UTC),
                          actor="test")
    at = dt.datetime(2014, 1, 10, 18, tzinfo=UTC)
    service.record_events(store, _event(press), at=at, actor="test")
    later = dt.datetime(2014, 2, 1, tzinfo=UTC)
    with Session(store) as session, session.begin():
        case = repo.get_case(session, case_id="west-v-dizon")
        report, through = service.evaluate_case(session, case, later)
        repo.add_findings(session, case=case, report=report, through_seq=through, at=later)
    alerts = [r for r in _rows(store) if r.kind == "violation"]
    assert sorted((r.term_id, r.recipient) for r in alerts) == [
        ("no-sharing", "defense-counsel"), ("no-sharing", "west")]
    assert all(r.fire_utc == at.replace(tzinfo=None) for r in alerts)
    assert all('"press"' in r.detail for r in alerts)


def test_filing_the_opposition_cancels_its_pending_reminders_in_the_same_write(
        store: Engine) -> None:
    filed = ('{"case": "west-v-dizon", "type": "filing_made", "occurred_at": '
             '"2013-11-08T16:45:00-08:00", "id": "opp", "data": {"kind": "opposition", '
             '"by": "dizon"}}')
    service.record_events(store, _event(filed), at=dt.datetime(2013, 11, 10, tzinfo=UTC),
                          actor="test")
    rows = [r for r in _rows(store) if r.term_id == "opposition-deadline"]
    assert rows and {r.state for r in rows} == {"cancelled"}
    assert all("satisfied" in (r.last_error or "") for r in rows)


def test_per_order_policy_override(store: Engine, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """An override for one term replaces its class's lines (here: one reminder 2 days
    before, to the litigation coordinator)."""
    policy = tmp_path / "reminders.yaml"
    policy.write_text('version: 1\nclasses: {}\norders:\n  west-v-dizon:\n'
                      '    opposition-deadline:\n'
                      '      - {to: ["role:litigation_coordinator"], when: days_before, '
                      'days: [2]}\n')
    monkeypatch.setenv("TIPSTAFF_REMINDERS", str(policy))
    engine = _opened(tmp_path / "other.sqlite3")
    rows = _rows(engine)
    assert [(r.term_id, r.label, r.recipient, r.fire_utc) for r in rows] == [
        ("opposition-deadline", "2 days before", "litigation-coordinator",
         dt.datetime(2013, 11, 12, 17))]


def test_a_dead_apscheduler_is_noticed_and_restarted(store: Engine,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """APScheduler's thread can die silently; the daemon notices that its alarm stopped and
    restarts it, and the reminder still goes out (here through the log channel)."""
    import logging
    import threading
    import time

    from tipstaff.scheduler.clock import SimulatedClock
    from tipstaff.scheduler.daemon import Daemon
    from tipstaff.scheduler.dispatch import Channels

    caplog.set_level(logging.INFO, logger="tipstaff")
    clock = SimulatedClock(dt.datetime(2013, 11, 7, 16, 59, 57, tzinfo=UTC), 1.0)
    daemon = Daemon(store, clock=clock, channels=Channels(), sweep_seconds=0.2,
                    until=dt.datetime(2013, 11, 7, 17, 0, 5, tzinfo=UTC))
    killed: list[bool] = []

    def kill_alarm() -> None:
        deadline = time.monotonic() + 20
        while daemon._scheduler is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if daemon._scheduler is not None:
            # What a silent thread death looks like from outside.
            daemon._scheduler.shutdown(wait=False)
            killed.append(True)

    # The daemon runs in this thread: durable_rules sessions belong to the thread that made
    # them (the fixture evaluated here).
    threading.Thread(target=kill_alarm).start()
    daemon.run()
    assert killed == [True]
    assert "restarting it" in caplog.text
    sent = [r for r in _rows(store) if r.state == "sent"]
    assert [(r.label, r.channel) for r in sent] == [("7 days before", "log")]
