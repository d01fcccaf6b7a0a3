"""What a reminder or alert says. Built from the outbox row, the case and its order, and the
latest finding — never from document content, redacted text or event notes: a message names
the case, the term and its citation, the due date and time with zone, Bates identifiers and
a link."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tipstaff.engine.order import Order
from tipstaff.engine.timecalc import fmt

UTC = dt.UTC
SUBJECT_BY_KIND = {"notice": "deadline set", "reminder": "reminder", "due_today": "due today",
                   "overdue": "OVERDUE", "violation": "VIOLATION"}


@dataclass(frozen=True, slots=True)
class Message:
    """One delivery's content; ``id`` is stable across retries (Message-ID, webhook id)."""

    id: str
    subject: str
    body: str
    payload: dict[str, Any]


def build(row: Any, *, order: Order, finding: dict[str, Any] | None, base_url: str,
          recipient_name: str) -> Message:
    """The message for outbox ``row`` (a Core row of the outbox table)."""
    term = next(t for t in order.terms if t.id == row.term_id)
    outstanding = list((finding or {}).get("outstanding", []))
    link = f"{base_url.rstrip('/')}/cases/{row.case_id}/terms/{row.term_id}"
    due_local = None
    if row.due_utc is not None:
        due_local = row.due_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(row.zone))
    lines = [f"To: {recipient_name}",
             f"Case: {order.caption}, No. {order.case_number} ({order.court}) [{row.case_id}]",
             f"Term: {term.id} — {term.citation.label()}",
             f"What: {term.action}"]
    if row.kind == "violation":
        detail = json.loads(row.detail)
        lines.append(f"Violation: {detail.get('reason', '')}")
        lines.append(f"Events: {', '.join(detail.get('events', []))}")
        headline = f"violation of {term.id}"
    else:
        due_text = fmt(row.due_date) if row.due_date else "—"
        if due_local is not None:
            due_text += f", {due_local.strftime('%H:%M:%S %Z')} ({row.zone})"
        lines.append(f"Due: {due_text}")
        lines.append(f"Reminder: {row.label}")
        headline = f"{term.id} due {row.due_date.isoformat() if row.due_date else '—'}"
    if outstanding:
        lines.append(f"Pages still out: {', '.join(outstanding)}")
    lines += [f"Details and the derivation of every date: {link}",
              f"Tipstaff message {row.key}"]
    subject = f"[Tipstaff] {row.case_id}: {SUBJECT_BY_KIND.get(row.kind, row.kind)} — {headline}"
    payload = {"id": row.key, "case": row.case_id, "term": row.term_id, "kind": row.kind,
               "label": row.label, "recipient": row.recipient,
               "due_date": row.due_date.isoformat() if row.due_date else None,
               "due_at": due_local.isoformat() if due_local else None, "zone": row.zone,
               "planned_for": row.fire_utc.replace(tzinfo=UTC).isoformat(),
               "citation": term.citation.label(), "outstanding": outstanding, "link": link}
    if row.kind == "violation":
        payload["events"] = json.loads(row.detail).get("events", [])
    return Message(id=row.key, subject=subject, body="\n".join(lines) + "\n", payload=payload)
