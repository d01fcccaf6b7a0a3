"""The JSON API under ``/api/v1``. Every route names the role it needs; see security.py."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from tipstaff.engine import bates
from tipstaff.engine.errors import DataError, InputError
from tipstaff.engine.events import Event, event_from_json
from tipstaff.store import outbox, repo, service
from tipstaff.store.access import Principal
from tipstaff.store.models import AckRow, CaseRow, EventRow, FindingRow, OrderRow
from tipstaff.web import views
from tipstaff.web.security import ApiError, api_principal, authorize, now, web
from tipstaff.when import as_of

router = APIRouter(prefix="/api/v1")
Caller = Annotated[Principal, Depends(api_principal)]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")]
At = Annotated[str | None, Query(description="As of this date (YYYY-MM-DD, end of that day "
                                             "in the court's zone) or ISO 8601 instant; "
                                             "default now.")]


def _page(items: list[Any], total: int, limit: int, offset: int, request: Request
          ) -> dict[str, Any]:
    following = None
    if offset + limit < total:
        following = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    return {"items": items, "total": total, "limit": limit, "offset": offset,
            "next": following}


def _at(text: str | None, zone: str) -> dt.datetime:
    try:
        return as_of(text, zone=zone, now=now())
    except InputError as exc:
        raise ApiError(422, str(exc), [{"path": "query.at", "message": str(exc),
                                        "expected": "YYYY-MM-DD or an ISO 8601 instant"}]
                       ) from None


_ZONES: dict[str, str] = {}


def _zone(request: Request, case_id: str) -> str:
    """The case's court zone (cached: a case never changes court)."""
    zone = _ZONES.get(case_id)
    if zone is None:
        with Session(web(request).engine) as session:
            case = session.get(CaseRow, case_id)
            if case is None:
                raise ApiError(404, f"no case {case_id!r}")
            zone = _ZONES[case_id] = case.zone
    return zone


@router.get("/me", summary="Who am I, and my role on each case")
def me(principal: Caller) -> dict[str, Any]:
    return {"username": principal.username, "name": principal.name,
            "admin": principal.is_admin, "cases": principal.roles}


@router.get("/cases", summary="The cases I may see")
def cases(request: Request, principal: Caller, limit: Limit = 50, offset: Offset = 0
          ) -> dict[str, Any]:
    with Session(web(request).engine) as session:
        query = select(CaseRow).order_by(col(CaseRow.id))
        if not principal.is_admin:
            query = query.where(col(CaseRow.id).in_(list(principal.roles)))
        rows = list(session.exec(query).all())
    items = [{"id": c.id, "caption": c.caption, "court": c.court, "zone": c.zone,
              "role": principal.role(c.id)} for c in rows[offset:offset + limit]]
    return _page(items, len(rows), limit, offset, request)


@router.get("/cases/{case_id}", summary="A case, its order and parties")
def case(request: Request, case_id: str, principal: Caller) -> dict[str, Any]:
    role = authorize(request, principal, case_id)
    with Session(web(request).engine) as session:
        row = repo.get_case(session, case_id=case_id)
        order = repo.order_of(session, case=row)
        parties = repo.parties(session, case_id=case_id)
    return {"id": row.id, "caption": row.caption, "number": order.case_number,
            "court": row.court, "zone": row.zone, "role": role,
            "order": {"id": order.id, "version": order.version, "sha256": order.sha256,
                      "title": order.title, "entered": order.entered.isoformat()},
            "parties": [{"id": p.party_id, "name": p.name, "roles": p.roles.split(","),
                         "active": p.active} for p in parties]}


@router.get("/cases/{case_id}/status", summary="Compliance now (or at a date)",
            response_class=JSONResponse)
async def status(request: Request, case_id: str, principal: Caller, at: At = None
                 ) -> Response:
    authorize(request, principal, case_id)
    evaluated = await web(request).evaluations.case_async(case_id,
                                                          _at(at, _zone(request, case_id)))
    # Async, with the cached answer served on the event loop (a thread hop per request made
    # the latency tail ~4x longer under 50 clients); serialised directly: FastAPI's generic
    # encoder cost more than the cached evaluation.
    return Response(json.dumps(evaluated.report.to_dict()), media_type="application/json")


def _versions(request: Request, case_id: str) -> dict[str, list[Any]]:
    with Session(web(request).engine) as session:
        return dict(repo.deadline_histories(session, case_id=case_id))


@router.get("/cases/{case_id}/deadlines", summary="Every term with its date's derivation")
def deadlines(request: Request, case_id: str, principal: Caller, at: At = None
              ) -> dict[str, Any]:
    authorize(request, principal, case_id)
    evaluated = web(request).evaluations.case(case_id, _at(at, _zone(request, case_id)))
    versions = _versions(request, case_id)
    return {"case": case_id, "as_of": evaluated.report.as_of.isoformat(),
            "terms": [views.term_view(t, versions.get(t.term.id, []))
                      for t in evaluated.report.terms]}


@router.get("/cases/{case_id}/terms/{term_id}", summary="One term, fully explained")
def term(request: Request, case_id: str, term_id: str, principal: Caller, at: At = None
         ) -> dict[str, Any]:
    authorize(request, principal, case_id)
    evaluated = web(request).evaluations.case(case_id, _at(at, _zone(request, case_id)))
    for finding in evaluated.report.terms:
        if finding.term.id == term_id:
            return views.term_view(finding, _versions(request, case_id).get(term_id, []))
    raise ApiError(404, f"case {case_id} has no term {term_id!r}")


@router.get("/cases/{case_id}/documents", summary="Each Bates page: produced, withheld, "
                                                  "redacted, with whom, returned, outstanding")
def documents(request: Request, case_id: str, principal: Caller, at: At = None
              ) -> dict[str, Any]:
    authorize(request, principal, case_id)
    evaluated = web(request).evaluations.case(case_id, _at(at, _zone(request, case_id)))
    return {"case": case_id, "as_of": evaluated.report.as_of.isoformat(),
            "pages": views.documents_view(evaluated)}


@router.get("/cases/{case_id}/events", summary="The event log, in recording order")
def events(request: Request, case_id: str, principal: Caller, limit: Limit = 50,
           offset: Offset = 0) -> dict[str, Any]:
    authorize(request, principal, case_id)
    with Session(web(request).engine) as session:
        table = EventRow.__table__  # type: ignore[attr-defined]
        total = int(session.execute(core_select(func.count()).where(
            table.c.case_id == case_id)).scalar() or 0)
        rows = session.execute(core_select(table).where(table.c.case_id == case_id)
                               .order_by(table.c.seq).offset(offset).limit(limit)).all()
    items = [{**views.event_view(repo.to_event(r)), "seq": r.seq, "hash": r.hash,
              "recorded": r.recorded_utc.replace(tzinfo=dt.UTC).isoformat()} for r in rows]
    return _page(items, total, limit, offset, request)


def _parse_events(case_id: str, body: Any, key: str | None) -> list[Event]:
    items = body if isinstance(body, list) else [body]
    if not items:
        raise ApiError(422, "expected an event object or a non-empty list of them",
                       [{"path": "body", "message": "empty", "expected": "an event"}])
    parsed: list[Event] = []
    for index, item in enumerate(items):
        prefix = f"body[{index}]" if isinstance(body, list) else "body"
        if not isinstance(item, dict):
            raise ApiError(422, "each event must be a JSON object",
                           [{"path": prefix, "message": "not an object",
                             "expected": "an object with type, occurred_at, data"}])
        item = {"case": case_id, **item}
        if item["case"] != case_id:
            raise ApiError(422, f"event for case {item['case']!r} posted to case {case_id!r}",
                           [{"path": f"{prefix}.case", "message": "does not match the URL",
                             "expected": case_id}])
        if key and "id" not in item:
            item["id"] = key if len(items) == 1 else f"{key}-{index}"
        try:
            parsed.append(event_from_json(item, source="request"))
        except DataError as exc:
            path = f"{prefix}.{exc.field}" if exc.field else prefix
            message = str(exc).split(": ", 2)[-1] if exc.field else str(exc)
            raise ApiError(422, str(exc).removeprefix("request: "),
                           [{"path": path, "message": message,
                             "expected": "see the event types in the README"}]) from None
    return parsed


@router.post("/cases/{case_id}/events", status_code=201,
             summary="Record events (the JSON of `tipstaff event import`; idempotent)")
def post_events(request: Request, case_id: str, principal: Caller,
                body: Annotated[Any, Body(description="One event object, or a list.")],
                idempotency_key: Annotated[str | None, Header(
                    description="Used as the event id when the body has none.")] = None
                ) -> dict[str, Any]:
    if principal.role(case_id) is None:
        authorize(request, principal, case_id)  # 404, audited
    parsed = _parse_events(case_id, body, idempotency_key)
    for event in parsed:
        authorize(request, principal, case_id, action="record", event_type=event.type)
    w = web(request)
    recorded = w.evaluations.run(service.record_events, w.engine, parsed, at=now(),
                                 actor=principal.username)
    return {"case": case_id, "added": recorded.added, "already_present": recorded.skipped,
            "ids": [e.id for e in parsed]}


@router.get("/cases/{case_id}/findings", summary="Stored evaluations, newest first")
def findings(request: Request, case_id: str, principal: Caller, limit: Limit = 20,
             offset: Offset = 0) -> dict[str, Any]:
    authorize(request, principal, case_id)
    with Session(web(request).engine) as session:
        total = int(session.execute(core_select(func.count()).select_from(
            FindingRow.__table__).where(  # type: ignore[attr-defined]
            FindingRow.__table__.c.case_id == case_id)).scalar() or 0)  # type: ignore[attr-defined]
        rows = session.exec(select(FindingRow).where(FindingRow.case_id == case_id)
                            .order_by(col(FindingRow.id).desc()).offset(offset)
                            .limit(limit)).all()
    items = [{"id": r.id, "through_seq": r.through_seq, "compliant": r.compliant,
              "as_of": r.as_of_utc.replace(tzinfo=dt.UTC).isoformat(),
              "order_sha256": r.order_sha256, "report": json.loads(r.payload)} for r in rows]
    return _page(items, total, limit, offset, request)


def _alert(row: Any, acked: set[str]) -> dict[str, Any]:
    return {**outbox.alert_view(row), "acknowledged": row.key in acked}


@router.get("/cases/{case_id}/alerts", summary="Reminders and alerts of the case")
def alerts(request: Request, case_id: str, principal: Caller, limit: Limit = 100,
           offset: Offset = 0, state: Annotated[str | None, Query(
               pattern="^(pending|sending|sent|cancelled|suppressed)$")] = None
           ) -> dict[str, Any]:
    authorize(request, principal, case_id)
    with Session(web(request).engine) as session:
        rows = outbox.list_rows(session, case_id=case_id, state=state, limit=100_000)
        acked = set(session.exec(select(AckRow.alert_key).where(
            AckRow.user_id == principal.user_id)).all())
    return _page([_alert(r, acked) for r in rows[offset:offset + limit]], len(rows), limit,
                 offset, request)


@router.post("/alerts/{key}/ack", summary="Acknowledge an alert")
def acknowledge(request: Request, key: str, principal: Caller) -> dict[str, Any]:
    return ack_alert(request, principal, key)


def ack_alert(request: Request, principal: Principal, key: str) -> dict[str, Any]:
    """Record that ``principal`` acknowledged alert ``key`` (idempotent; audited)."""
    w = web(request)
    with Session(w.engine) as session:
        rows = [r for r in session.execute(core_select(outbox.OUTBOX).where(
            outbox.OUTBOX.c.key == key))]
    if not rows:
        raise ApiError(404, f"no alert {key!r}")
    authorize(request, principal, rows[0].case_id)
    at = now()
    with Session(w.engine) as session, session.begin():
        exists = session.exec(select(AckRow).where(AckRow.alert_key == key,
                                                   AckRow.user_id == principal.user_id)
                              ).first()
        if exists is None:
            session.add(AckRow(alert_key=key, user_id=principal.user_id,
                               at_utc=at.replace(tzinfo=None)))
            repo.add_audit(session, at=at, actor=principal.username, action="alert.ack",
                           subject=rows[0].case_id, detail={"key": key})
    return {"key": key, "acknowledged": True}


@router.get("/cases/{case_id}/share-check",
            summary="May these pages be shared with this person today?")
def share_check(request: Request, case_id: str, principal: Caller,
                pages: Annotated[str, Query(description="Bates pages or ranges, comma "
                                                        "separated, e.g. D-18..D-20,D-27")],
                recipient: Annotated[str, Query(min_length=1)],
                by: Annotated[str, Query(min_length=1, description="Party sharing.")],
                within_litigation: bool = False,
                recipient_role: Annotated[str | None, Query()] = None,
                at: At = None) -> dict[str, Any]:
    authorize(request, principal, case_id)
    when = _at(at, _zone(request, case_id))
    try:
        page_set = bates.pages(p.strip() for p in pages.split(",") if p.strip())
    except (DataError, ValueError) as exc:
        raise ApiError(422, str(exc), [{"path": "query.pages", "message": str(exc),
                                        "expected": "e.g. D-18..D-20,D-27"}]) from None
    if not page_set:
        raise ApiError(422, "no pages given", [{"path": "query.pages", "message": "empty",
                                                "expected": "e.g. D-21"}])
    w = web(request)
    evaluated = w.evaluations.case(case_id, when)
    data: dict[str, Any] = {"pages": bates.render(page_set), "by": by, "recipient": recipient,
                            "within_litigation": within_litigation}
    if recipient_role:
        data["recipient_role"] = recipient_role
    hypothetical = event_from_json({"case": case_id, "type": "document_shared",
                                    "occurred_at": when.isoformat(), "id": "share-check",
                                    "data": data}, source="share-check")
    after = w.evaluations.evaluate(evaluated.order, [*evaluated.events, hypothetical], when,
                                   case_id)
    return {"case": case_id, "as_of": when.isoformat(),
            **views.share_check(evaluated, hypothetical, after)}


@router.get("/orders", summary="Stored orders (administrators)")
def orders(request: Request, principal: Caller) -> dict[str, Any]:
    if not principal.is_admin:
        raise ApiError(403, "only administrators list orders")
    with Session(web(request).engine) as session:
        rows = session.exec(select(OrderRow).order_by(col(OrderRow.id))).all()
    return {"items": [{"id": r.order_id, "version": r.version, "sha256": r.sha256,
                       "source": r.source,
                       "loaded": r.loaded_utc.replace(tzinfo=dt.UTC).isoformat()}
                      for r in rows]}


@router.get("/audit/verify", summary="Walk the hash chains (auditors, administrators)")
def audit_verify(request: Request, principal: Caller) -> dict[str, Any]:
    auditable = [c for c, role in principal.roles.items() if role == "auditor"]
    if not principal.is_admin and not auditable:
        web(request).audit.record(actor=principal.username, action="access.deny",
                                  subject="audit", detail={"reason": "not an auditor"})
        raise ApiError(403, "only auditors and administrators read the audit chain")
    with Session(web(request).engine) as session:
        problems = repo.verify_chains(session)
    if not principal.is_admin:
        problems = [p for p in problems if p.startswith("audit log")
                    or any(p.startswith(f"case {c}:") for c in auditable)]
    web(request).audit.record(actor=principal.username, action="access.allow",
                              subject="audit", detail={"path": request.url.path})
    return {"intact": not problems, "problems": problems}
