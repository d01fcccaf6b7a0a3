"""Who is asking and what they may do: API tokens, browser sessions, CSRF, login rate
limiting, and the audit of every access decision.

A case the user has no role on does not exist for them (404, never 403, so case ids do not
leak); a role too weak for the action is 403.
"""

from __future__ import annotations

import datetime as dt
import hmac
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from tipstaff.store import access
from tipstaff.store.access import Principal
from tipstaff.store.models import SecretRow
from tipstaff.web.auditlog import AuditWriter
from tipstaff.web.evaluations import Evaluations

UTC = dt.UTC
SESSION_COOKIE = "tipstaff_session"
SESSION_LIFETIME = dt.timedelta(hours=8)
LOGIN_WINDOW = 15 * 60.0
LOGIN_FAILURES_ALLOWED = 5  # per user name
ADDRESS_FAILURES_ALLOWED = 30  # per address: an office behind one NAT shares it


class ApiError(HTTPException):
    """An error answered as JSON: ``{"error": {"status", "message", "fields"}}``."""

    def __init__(self, status: int, message: str,
                 fields: list[dict[str, Any]] | None = None) -> None:
        super().__init__(status_code=status, detail=message)
        self.fields = fields or []


class LoginRequired(Exception):
    """A page needs a signed-in user: redirect to the login page."""


@dataclass
class LoginLimiter:
    """At most five failed sign-ins per user name, and thirty per address, in 15 minutes."""

    failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        entries = self.failures[key]
        while entries and entries[0] < now - LOGIN_WINDOW:
            entries.popleft()
        return entries

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self.lock:
            return any(len(self._recent(k, now)) >= (
                ADDRESS_FAILURES_ALLOWED if k.startswith("ip:") else LOGIN_FAILURES_ALLOWED)
                for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self.lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self.lock:
            self.failures.pop(key, None)


@dataclass
class Web:
    """The application's shared parts."""

    engine: Engine
    evaluations: Evaluations
    audit: AuditWriter
    base_url: str
    secure_cookies: bool
    limiter: LoginLimiter = field(default_factory=LoginLimiter)


def web(request: Request) -> Web:
    state: Web = request.app.state.web
    return state


def now() -> dt.datetime:
    # The shell reads the clock once per request.
    return dt.datetime.now(UTC)


# Resolved secrets are remembered for a moment: three queries per request otherwise cost
# more than serving a cached status. A revoked token or changed role takes effect within
# PRINCIPAL_TTL seconds.
PRINCIPAL_TTL = 2.0
_principals: dict[tuple[str, str], tuple[float, tuple[Principal, SecretRow]]] = {}
_principals_lock = threading.Lock()


def _remembered(value: str, kind: str) -> tuple[Principal, SecretRow] | None:
    with _principals_lock:
        cached = _principals.get((kind, access.digest(value)))
    if cached is not None and time.monotonic() - cached[0] < PRINCIPAL_TTL:
        return cached[1]
    return None


async def _from_secret_async(engine: Engine, value: str, kind: str
                             ) -> tuple[Principal, SecretRow] | None:
    """:func:`_from_secret` without a thread hop when the answer is remembered."""
    return _remembered(value, kind) or await run_in_threadpool(_from_secret, engine, value,
                                                               kind)


def _from_secret(engine: Engine, value: str, kind: str) -> tuple[Principal, SecretRow] | None:
    key = (kind, access.digest(value))
    remembered = _remembered(value, kind)
    if remembered is not None:
        return remembered
    with Session(engine) as session:
        found = access.resolve_secret(session, value=value, kind=kind, at=now())
        if found is None:
            return None
        row, user = found
        result = access.principal(session, user), row
    with _principals_lock:
        if len(_principals) > 10_000:
            _principals.clear()
        _principals[key] = (time.monotonic(), result)
    return result


def forget_secret(value: str, kind: str) -> None:
    """Drop a secret from the moment's memory (sign-out takes effect at once)."""
    with _principals_lock:
        _principals.pop((kind, access.digest(value)), None)


async def api_principal(request: Request) -> Principal:
    """The caller of an API route: a bearer token, or a browser session (reads only)."""
    w = web(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        found = await _from_secret_async(w.engine, header[7:].strip(), "api_token")
        if found is None:
            w.audit.record(actor="anonymous", action="access.deny", subject=request.url.path,
                           detail={"reason": "invalid or revoked token"})
            raise ApiError(401, "invalid or revoked API token")
        return found[0]
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and request.method == "GET":
        found = await _from_secret_async(w.engine, cookie, "session")
        if found is not None:
            return found[0]
    raise ApiError(401, "authentication required: send 'Authorization: Bearer <token>' "
                        "(create one with `tipstaff token create USER`)")


async def page_session_async(request: Request) -> tuple[Principal, SecretRow]:
    """:func:`page_session` for async routes."""
    cookie = request.cookies.get(SESSION_COOKIE)
    found = await _from_secret_async(web(request).engine, cookie, "session") if cookie \
        else None
    if found is None:
        raise LoginRequired
    return found


def page_session(request: Request) -> tuple[Principal, SecretRow]:
    """The signed-in user of a page and their session (for its CSRF token)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    found = _from_secret(web(request).engine, cookie, "session") if cookie else None
    if found is None:
        raise LoginRequired
    return found


def check_csrf(session_row: SecretRow, submitted: str | None) -> None:
    if not submitted or not session_row.csrf or not hmac.compare_digest(submitted,
                                                                        session_row.csrf):
        raise ApiError(403, "the form's security token is missing or stale; reload the page")


def authorize(request: Request, principal: Principal, case_id: str, *,
              action: str = "read", event_type: str | None = None) -> str:
    """The caller's role on the case, after checking ``action`` (read | record | audit);
    every decision is audited. No role: 404. Role too weak: 403."""
    w = web(request)
    role = principal.role(case_id)
    detail = {"path": request.url.path, "method": request.method, "case": case_id,
              "action": action, "role": role}
    if role is None:
        w.audit.record(actor=principal.username, action="access.deny", subject=case_id,
                       detail={**detail, "reason": "no role on this case"})
        raise ApiError(404, f"no case {case_id!r}")
    allowed = (action == "read"
               or (action == "record" and event_type is not None
                   and principal.may_record(case_id, event_type))
               or (action == "audit" and role in ("admin", "auditor"))
               or (action == "manage" and role == "admin"))
    if not allowed:
        w.audit.record(actor=principal.username, action="access.deny", subject=case_id,
                       detail={**detail, "event_type": event_type,
                               "reason": f"a {role} may not {action}"
                                         + (f" {event_type}" if event_type else "")})
        raise ApiError(403, f"a {role} may not {action}"
                            + (f" {event_type} events" if event_type else "")
                            + " on this case")
    w.audit.record(actor=principal.username, action="access.allow", subject=case_id,
                   detail=detail)
    return role
