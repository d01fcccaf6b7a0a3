"""Claim due outbox rows, send them, record the outcome: at-least-once delivery.

Each row goes through three steps: a claim transaction (re-checks that the deadline is still
open and the recipient still on the case, else cancels or suppresses it, audited), the send
(outside any transaction), and a record transaction. A crash between claim and record leaves
the row 'sending'; the next daemon to take over returns it to 'pending' and sends it again
with the same Message-ID / webhook id — at most two deliveries, recognisably the same.

A failed send goes back to 'pending' with exponential back-off. When a channel keeps failing
(three attempts) or the deadline is within a day, one escalation copy is queued through
another channel (the party's webhook, the operator's escalation webhook, or the log), while
the original keeps retrying its own channel.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy import select as core_select
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from tipstaff.engine.evaluate import OPEN_STATUSES
from tipstaff.scheduler.messages import Message, build
from tipstaff.scheduler.notify import DeliveryError, EmailChannel, LogChannel, WebhookChannel
from tipstaff.store import outbox, repo
from tipstaff.store.models import FindingRow, PartyRow, naive_utc

UTC = dt.UTC
log = logging.getLogger("tipstaff.dispatch")
ESCALATE_AFTER_ATTEMPTS = 3
ESCALATE_WITHIN = dt.timedelta(days=1)
BACKOFF_FIRST = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(minutes=30)
RECORD_EVERY = 50


@dataclass
class Channels:
    """The configured channels; the log is always there."""

    email: EmailChannel | None = None
    webhook: WebhookChannel | None = None
    escalation_webhook: str | None = None  # operator's URL for escalations
    log: LogChannel = field(default_factory=LogChannel)



def backoff(attempts: int) -> dt.timedelta:
    """Delay before attempt ``attempts + 1``: 30 s, 1 min, 2 min, ... capped at 30 min."""
    delay: dt.timedelta = BACKOFF_FIRST * (2 ** max(attempts - 1, 0))
    return min(delay, BACKOFF_MAX)


@dataclass
class Claimed:
    row: Any
    party: Any
    message: Message


class Dispatcher:
    """Sends what is due. Single-threaded; one per leading daemon."""

    def __init__(self, engine: Engine, *, me: str, channels: Channels, base_url: str,
                 late_after: dt.timedelta, now: Callable[[], dt.datetime],
                 should_stop: Callable[[], bool] = lambda: False) -> None:
        self.engine = engine
        self.me = me
        self.channels = channels
        self.base_url = base_url
        self.late_after = late_after
        self.now = now
        self.should_stop = should_stop
        self.sent = 0
        self.failures = 0
        self.last_sent: dt.datetime | None = None
        # Fault injection for the acceptance tests, never set in production:
        # "pause-after-claim" / "pause-after-send" (so a test can kill -9 there) and
        # "db-error-every=N" (every Nth claim transaction fails before it commits).
        self._fault = os.environ.get("TIPSTAFF_FAULT", "")
        self._claims = 0

    def run_once(self, *, limit: int = 200) -> int:
        """Claim and deliver up to ``limit`` due rows; returns how many were handled.

        Outcomes are recorded in groups of up to :data:`RECORD_EVERY` sends (one transaction
        each): a crash can then re-send at most one group, each message at most once more,
        with its same id.
        """
        claimed = self._claim(self.now(), limit)
        done: list[tuple[Claimed, str, str | None]] = []
        for index, item in enumerate(claimed):
            if self.should_stop():
                # Hand the rest back now rather than leave them 'sending' until a takeover.
                self._release(claimed[index:])
                break
            self._pause("pause-after-claim")
            channel_name, error = self._send(item)
            self._pause("pause-after-send")
            done.append((item, channel_name, error))
            if len(done) >= RECORD_EVERY:
                self._record_all(done)
                done = []
        self._record_all(done)
        if self.channels.email is not None:
            self.channels.email.close()
        return len(claimed)

    def _record_all(self, done: list[tuple[Claimed, str, str | None]]) -> None:
        if not done:
            return
        delivered: list[dict[str, Any]] = []
        with Session(self.engine) as session, session.begin():
            for item, channel, error in done:
                self._record(session, item, channel, error, delivered)
            if delivered:
                outbox.mark_sent(session, me=self.me, rows=delivered)
                for d in delivered:
                    del d["id"], d["sent"]
                # One audit record per group, naming every delivery in it.
                cases = sorted({d["case"] for d in delivered})
                repo.add_audit(session, at=self.now(), actor=self.me, action="alert.sent",
                               subject=cases[0] if len(cases) == 1 else f"{len(cases)} cases",
                               detail={"deliveries": delivered})

    def _pause(self, point: str) -> None:
        if self._fault == point:
            log.warning("fault injection: pausing", extra={"fields": {"point": point}})
            time.sleep(3600)

    def _release(self, items: list[Claimed]) -> None:
        with Session(self.engine) as session, session.begin():
            for item in items:
                outbox.set_state(session, row_id=item.row.id, claimed_by=self.me, values={
                    "state": "pending", "claimed_by": None, "attempts": item.row.attempts})

    def _inject_db_error(self) -> None:
        self._claims += 1
        if self._fault.startswith("db-error-every="):
            every = int(self._fault.split("=", 1)[1])
            if self._claims % every == 0:
                raise OperationalError("injected fault", {}, Exception("injected fault"))

    # -- claim -------------------------------------------------------------------------------

    def _claim(self, now: dt.datetime, limit: int) -> list[Claimed]:
        claimed: list[Claimed] = []
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            rows = outbox.due_rows(session, now=now, limit=limit)
            if not rows:
                return []
            self._inject_db_error()
            case_ids = sorted({r.case_id for r in rows})
            current = outbox.current_deadlines(
                session, pairs=[(r.case_id, r.term_id) for r in rows if r.kind != "violation"])
            parties = {(p.case_id, p.party_id): p for p in session.execute(
                core_select(PartyRow.__table__).where(  # type: ignore[attr-defined]
                    PartyRow.__table__.c.case_id.in_(case_ids)))}  # type: ignore[attr-defined]
            cases = repo.get_cases(session, case_ids=case_ids)
            findings = _latest_findings(session, case_ids)
            to_claim: list[int] = []
            for row in rows:
                party = parties.get((row.case_id, row.recipient))
                reason = self._stale(row, current.get((row.case_id, row.term_id)))
                if reason:
                    outbox.set_state(session, row_id=row.id,
                                     values={"state": "cancelled", "last_error": reason})
                    repo.add_audit(session, at=now, actor=self.me, action="alert.cancelled",
                                   subject=row.case_id, detail={"key": row.key,
                                                                "reason": reason})
                    continue
                if party is None or not party.active:
                    why = f"recipient {row.recipient} is no longer on the case"
                    outbox.set_state(session, row_id=row.id,
                                     values={"state": "suppressed", "last_error": why})
                    repo.add_audit(session, at=now, actor=self.me, action="alert.suppressed",
                                   subject=row.case_id, detail={"key": row.key,
                                                                "recipient": row.recipient,
                                                                "reason": why})
                    continue
                to_claim.append(row.id)
                order = repo.order_of(session, case=cases[row.case_id])
                term_finding = next((t for t in findings.get(row.case_id, {}).get("terms", [])
                                     if t["id"] == row.term_id), None)
                message = build(row, order=order, finding=term_finding,
                                base_url=self.base_url, recipient_name=party.name)
                claimed.append(Claimed(row=row, party=party, message=message))
            outbox.claim(session, row_ids=to_claim, me=self.me, now=now)
        return claimed

    @staticmethod
    def _stale(row: Any, deadline: Any) -> str | None:
        """Why a reminder no longer applies (None: it still does)."""
        if row.kind == "violation":
            return None
        if deadline is None:
            return "the deadline is no longer recorded"
        if deadline.status not in OPEN_STATUSES:
            return f"the deadline is {deadline.status} (version {deadline.version})"
        if deadline.due_date != row.due_date:
            return (f"the deadline moved to {deadline.due_date} (version "
                    f"{deadline.version})")
        return None

    # -- send --------------------------------------------------------------------------------

    def _route(self, row: Any, party: Any) -> tuple[str, Any, str]:
        """(channel name, channel, address) for a row: a forced channel for escalation
        copies, else the party's e-mail, else its webhook, else the log."""
        c = self.channels
        if row.channel == "escalation-webhook" and c.webhook and c.escalation_webhook:
            return "escalation-webhook", c.webhook, c.escalation_webhook
        if row.channel == "webhook" and c.webhook and party.webhook:
            return "webhook", c.webhook, party.webhook
        if row.channel == "log":
            return "log", c.log, party.party_id
        if row.channel is None:
            if party.email and c.email:
                return "email", c.email, party.email
            if party.webhook and c.webhook:
                return "webhook", c.webhook, party.webhook
        return "log", c.log, party.party_id

    def _alternative(self, primary: str, party: Any) -> str | None:
        c = self.channels
        if primary == "email" and party.webhook and c.webhook:
            return "webhook"
        if primary != "escalation-webhook" and c.webhook and c.escalation_webhook:
            return "escalation-webhook"
        return "log" if primary != "log" else None

    def _send(self, item: Claimed) -> tuple[str, str | None]:
        name, channel, address = self._route(item.row, item.party)
        try:
            channel.send(item.message, address=address)
        except DeliveryError as exc:
            return name, str(exc)
        return name, None

    # -- record ------------------------------------------------------------------------------

    def _record(self, session: Session, item: Claimed, channel: str, error: str | None,
                delivered: list[dict[str, Any]]) -> None:
        row, now = item.row, self.now()
        attempts = row.attempts + 1
        if error is None:
            late = now - row.fire_utc.replace(tzinfo=UTC) > self.late_after
            delivered.append({"id": row.id, "sent": naive_utc(now), "key": row.key,
                              "case": row.case_id, "term": row.term_id,
                              "kind": row.kind, "recipient": row.recipient,
                              "channel": channel, "late": late, "attempts": attempts})
            self.sent += 1
            self.last_sent = now
            log.info("sent", extra={"fields": {"key": row.key, "case": row.case_id,
                                               "term": row.term_id, "kind": row.kind,
                                               "channel": channel, "late": late}})
            return
        self.failures += 1
        outbox.set_state(session, row_id=row.id, claimed_by=self.me, values={
            "state": "pending", "claimed_by": None, "last_error": error,
            "next_attempt_utc": naive_utc(now + backoff(attempts))})
        escalate = (not row.escalated and row.channel is None and (
            attempts >= ESCALATE_AFTER_ATTEMPTS or row.kind in ("overdue", "violation")
            or (row.due_utc is not None
                and row.due_utc.replace(tzinfo=UTC) - now <= ESCALATE_WITHIN)))
        alternative = self._alternative(channel, item.party) if escalate else None
        if alternative is not None:
            outbox.set_state(session, row_id=row.id, values={"escalated": True})
            copy = {c: getattr(row, c) for c in row._fields if c != "id"}
            copy.update(key=hashlib.sha256(f"{row.key}|escalation".encode()).hexdigest(),
                        channel=alternative, state="pending", attempts=0,
                        next_attempt_utc=naive_utc(now), label=f"{row.label} (escalated: "
                        f"{channel} failing)", created_utc=naive_utc(now), last_error=None,
                        claimed_by=None, escalated=False,
                        detail=json.dumps({**json.loads(row.detail),
                                           "escalation_of": row.key}, sort_keys=True))
            outbox.insert_rows(session, [copy])
        repo.add_audit(session, at=now, actor=self.me, action="alert.failed",
                       subject=row.case_id, detail={
                           "key": row.key, "channel": channel, "error": error,
                           "attempts": attempts, "escalated_to": alternative})
        log.warning("delivery failed", extra={"fields": {
            "key": row.key, "channel": channel, "error": error, "attempts": attempts,
            "escalated_to": alternative}})


def _latest_findings(session: Session, case_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The latest stored finding payload of each case."""
    table = FindingRow.__table__  # type: ignore[attr-defined]
    newest = (core_select(func.max(table.c.id)).where(table.c.case_id.in_(case_ids))
              .group_by(table.c.case_id))
    return {row.case_id: json.loads(row.payload) for row in session.execute(
        core_select(table.c.case_id, table.c.payload).where(table.c.id.in_(newest)))}
