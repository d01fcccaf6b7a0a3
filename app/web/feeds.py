"""iCalendar feeds at secret-token addresses: one per user (all their cases) or per case.

Each term that has ever had a due date is one event with a stable UID
(``<case>.<term>@tipstaff``) and SEQUENCE = its deadline version, so Outlook and Google
update the event when the date moves instead of adding another; a deadline that is satisfied
or withdrawn is sent as STATUS:CANCELLED. Each event carries the date's derivation and a
reminder the day before.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response
from icalendar import Alarm, Calendar
from icalendar import Event as IcsEvent
from sqlmodel import Session, col, select

from tipstaff.store import access
from tipstaff.store.models import DeadlineRow
from tipstaff.web.security import ApiError, now, web

router = APIRouter(include_in_schema=False)
OPEN = {"pending", "overdue"}


@router.get("/feeds/{token}.ics")
def feed(request: Request, token: str) -> Response:
    w = web(request)
    at = now()
    with Session(w.engine) as session:
        found = access.resolve_secret(session, value=token, kind="feed", at=at)
        if found is None:
            w.audit.record(actor="anonymous", action="access.deny", subject="feed",
                           detail={"reason": "unknown or revoked feed"})
            raise ApiError(404, "no such feed")
        secret, user = found
        principal = access.principal(session, user)
        case_ids = ([secret.case_id] if secret.case_id else
                    sorted(principal.roles) if not principal.is_admin else None)
        if case_ids is None:
            from tipstaff.store.models import CaseRow

            case_ids = list(session.exec(select(CaseRow.id)).all())
        case_ids = [c for c in case_ids if principal.role(c) is not None]
        versions: dict[tuple[str, str], list[DeadlineRow]] = {}
        for row in session.exec(select(DeadlineRow).where(col(DeadlineRow.case_id).in_(
                case_ids)).order_by(col(DeadlineRow.version))).all():
            versions.setdefault((row.case_id, row.term_id), []).append(row)
    calendar = Calendar()
    calendar.add("prodid", "-//Tipstaff//deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Tipstaff — {secret.case_id or principal.name}")
    stamp = at.replace(microsecond=0)
    for case_id in case_ids:
        w.audit.record(actor=principal.username, action="access.allow", subject=case_id,
                       detail={"path": "/feeds", "action": "read"})
        evaluated = w.evaluations.case(case_id, at)
        for finding in evaluated.report.terms:
            history = versions.get((case_id, finding.term.id), [])
            dated = [v for v in history if v.due_date is not None]
            if finding.due_date is None and not dated:
                continue
            day = finding.due_date or dated[-1].due_date
            assert day is not None
            event = IcsEvent()
            event.add("uid", f"{case_id}.{finding.term.id}@tipstaff")
            event.add("sequence", history[-1].version if history else 0)
            event.add("dtstamp", stamp)
            event.add("dtstart", day)
            event.add("dtend", day + dt.timedelta(days=1))
            event.add("summary", f"{case_id}: {finding.term.id} due"
                                 + (" (provisional)" if finding.provisional else ""))
            steps = finding.derivation()
            event.add("description", "\n".join(
                [finding.term.action, f"{finding.term.citation.label()}: "
                 f"\u201c{finding.term.citation.text}\u201d", f"Status: {finding.status}. "
                 f"{finding.reason()}", "", "How the date is computed:",
                 *[f"[{s.rule}] {s.text}" for s in steps]]))
            event.add("url", f"{w.base_url.rstrip('/')}/cases/{case_id}#term-{finding.term.id}")
            if finding.status in OPEN and finding.due_date is not None:
                event.add("status", "TENTATIVE" if finding.provisional else "CONFIRMED")
                alarm = Alarm()
                alarm.add("action", "DISPLAY")
                alarm.add("description", f"{finding.term.id} is due tomorrow")
                alarm.add("trigger", dt.timedelta(days=-1))
                event.add_component(alarm)
            else:
                event.add("status", "CANCELLED")
            calendar.add_component(event)
    return Response(calendar.to_ical(), media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "no-store"})
