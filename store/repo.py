"""Repository functions over the store. Keyword-only; the caller owns the session and its
transaction, so an event and the findings it causes commit together or not at all.

Hash chains: each case's events chain ``hash = sha256(prev_hash + canonical event)``; the
audit log chains the same way across the whole store. :func:`verify_chains` walks both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, text
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from tipstaff.engine.datafile import suggest
from tipstaff.engine.evaluate import CaseReport
from tipstaff.engine.events import Event
from tipstaff.engine.order import Order, load_order_text
from tipstaff.store import outbox
from tipstaff.store.db import StoreError
from tipstaff.store.models import (
    AuditRow,
    CaseRow,
    DeadlineRow,
    EventRow,
    FindingRow,
    OrderRow,
    PartyRow,
    naive_utc,
)

GENESIS = "0" * 64
UTC = dt.UTC



def _digest(prev: str, payload: dict[str, Any]) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev + body).encode()).hexdigest()


def _lock(session: Session, name: str) -> None:
    """Serialise chain appends on PostgreSQL (SQLite's BEGIN IMMEDIATE already does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(hashtext(:n))").bindparams(n=name))  # type: ignore[call-overload]


# -- audit ----------------------------------------------------------------------------------

def add_audit(session: Session, *, at: dt.datetime, actor: str, action: str, subject: str,
              detail: dict[str, Any] | None = None) -> AuditRow:
    """Append one audit record to the store-wide chain."""
    _lock(session, "tipstaff-audit")
    last = session.exec(select(AuditRow).order_by(col(AuditRow.seq).desc()).limit(1)).first()
    prev = last.hash if last else GENESIS
    body = json.dumps(detail or {}, sort_keys=True, ensure_ascii=False)
    row = AuditRow(at_utc=naive_utc(at), actor=actor, action=action, subject=subject,
                   detail=body, prev_hash=prev, hash="")
    row.hash = _digest(prev, _audit_payload(row))
    session.add(row)
    session.flush()
    return row


def add_audit_many(session: Session, *, records: list[dict[str, Any]]) -> None:
    """Append several audit records (each: ``at``, ``actor``, ``action``, ``subject``,
    ``detail``) to the chain with one read and one insert."""
    if not records:
        return
    _lock(session, "tipstaff-audit")
    last = session.exec(select(AuditRow).order_by(col(AuditRow.seq).desc()).limit(1)).first()
    prev = last.hash if last else GENESIS
    rows = []
    for record in records:
        row = AuditRow(at_utc=naive_utc(record["at"]), actor=record["actor"],
                       action=record["action"], subject=record["subject"],
                       detail=json.dumps(record.get("detail") or {}, sort_keys=True,
                                         ensure_ascii=False), prev_hash=prev, hash="")
        row.hash = prev = _digest(prev, _audit_payload(row))
        rows.append(row.model_dump(exclude={"seq"}))
    session.execute(AuditRow.__table__.insert(), rows)  # type: ignore[attr-defined]


def _audit_payload(row: AuditRow) -> dict[str, Any]:
    return {"at": row.at_utc.isoformat(), "actor": row.actor, "action": row.action,
            "subject": row.subject, "detail": row.detail}


# -- orders and cases -----------------------------------------------------------------------

def add_order(session: Session, *, order: Order, content: str, at: dt.datetime) -> OrderRow:
    """Store an order file's exact text (idempotent by content hash)."""
    existing = session.exec(select(OrderRow).where(OrderRow.sha256 == order.sha256)).first()
    if existing:
        return existing
    row = OrderRow(order_id=order.id, version=order.version, sha256=order.sha256,
                   source=order.source, content=content, loaded_utc=naive_utc(at))
    session.add(row)
    session.flush()
    return row


def open_case(session: Session, *, case_id: str, order: Order, zone: str, at: dt.datetime
              ) -> tuple[CaseRow, bool]:
    """Open ``case_id`` under ``order``; (row, created). Re-opening under the same order is a
    no-op; under another order it is refused."""
    existing = session.get(CaseRow, case_id)
    if existing is not None:
        if existing.order_sha256 != order.sha256:
            raise StoreError(f"case {case_id} is already open under another version of its "
                             f"order ({existing.order_sha256[:12]})")
        return existing, False
    row = CaseRow(id=case_id, order_sha256=order.sha256, court=order.court, zone=zone,
                  caption=order.caption, opened_utc=naive_utc(at))
    session.add(row)
    session.flush()
    for party in order.parties.values():
        session.add(PartyRow(case_id=case_id, party_id=party.id, name=party.name,
                             roles=",".join(party.roles), contact=party.contact))
    session.flush()
    return row, True


def get_case(session: Session, *, case_id: str) -> CaseRow:
    """The case, or a clear error with a suggestion."""
    row = session.get(CaseRow, case_id)
    if row is None:
        known = [c for c in session.exec(select(CaseRow.id)).all()]
        raise StoreError(f"no case {case_id!r}{suggest(case_id, known)}"
                         + ("" if known else "; load an order first (`tipstaff order load`)"))
    return row


def list_cases(session: Session) -> list[tuple[CaseRow, int]]:
    """Every case with its number of events."""
    counts = dict(session.exec(select(EventRow.case_id, func.count())
                               .group_by(EventRow.case_id)).all())
    return [(row, int(counts.get(row.id, 0)))
            for row in session.exec(select(CaseRow).order_by(CaseRow.id)).all()]


_ORDERS: dict[str, Order] = {}


def order_of(session: Session, *, case: CaseRow) -> Order:
    """The stored order text the case runs under, parsed (cached by content hash)."""
    cached = _ORDERS.get(case.order_sha256)
    if cached is None:
        row = session.exec(select(OrderRow).where(OrderRow.sha256 == case.order_sha256)).one()
        cached = load_order_text(row.content, source=row.source)
        _ORDERS[case.order_sha256] = cached
    return cached


# -- events ---------------------------------------------------------------------------------

def _event_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """What an event's hash covers (every stored field but the chain and recording time)."""
    utc, day = row["occurred_utc"], row["occurred_date"]
    return {"case": row["case_id"], "id": row["event_id"], "type": row["type"],
            "utc": utc.isoformat() if utc else None, "offset": row["occurred_offset_min"],
            "date": day.isoformat() if day else None, "zone": row["zone"], "data": row["data"]}


def _event_values(case: CaseRow, event: Event, at: dt.datetime) -> dict[str, Any]:
    moment = event.occurred_at
    utc = offset = day = None
    if isinstance(moment, dt.datetime):
        utc = naive_utc(moment)
        delta = moment.utcoffset()
        offset = int(delta.total_seconds() // 60) if delta is not None else 0
    else:
        day = moment
    return {"case_id": case.id, "event_id": event.id, "type": event.type,
            "occurred_utc": utc, "occurred_offset_min": offset, "occurred_date": day,
            "zone": case.zone,
            "data": json.dumps(dict(event.data), sort_keys=True, ensure_ascii=False),
            "recorded_utc": naive_utc(at), "prev_hash": "", "hash": ""}


def to_event(row: Any) -> Event:
    """A stored row (ORM object or Core row) as an :class:`Event`, with its original offset."""
    occurred: dt.date | dt.datetime
    if row.occurred_utc is not None:
        offset = dt.timezone(dt.timedelta(minutes=row.occurred_offset_min or 0))
        occurred = row.occurred_utc.replace(tzinfo=UTC).astimezone(offset)
    else:
        assert row.occurred_date is not None
        occurred = row.occurred_date
    return Event(case=row.case_id, type=row.type, occurred_at=occurred, id=row.event_id,
                 data=json.loads(row.data))


def add_events(session: Session, *, case: CaseRow, events: list[Event], at: dt.datetime
               ) -> tuple[list[Event], list[Event]]:
    """Append new events to one case's chain; (added, already present). See
    :func:`add_events_many`."""
    return add_events_many(session, cases={case.id: case}, events={case.id: events},
                           at=at)[case.id]


def add_events_many(session: Session, *, cases: Mapping[str, CaseRow],
                    events: Mapping[str, list[Event]], at: dt.datetime
                    ) -> dict[str, tuple[list[Event], list[Event]]]:
    """Append new events to each case's chain; per case, (added, already present).

    An id already stored with the same content is skipped (idempotent re-import); with
    different content it is refused, and the caller's transaction rolls back. Two reads and
    one bulk insert serve every case of the batch.
    """
    for case_id in sorted(events):  # a fixed order, so two writers cannot deadlock
        _lock(session, f"tipstaff-case-{case_id}")
    table = EventRow.__table__  # type: ignore[attr-defined]
    case_ids = list(events)
    ids = sorted({e.id for items in events.values() for e in items})
    stored: dict[tuple[str, str], dict[str, Any]] = {}
    heads: dict[str, str] = {}
    if case_ids:
        for found in session.execute(core_select(*table.c).where(
                table.c.case_id.in_(case_ids), table.c.event_id.in_(ids))):
            stored[(found.case_id, found.event_id)] = dict(found._mapping)
        last_seq = (core_select(func.max(table.c.seq)).where(table.c.case_id.in_(case_ids))
                    .group_by(table.c.case_id))
        for head in session.execute(core_select(table.c.case_id, table.c.hash)
                                    .where(table.c.seq.in_(last_seq))):
            heads[head.case_id] = head.hash
    result: dict[str, tuple[list[Event], list[Event]]] = {}
    rows: list[dict[str, Any]] = []
    for case_id, items in events.items():
        case = cases[case_id]
        prev = heads.get(case_id, GENESIS)
        added: list[Event] = []
        skipped: list[Event] = []
        for event in items:
            row = _event_values(case, event, at)
            old = stored.get((case_id, event.id))
            if old is not None:
                if _event_payload(old) != _event_payload(row):
                    raise StoreError(f"event {event.id} is already recorded for case "
                                     f"{case_id} with different content; events are never "
                                     "changed (record an event_retracted and a new event "
                                     "instead)")
                skipped.append(event)
                continue
            row["prev_hash"] = prev
            row["hash"] = prev = _digest(prev, _event_payload(row))
            rows.append(row)
            added.append(event)
        result[case_id] = (added, skipped)
    if rows:
        # A Core bulk insert: the ORM unit of work costs more than the chain itself.
        session.execute(table.insert(), rows)
    return result


def list_events(session: Session, *, case_id: str) -> tuple[list[Event], int]:
    """The case's events in recording order, and the last sequence number (0: none)."""
    return list_events_many(session, case_ids=[case_id]).get(case_id, ([], 0))


def list_events_many(session: Session, *, case_ids: list[str]
                     ) -> dict[str, tuple[list[Event], int]]:
    """Per case, its events in recording order and its last sequence number, in one read
    (Core rows, not ORM objects: building model instances cost most of a status call)."""
    table = EventRow.__table__  # type: ignore[attr-defined]
    found: dict[str, tuple[list[Event], int]] = {}
    for row in session.execute(core_select(*table.c).where(table.c.case_id.in_(case_ids))
                               .order_by(table.c.seq)):
        events, _ = found.get(row.case_id, ([], 0))
        events.append(to_event(row))
        found[row.case_id] = (events, row.seq)
    return found


# -- findings -------------------------------------------------------------------------------

def add_findings(session: Session, *, case: CaseRow, report: CaseReport, through_seq: int,
                 at: dt.datetime) -> None:
    """Append one case's evaluation; see :func:`add_findings_many`."""
    add_findings_many(session, items=[(case, report, through_seq)], at=at)


def add_findings_many(session: Session, *, items: list[tuple[CaseRow, CaseReport, int]],
                      at: dt.datetime, record_unchanged: bool = True) -> int:
    """Append each evaluation and a new deadline version for every term whose date or status
    changed (never overwriting the old one), and plan or cancel the reminders those versions
    call for (:mod:`tipstaff.store.outbox`): a few reads and bulk inserts for the batch.

    With ``record_unchanged`` false (the daemon's periodic re-evaluation), a case whose
    deadlines did not change gets no new finding row. Returns the number of new versions.
    """
    if not items:
        return 0
    recorded = naive_utc(at)
    table = DeadlineRow.__table__  # type: ignore[attr-defined]
    latest: dict[tuple[str, str], Any] = {}
    for row in session.execute(core_select(table.c.id, table.c.case_id, table.c.term_id,
                                           table.c.version, table.c.due_date, table.c.status,
                                           table.c.recorded_utc)
                               .where(table.c.case_id.in_([c.id for c, _, _ in items]))
                               .order_by(table.c.version)):
        latest[(row.case_id, row.term_id)] = row  # ordered by version: the last one wins
    new_rows = []
    for case, report, _ in items:
        for finding in report.terms:
            previous = latest.get((case.id, finding.term.id))
            if (previous is not None and previous.due_date == finding.due_date
                    and previous.status == finding.status):
                continue
            steps = finding.derivation()
            new_rows.append({
                "case_id": case.id, "term_id": finding.term.id,
                "version": previous.version + 1 if previous else 1,
                "due_date": finding.due_date,
                "due_utc": (naive_utc(finding.deadline.due_at)
                            if finding.deadline is not None else None),
                "zone": case.zone, "status": finding.status,
                "explanation": json.dumps({"reason": finding.reason(),
                                           "steps": [{"rule": s.rule, "text": s.text}
                                                     for s in steps]}),
                "supersedes": previous.id if previous else None, "recorded_utc": recorded})
    if new_rows:
        session.execute(table.insert(), new_rows)
    changed_cases = {row["case_id"] for row in new_rows}
    kept = [(case, report, through) for case, report, through in items
            if record_unchanged or case.id in changed_cases]
    if kept:
        session.execute(FindingRow.__table__.insert(), [  # type: ignore[attr-defined]
            {"case_id": case.id, "order_sha256": case.order_sha256, "through_seq": through,
             "as_of_utc": naive_utc(report.as_of), "compliant": report.compliant,
             "payload": json.dumps(report.to_dict(), sort_keys=True), "recorded_utc": recorded}
            for case, report, through in kept])
    outbox.plan(session, orders={case.id: order_of(session, case=case) for case, _, _ in items},
                items=[(case, report) for case, report, _ in items], versions=new_rows,
                previous=latest, at=at)
    return len(new_rows)


def get_cases(session: Session, *, case_ids: list[str]) -> dict[str, CaseRow]:
    """Several cases in one read; an unknown id is a clear error with a suggestion."""
    found = {row.id: row for row in session.exec(
        select(CaseRow).where(col(CaseRow.id).in_(case_ids))).all()}
    for case_id in case_ids:
        if case_id not in found:
            get_case(session, case_id=case_id)  # raises the explanatory error
    return found


def parties(session: Session, *, case_id: str) -> list[PartyRow]:
    """The case's parties (removed ones included), by id."""
    return list(session.exec(select(PartyRow).where(PartyRow.case_id == case_id)
                             .order_by(col(PartyRow.party_id))).all())


def deadline_histories(session: Session, *, case_id: str) -> dict[str, list[DeadlineRow]]:
    """Per term, every version of its deadline, oldest first."""
    found: dict[str, list[DeadlineRow]] = {}
    for row in session.exec(select(DeadlineRow).where(DeadlineRow.case_id == case_id)
                            .order_by(col(DeadlineRow.version))).all():
        found.setdefault(row.term_id, []).append(row)
    return found


def deadline_history(session: Session, *, case_id: str, term_id: str) -> list[DeadlineRow]:
    """Every version of a term's deadline, oldest first."""
    return list(session.exec(select(DeadlineRow).where(
        DeadlineRow.case_id == case_id, DeadlineRow.term_id == term_id)
        .order_by(col(DeadlineRow.version))).all())


# -- verification ---------------------------------------------------------------------------

def verify_chains(session: Session) -> list[str]:
    """The first broken link of each chain (empty: every chain is intact)."""
    problems: list[str] = []
    prev_by_case: dict[str, str] = {}
    broken_cases: set[str] = set()
    for row in session.exec(select(EventRow).order_by(col(EventRow.seq))).all():
        if row.case_id in broken_cases:
            continue
        prev = prev_by_case.get(row.case_id, GENESIS)
        if row.prev_hash != prev or row.hash != _digest(prev, _event_payload(row.model_dump())):
            problems.append(f"case {row.case_id}: event {row.event_id} (seq {row.seq}) does "
                            "not match its hash chain: the event log was altered")
            broken_cases.add(row.case_id)
            continue
        prev_by_case[row.case_id] = row.hash
    prev = GENESIS
    for audit in session.exec(select(AuditRow).order_by(col(AuditRow.seq))).all():
        if audit.prev_hash != prev or audit.hash != _digest(prev, _audit_payload(audit)):
            problems.append(f"audit log: record {audit.seq} ({audit.action} {audit.subject}) "
                            "does not match its hash chain")
            break
        prev = audit.hash
    return problems

