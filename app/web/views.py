"""What the API and the pages show, built from an evaluated case: terms with the order's own
words, the deadline chain with each date's derivation, a documents table by Bates page, the
event timeline, and the answer to "may I share these pages with this person today?".

Never shown: document content, redacted text, or event notes (free text that may quote a
document); pages are named by their Bates identifiers only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from tipstaff.engine import bates
from tipstaff.engine.evaluate import TermFinding
from tipstaff.engine.events import Event
from tipstaff.web.evaluations import Evaluated

# Event data keys never shown (free text).
HIDDEN_KEYS = frozenset({"note", "notes", "comment", "description"})


def term_view(finding: TermFinding, versions: Iterable[Any] = ()) -> dict[str, Any]:
    """One term: status, the order's words, and the full derivation of its date."""
    term = finding.term
    steps = finding.derivation()
    flags: list[dict[str, Any]] = []
    if finding.deadline is not None:
        flags = [{"id": f.id, "text": f.text,
                  "alternative": f.alternative.isoformat() if f.alternative else None}
                 for f in finding.deadline.flags]
    return {
        **finding.to_dict(),
        "action": term.action,
        "citation": {"label": term.citation.label(), "text": term.citation.text,
                     "paragraph": term.citation.paragraph, "page": term.citation.page},
        "reading": term.notes or None,
        "steps": [{"rule": s.rule, "text": s.text} for s in steps],
        "flags": flags,
        "pending_anchor": finding.status == "pending" and finding.due_date is None,
        "versions": [{"version": v.version, "status": v.status,
                      "due_date": v.due_date.isoformat() if v.due_date else None,
                      "recorded": v.recorded_utc.replace(tzinfo=dt.UTC).isoformat()}
                     for v in versions],
    }


def event_view(event: Event) -> dict[str, Any]:
    """An event for the timeline, without free-text fields."""
    moment = event.occurred_at
    return {"id": event.id, "type": event.type,
            "occurred_at": moment.isoformat(),
            "data": {k: v for k, v in event.data.items() if k not in HIDDEN_KEYS}}


def documents_view(evaluated: Evaluated) -> list[dict[str, Any]]:
    """Every Bates page of the order's document sets with what happened to it."""
    order, report = evaluated.order, evaluated.report
    as_of = report.as_of
    outstanding = bates.pages(p for t in report.terms for p in t.outstanding)
    rows: dict[str, dict[str, Any]] = {}
    for doc in order.documents.values():
        redacted = {r.page: r.extent for r in doc.redactions}
        withheld = bates.pages(doc.withheld)
        for page in sorted(doc.all_pages(), key=bates.sort_key):
            rows[page] = {"page": page, "set": doc.id, "set_title": doc.title,
                          "withheld": page in withheld, "redacted": redacted.get(page),
                          "produced": None, "with": None, "viewed": [], "shared": [],
                          "returned": None, "outstanding": page in outstanding}
    for event in evaluated.events:
        moment = event.occurred_at
        if isinstance(moment, dt.datetime) and moment > as_of:
            continue
        if isinstance(moment, dt.date) and not isinstance(moment, dt.datetime) \
                and moment > as_of.date():
            continue
        day = moment.isoformat()[:10]
        for page in event.pages():
            row = rows.get(page)
            if row is None:
                continue
            if event.type in ("documents_served", "documents_produced"):
                row["produced"] = row["produced"] or day
                row["with"] = event.data.get("to")
            elif event.type == "document_viewed":
                row["viewed"].append(f"{event.data.get('by', '?')} {day}")
            elif event.type == "document_shared":
                row["shared"].append(f"{event.data.get('recipient', '?')} {day}")
            elif event.type in ("documents_returned", "documents_destroyed"):
                row["returned"] = day
                row["with"] = event.data.get("to") or "returned"
    return list(rows.values())


_DOCUMENTS: dict[tuple[str, int, str], list[dict[str, Any]]] = {}


def documents_cached(evaluated: Evaluated) -> list[dict[str, Any]]:
    """:func:`documents_view`, remembered per case, last event and day (it walks every
    event's pages: most of a page view for a case with a long history)."""
    key = (evaluated.case.id, evaluated.through_seq, evaluated.report.as_of.date().isoformat())
    found = _DOCUMENTS.get(key)
    if found is None:
        if len(_DOCUMENTS) > 1000:
            _DOCUMENTS.clear()
        found = _DOCUMENTS[key] = documents_view(evaluated)
    return found


def case_view(evaluated: Evaluated, versions: dict[str, list[Any]],
              timeline_limit: int | None = None) -> dict[str, Any]:
    """Everything the case page shows; the timeline newest first, cut to
    ``timeline_limit`` events when given."""
    order, report, case = evaluated.order, evaluated.report, evaluated.case
    recent = evaluated.events[::-1]
    if timeline_limit is not None:
        recent = recent[:timeline_limit]
    return {
        "case": case.id, "caption": order.caption, "number": order.case_number,
        "court": order.court, "as_of": report.as_of.isoformat(),
        "as_of_local": report.as_of.astimezone(ZoneInfo(case.zone)).strftime(
            "%a %Y-%m-%d %H:%M %Z"),
        "compliant": report.compliant,
        "order": {"title": order.title, "entered": order.entered.isoformat(),
                  "judge": order.judge, "sha256": order.sha256},
        "terms": [term_view(t, versions.get(t.term.id, [])) for t in report.terms],
        "violations": [v.to_dict() for v in report.violations],
        "documents": documents_cached(evaluated),
        "timeline": [event_view(e) for e in recent],
        "events_total": len(evaluated.events),
    }


def share_check(evaluated: Evaluated, hypothetical: Event, report_after: Any
                ) -> dict[str, Any]:
    """Allow or deny sharing, from the evaluation with the hypothetical sharing event added:
    denied when that event would be part of a violation."""
    order = evaluated.order
    produced = bates.pages(p for d in order.documents.values()
                           for p in bates.render(d.produced_pages()))
    unknown = sorted(set(hypothetical.pages()) - produced, key=bates.sort_key)
    facts: dict[str, Any] = {
        "pages": bates.render(hypothetical.pages()),
        "recipient": hypothetical.data.get("recipient"),
        "recipient_role": hypothetical.data.get("recipient_role"),
        "within_litigation": hypothetical.data.get("within_litigation"),
        "tiers": sorted({d.tier for d in order.documents.values() if d.tier
                         and hypothetical.pages() & d.all_pages()}),
        "acknowledgments": [e.id for e in evaluated.events
                            if e.type == "acknowledgment_signed"
                            and e.data.get("by") == hypothetical.data.get("recipient")],
        "final_disposition": next(({"term": t.term.id, "status": t.status,
                                    "due_date": t.due_date.isoformat() if t.due_date
                                    else None} for t in evaluated.report.terms
                                   if any(m.event == "documents_returned"
                                          for m in t.term.satisfied_by)), None),
    }
    if unknown:
        return {"allowed": False, "reason": f"not produced under this order: "
                f"{', '.join(bates.render(unknown))}", "terms": [], "facts": facts}
    broken = [v for v in report_after.violations if hypothetical.id in v.events]
    governing = [t for t in order.terms if t.kind in ("prohibition", "condition")
                 and any(m.event == "document_shared" for m in t.violated_by)]
    cited = (broken and [next(t for t in order.terms if t.id == v.term) for v in broken]) \
        or governing
    return {
        "allowed": not broken,
        "reason": "; ".join(v.reason for v in broken) if broken else
        "no term of the order forbids this sharing on the facts recorded",
        "terms": [{"id": t.id, "citation": t.citation.label(), "text": t.citation.text}
                  for t in cited],
        "facts": facts,
    }
