"""The outbox: reminders and alerts planned in the same transaction as the deadline versions
that cause them, claimed and marked by the daemon.

Planning rules (see :mod:`tipstaff.engine.reminders` for the instants):

- a new deadline version that is open (pending/overdue) with the same due date as the
  version it supersedes keeps the reminders already planned (e.g. pending -> overdue);
- an open version with a new due date cancels the pending reminders of its term and plans
  its own;
- a version that is satisfied, not triggered or undated cancels its term's pending reminders;
- each violation in a report queues one alert per recipient, keyed by the violation itself,
  so re-finding it on the next evaluation queues nothing new.

Keys are sha256 digests of (case, term, deadline version, recipient, kind, instant) or
(case, term, violation events, recipient); an insert that meets an existing key does nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from tipstaff.engine.calendar import load_court
from tipstaff.engine.evaluate import OPEN_STATUSES, CaseReport
from tipstaff.engine.order import Order
from tipstaff.engine.reminders import (
    Planned,
    Policy,
    load_policy,
    plan_deadline,
    plan_violation,
)
from tipstaff.store.models import CaseRow, DeadlineRow, OutboxRow, PartyRow, naive_utc

UTC = dt.UTC
OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
PARTIES = PartyRow.__table__  # type: ignore[attr-defined]
DEADLINES = DeadlineRow.__table__  # type: ignore[attr-defined]
STATES = ("pending", "sending", "sent", "cancelled", "suppressed")


def policy() -> Policy:
    """The reminder policy in force: ``TIPSTAFF_REMINDERS`` (a file), else the bundled one."""
    return load_policy(os.environ.get("TIPSTAFF_REMINDERS") or None)



def _key(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def active_parties(session: Session, *, case_ids: Iterable[str]) -> dict[str, set[str]]:
    """Per case, the ids of parties still on it."""
    found: dict[str, set[str]] = {}
    for row in session.execute(core_select(PARTIES.c.case_id, PARTIES.c.party_id)
                               .where(PARTIES.c.case_id.in_(list(case_ids)),
                                      PARTIES.c.active.is_(True))):
        found.setdefault(row.case_id, set()).add(row.party_id)
    return found


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert outbox rows; a row whose key is already queued is left as it is."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(builder(OUTBOX).on_conflict_do_nothing(index_elements=["key"]), rows)


def _row(*, case: CaseRow, term_id: str, version: int | None, planned: Planned,
         due_date: dt.date | None, due_utc: dt.datetime | None, detail: dict[str, Any],
         key: str, at: dt.datetime) -> dict[str, Any]:
    fire = naive_utc(planned.fire_at)
    return {"key": key, "case_id": case.id, "term_id": term_id, "deadline_version": version,
            "kind": planned.kind, "label": planned.label, "recipient": planned.recipient,
            "fire_utc": fire, "due_date": due_date, "due_utc": due_utc, "zone": case.zone,
            "detail": json.dumps(detail, sort_keys=True), "state": "pending",
            "next_attempt_utc": fire, "attempts": 0, "channel": None, "escalated": False,
            "claimed_by": None, "claimed_until_utc": None, "sent_utc": None, "late": False,
            "last_error": None, "created_utc": naive_utc(at)}


def cancel_pending(session: Session, *, case_id: str, term_id: str, reason: str) -> int:
    """Cancel a term's pending reminders (not violation alerts); how many were cancelled."""
    result = session.execute(update(OUTBOX).where(
        OUTBOX.c.case_id == case_id, OUTBOX.c.term_id == term_id,
        OUTBOX.c.state == "pending", OUTBOX.c.kind != "violation",
    ).values(state="cancelled", last_error=reason))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def plan(session: Session, *, orders: Mapping[str, Order],
         items: Sequence[tuple[CaseRow, CaseReport]],
         versions: Sequence[Mapping[str, Any]], previous: Mapping[tuple[str, str], Any],
         at: dt.datetime) -> None:
    """Queue and cancel reminders for new deadline ``versions`` (rows as inserted, each with
    ``case_id``, ``term_id``, ``version``, ``due_date``, ``due_utc``, ``status``) and alerts
    for each report's violations. ``previous`` maps (case, term) to the superseded version.
    Runs inside the caller's transaction."""
    if not items:
        return
    rules = policy()
    cases = {case.id: case for case, _ in items}
    active = active_parties(session, case_ids=cases)
    rows: list[dict[str, Any]] = []
    for version in versions:
        case = cases[version["case_id"]]
        order = orders[case.id]
        term = next(t for t in order.terms if t.id == version["term_id"])
        before = previous.get((case.id, term.id))
        is_open = version["status"] in OPEN_STATUSES and version["due_date"] is not None
        if (is_open and before is not None and before.status in OPEN_STATUSES
                and before.due_date == version["due_date"]
                and before.recorded_utc <= version["recorded_utc"]):
            # Same date, still open: the reminders planned for it stand. (A version recorded
            # "earlier" than its predecessor only happens when a simulated clock replays the
            # past over a store written in real time; it is planned afresh.)
            continue
        if before is not None:
            cancel_pending(session, case_id=case.id, term_id=term.id,
                           reason=f"superseded by deadline version {version['version']} "
                                  f"({version['status']}, due {version['due_date']})")
        if not is_open:
            continue
        planned = plan_deadline(rules, order=order, term=term,
                                calendar=load_court(order.court),
                                due_date=version["due_date"], at=at,
                                active=active.get(case.id, set()))
        for item in planned:
            rows.append(_row(case=case, term_id=term.id, version=version["version"],
                             planned=item, due_date=version["due_date"],
                             due_utc=version["due_utc"], detail={}, at=at,
                             key=_key(case.id, term.id, version["version"], item.recipient,
                                      item.kind, item.fire_at.isoformat())))
    for case, report in items:
        order = orders[case.id]
        for violation in report.violations:
            term = next(t for t in order.terms if t.id == violation.term)
            for item in plan_violation(rules, order=order, term=term, at=at,
                                       active=active.get(case.id, set())):
                rows.append(_row(case=case, term_id=term.id, version=None, planned=item,
                                 due_date=None, due_utc=None, at=at,
                                 detail={"events": list(violation.events),
                                         "reason": violation.reason},
                                 key=_key(case.id, term.id, "violation",
                                          ",".join(sorted(violation.events)),
                                          violation.reason, item.recipient)))
    insert_rows(session, rows)


# -- the daemon's side ------------------------------------------------------------------------

def next_due(session: Session) -> dt.datetime | None:
    """The earliest instant a pending message wants attention (aware UTC), if any."""
    value = session.execute(core_select(OUTBOX.c.next_attempt_utc)
                            .where(OUTBOX.c.state == "pending")
                            .order_by(OUTBOX.c.next_attempt_utc).limit(1)).scalar()
    return value.replace(tzinfo=UTC) if value is not None else None


def due_rows(session: Session, *, now: dt.datetime, limit: int) -> list[Any]:
    """Pending rows due at ``now``, oldest first, locked for this transaction (on PostgreSQL
    with SKIP LOCKED, so another daemon's claim never blocks or doubles this one)."""
    query = (core_select(OUTBOX).where(OUTBOX.c.state == "pending",
                                       OUTBOX.c.next_attempt_utc <= naive_utc(now))
             .order_by(OUTBOX.c.next_attempt_utc, OUTBOX.c.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query))


def current_deadlines(session: Session, *, pairs: Iterable[tuple[str, str]]
                      ) -> dict[tuple[str, str], Any]:
    """The latest deadline version of each (case, term)."""
    wanted = set(pairs)
    if not wanted:
        return {}
    found: dict[tuple[str, str], Any] = {}
    case_ids = sorted({c for c, _ in wanted})
    for row in session.execute(core_select(DEADLINES.c.case_id, DEADLINES.c.term_id,
                                           DEADLINES.c.version, DEADLINES.c.due_date,
                                           DEADLINES.c.status)
                               .where(DEADLINES.c.case_id.in_(case_ids))
                               .order_by(DEADLINES.c.version)):
        if (row.case_id, row.term_id) in wanted:
            found[(row.case_id, row.term_id)] = row
    return found


def set_state(session: Session, *, row_id: int, values: Mapping[str, Any],
              claimed_by: str | None = None) -> bool:
    """Update one row (only while ``claimed_by`` still holds it, when given)."""
    condition = [OUTBOX.c.id == row_id]
    if claimed_by is not None:
        condition.append(OUTBOX.c.claimed_by == claimed_by)
    result = session.execute(update(OUTBOX).where(*condition).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim(session: Session, *, row_ids: list[int], me: str, now: dt.datetime) -> None:
    """Mark rows 'sending' by ``me`` (one statement for the batch)."""
    if row_ids:
        session.execute(update(OUTBOX).where(OUTBOX.c.id.in_(row_ids)).values(
            state="sending", claimed_by=me, claimed_until_utc=naive_utc(now),
            attempts=OUTBOX.c.attempts + 1))


def mark_sent(session: Session, *, me: str, rows: list[dict[str, Any]]) -> None:
    """Record deliveries (each dict: ``id``, ``sent`` naive UTC, ``late``, ``channel``) in one
    executemany; a row no longer claimed by ``me`` is left alone."""
    statement = update(OUTBOX).where(
        OUTBOX.c.id == bindparam("row_id"), OUTBOX.c.claimed_by == me,
    ).values(state="sent", sent_utc=bindparam("sent_at"), late=bindparam("was_late"),
             channel=bindparam("via"), claimed_by=None, last_error=None)
    session.connection().execute(statement, [
        {"row_id": r["id"], "sent_at": r["sent"], "was_late": r["late"], "via": r["channel"]}
        for r in rows])


def reclaim_abandoned(session: Session, *, me: str) -> int:
    """Return rows left 'sending' by a daemon that died to 'pending' (called by a daemon that
    has just become the only one scheduling: every other claimer is gone)."""
    result = session.execute(update(OUTBOX).where(
        OUTBOX.c.state == "sending",
        or_(OUTBOX.c.claimed_by.is_(None), OUTBOX.c.claimed_by != me),
    ).values(state="pending", claimed_by=None, claimed_until_utc=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def list_rows(session: Session, *, case_id: str | None = None, state: str | None = None,
              limit: int = 200) -> list[Any]:
    """Outbox rows for `tipstaff alerts list`, newest planned instant last."""
    conditions = []
    if case_id:
        conditions.append(OUTBOX.c.case_id == case_id)
    if state:
        conditions.append(OUTBOX.c.state == state)
    query = core_select(OUTBOX).order_by(OUTBOX.c.fire_utc, OUTBOX.c.id)
    if conditions:
        query = query.where(and_(*conditions))
    return list(session.execute(query.limit(limit)))


def alert_view(row: Any) -> dict[str, Any]:
    """An outbox row as `tipstaff alerts list --json` and the API show it."""
    def iso(value: dt.datetime | None) -> str | None:
        return value.replace(tzinfo=UTC).isoformat() if value else None

    return {"id": row.key, "case": row.case_id, "term": row.term_id, "kind": row.kind,
            "label": row.label, "recipient": row.recipient, "state": row.state,
            "planned_for": iso(row.fire_utc), "due_date": row.due_date.isoformat()
            if row.due_date else None, "deadline_version": row.deadline_version,
            "attempts": row.attempts, "channel": row.channel, "escalated": row.escalated,
            "sent_at": iso(row.sent_utc), "late": row.late, "last_error": row.last_error}


def counts(session: Session, *, now: dt.datetime, stale_after: dt.timedelta
           ) -> dict[str, int]:
    """Health figures: rows by state, and pending rows due longer than ``stale_after``."""
    by_state = {state: 0 for state in STATES}
    for state, number in session.execute(core_select(OUTBOX.c.state, func.count())
                                         .group_by(OUTBOX.c.state)):
        by_state[state] = int(number)
    stale = session.execute(core_select(func.count()).where(
        OUTBOX.c.state.in_(("pending", "sending")),
        OUTBOX.c.next_attempt_utc < naive_utc(now - stale_after))).scalar()
    failing = session.execute(core_select(func.count()).where(
        OUTBOX.c.state == "pending", OUTBOX.c.attempts > 0)).scalar()
    return {**by_state, "stale": int(stale or 0), "failing": int(failing or 0)}
