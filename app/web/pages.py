"""Server-rendered pages: sign-in, dashboard, case page, custody form, alert
acknowledgment, calendar feed addresses. Forms carry a per-session CSRF token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from importlib import resources
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, col, select

from tipstaff.engine import bates
from tipstaff.engine.errors import DataError
from tipstaff.engine.events import event_from_json
from tipstaff.store import access, outbox, repo, service
from tipstaff.store.models import AckRow, CaseRow, SecretRow, UserRow
from tipstaff.web import views
from tipstaff.web.api import ack_alert
from tipstaff.web.security import (
    SESSION_COOKIE,
    SESSION_LIFETIME,
    ApiError,
    authorize,
    check_csrf,
    forget_secret,
    now,
    page_session,
    page_session_async,
    web,
)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files("tipstaff.web") / "templates"))
HORIZON = dt.timedelta(days=14)
TIMELINE = 50  # events shown on the case page unless all are asked for


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200
            ) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _render(request, "login.html", {"principal": None})


@router.post("/login", response_model=None)
def login(request: Request, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "") -> Response:
    w = web(request)
    address = request.client.host if request.client else "?"
    keys = (f"user:{username}", f"ip:{address}")
    if w.limiter.blocked(*keys):
        w.audit.record(actor=username or "anonymous", action="login.blocked",
                       subject="login", detail={"address": address})
        return _render(request, "login.html", {"principal": None, "username": username,
                                               "error": "Too many failed attempts; try "
                                                        "again in 15 minutes."}, 429)
    with Session(w.engine) as session, session.begin():
        user = session.exec(select(UserRow).where(UserRow.username == username)).first()
        if user is None or not user.active or not access.check_password(password,
                                                                        user.password_hash):
            w.limiter.failed(*keys)
            w.audit.record(actor=username or "anonymous", action="login.failed",
                           subject="login", detail={"address": address})
            return _render(request, "login.html", {
                "principal": None, "username": username,
                "error": "Unknown user name or wrong password."}, 401)
        token, _ = access.create_secret(session, user=user, kind="session", at=now(),
                                        lifetime=SESSION_LIFETIME, label=address)
    w.limiter.succeeded(keys[0])
    w.audit.record(actor=username, action="login", subject="login",
                   detail={"address": address})
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()),
                        httponly=True, samesite="strict", secure=w.secure_cookies, path="/")
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    principal, row = page_session(request)
    check_csrf(row, csrf)
    with Session(web(request).engine) as session, session.begin():
        stored = session.get(SecretRow, row.id)
        if stored is not None:
            stored.revoked = True
            session.add(stored)
    web(request).audit.record(actor=principal.username, action="logout", subject="login",
                              detail={})
    forget_secret(request.cookies.get(SESSION_COOKIE, ""), "session")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    principal, row = page_session(request)
    w = web(request)
    at = now()
    with Session(w.engine) as session:
        query = select(CaseRow).order_by(col(CaseRow.id))
        if not principal.is_admin:
            query = query.where(col(CaseRow.id).in_(list(principal.roles)))
        cases = list(session.exec(query).all())
        acked = set(session.exec(select(AckRow.alert_key).where(
            AckRow.user_id == principal.user_id)).all())
        alert_rows = [r for c in cases for r in outbox.list_rows(session, case_id=c.id,
                                                                  state="sent", limit=10_000)
                      if r.key not in acked]
    due, overdue, violations, summary = [], [], [], []
    for case in cases:
        authorize(request, principal, case.id)
        report = w.evaluations.case(case.id, at).report
        today = at.astimezone(ZoneInfo(case.zone)).date()
        summary.append({"id": case.id, "caption": case.caption,
                        "role": principal.role(case.id), "compliant": report.compliant})
        for t in report.terms:
            item = {"case": case.id, "term": t.term.id, "status": t.status,
                    "due_date": t.due_date.isoformat() if t.due_date else None,
                    "reason": t.reason(), "provisional": t.provisional}
            if t.status == "overdue":
                overdue.append(item)
            elif (t.status == "pending" and t.due_date is not None
                  and today <= t.due_date <= today + HORIZON):
                due.append(item)
        violations += [{"case": case.id, **v.to_dict()} for v in report.violations]
    alerts = [outbox.alert_view(r) for r in alert_rows]
    alerts.sort(key=lambda a: a["planned_for"], reverse=True)
    due.sort(key=lambda d: str(d["due_date"]))
    return _render(request, "dashboard.html", {
        "principal": principal, "csrf": row.csrf, "as_of": at.isoformat(timespec="minutes"),
        "due": due, "overdue": overdue, "violations": violations, "alerts": alerts[:100],
        "cases": summary, "notice": request.query_params.get("notice")})


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str) -> HTMLResponse:
    # Async like the status API: a cached case is rendered on the event loop (~5 ms).
    principal, row = await page_session_async(request)
    role = authorize(request, principal, case_id)
    w = web(request)
    evaluated = await w.evaluations.case_async(case_id, now())
    with Session(w.engine) as session:
        versions = dict(repo.deadline_histories(session, case_id=case_id))
    return _render(request, "case.html", {
        "principal": principal, "csrf": row.csrf, "role": role,
        "v": views.case_view(evaluated, versions, timeline_limit=None
                             if request.query_params.get("events") == "all" else TIMELINE),
        "may_record": principal.may_record(case_id, "documents_returned"),
        "notice": request.query_params.get("notice")})


def _custody_context(request: Request, case_id: str) -> dict[str, Any]:
    w = web(request)
    evaluated = w.evaluations.case(case_id, now())
    with Session(w.engine) as session:
        parties = [p for p in repo.parties(session, case_id=case_id) if p.active]
    produced = {p for d in evaluated.order.documents.values() for p in d.produced_pages()}
    outstanding = sorted(_pages_only((p for t in evaluated.report.terms
                                      for p in t.outstanding), produced), key=bates.sort_key)
    return {"case": case_id, "caption": evaluated.case.caption, "zone": evaluated.case.zone,
            "parties": parties, "outstanding": bates.render(outstanding),
            "outstanding_pages": outstanding}


def _pages_only(entries: Iterable[str], produced: set[str]) -> set[str]:
    """The produced Bates pages among outstanding entries (ranges expanded; physical items,
    such as a DVD, are not pages and are left out)."""
    found: set[str] = set()
    for entry in entries:
        try:
            found |= bates.pages([entry]) & produced
        except (DataError, ValueError):
            continue
    return found


@router.get("/cases/{case_id}/custody", response_class=HTMLResponse)
def custody_form(request: Request, case_id: str) -> HTMLResponse:
    principal, row = page_session(request)
    authorize(request, principal, case_id, action="record", event_type="documents_returned")
    context = _custody_context(request, case_id)
    local_now = now().astimezone(ZoneInfo(context["zone"]))
    coordinator = next((p.party_id for p in context["parties"]
                        if "litigation_coordinator" in p.roles.split(",")), None)
    counsel = next((p.party_id for p in context["parties"]
                    if "defense_counsel" in p.roles.split(",")), None)
    return _render(request, "custody.html", {
        **context, "principal": principal, "csrf": row.csrf, "errors": {},
        "form": {"type": "documents_returned", "by": coordinator, "to": counsel,
                 "occurred_at": local_now.strftime("%Y-%m-%dT%H:%M")}})


@router.post("/cases/{case_id}/custody", response_model=None)
def custody_record(request: Request, case_id: str, csrf: Annotated[str, Form()] = "",
                   type: Annotated[str, Form()] = "", pages: Annotated[str, Form()] = "",
                   all_outstanding: Annotated[str, Form()] = "",
                   occurred_at: Annotated[str, Form()] = "", by: Annotated[str, Form()] = "",
                   to: Annotated[str, Form()] = "") -> Response:
    principal, row = page_session(request)
    check_csrf(row, csrf)
    kind = type if type in ("documents_returned", "document_viewed") else ""
    authorize(request, principal, case_id, action="record",
              event_type=kind or "documents_returned")
    context = _custody_context(request, case_id)
    form = {"type": type, "pages": pages, "all_outstanding": bool(all_outstanding),
            "occurred_at": occurred_at, "by": by, "to": to}
    errors: dict[str, str] = {}
    if not kind:
        errors["type"] = "Choose whether the pages were returned or viewed."
    chosen: set[str] = set()
    if all_outstanding:
        chosen |= set(context["outstanding_pages"])
    if pages.strip():
        try:
            chosen |= bates.pages(p.strip() for p in pages.replace(";", ",").split(",")
                                  if p.strip())
        except (DataError, ValueError) as exc:
            errors["pages"] = f"{exc}. Write pages like D-18..D-28, D-30."
    if not chosen and "pages" not in errors:
        errors["pages"] = "Name at least one page, or tick “All pages still out”."
    unknown = sorted(chosen - produced_pages(request, case_id), key=bates.sort_key)
    if unknown and "pages" not in errors:
        errors["pages"] = (f"Not produced under this order: {', '.join(bates.render(unknown))}"
                           ". Check the Bates numbers.")
    zone = ZoneInfo(context["zone"])
    moment: dt.datetime | None = None
    try:
        moment = dt.datetime.fromisoformat(occurred_at).replace(tzinfo=zone)
        if moment > now() + dt.timedelta(minutes=5):
            errors["occurred_at"] = "That is in the future; record what has happened."
    except ValueError:
        errors["occurred_at"] = "Give the date and time, e.g. 2015-07-30 10:00."
    party_ids = {p.party_id for p in context["parties"]}
    if by not in party_ids:
        errors["by"] = "Choose who did it."
    if errors:
        return _render(request, "custody.html", {**context, "principal": principal,
                                                 "csrf": row.csrf, "errors": errors,
                                                 "form": form}, 422)
    assert moment is not None
    data: dict[str, Any] = {"pages": bates.render(chosen), "by": by}
    if kind == "documents_returned" and to in party_ids:
        data["to"] = to
    event = event_from_json({"case": case_id, "type": kind, "occurred_at": moment.isoformat(),
                             "data": data}, source="custody form")
    w = web(request)
    recorded = w.evaluations.run(service.record_events, w.engine, [event], at=now(),
                                 actor=principal.username)
    what = "returned" if kind == "documents_returned" else "viewed"
    notice = (f"Recorded: {', '.join(data['pages'])} {what}."
              if recorded.added else "Already recorded; nothing changed.")
    return RedirectResponse(f"/cases/{case_id}?notice={notice}", status_code=303)


def produced_pages(request: Request, case_id: str) -> set[str]:
    """Every page produced under the case's order (withheld pages excluded)."""
    order = web(request).evaluations.case(case_id, now()).order
    return {p for d in order.documents.values() for p in d.produced_pages()}


@router.post("/alerts/{key}/ack")
def ack(request: Request, key: str, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    principal, row = page_session(request)
    check_csrf(row, csrf)
    ack_alert(request, principal, key)
    return RedirectResponse("/?notice=Alert acknowledged.", status_code=303)


@router.get("/calendar", response_class=HTMLResponse)
def calendar(request: Request) -> HTMLResponse:
    principal, row = page_session(request)
    return _render(request, "calendar.html", {"principal": principal, "csrf": row.csrf,
                                              "cases": sorted(principal.roles)})


@router.post("/calendar", response_class=HTMLResponse)
def calendar_create(request: Request, csrf: Annotated[str, Form()] = "",
                    case: Annotated[str, Form()] = "") -> HTMLResponse:
    principal, row = page_session(request)
    check_csrf(row, csrf)
    if case:
        authorize(request, principal, case)
    w = web(request)
    with Session(w.engine) as session, session.begin():
        user = session.get(UserRow, principal.user_id)
        assert user is not None
        token, _ = access.create_secret(session, user=user, kind="feed", at=now(),
                                        case_id=case or None, label="calendar")
    w.audit.record(actor=principal.username, action="feed.create", subject=case or "all",
                   detail={})
    return _render(request, "calendar.html", {
        "principal": principal, "csrf": row.csrf, "cases": sorted(principal.roles),
        "new_url": f"{w.base_url.rstrip('/')}/feeds/{token}.ics"})


def not_found(request: Request, exc: ApiError) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><title>{exc.status_code}</title><main><h1>"
                        f"{exc.status_code}</h1><p>{exc.detail}</p><p><a href='/'>Dashboard"
                        "</a></p></main>", status_code=exc.status_code)
