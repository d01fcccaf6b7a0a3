"""The FastAPI application: API, pages, feeds, health, and error handling.

Errors on API and feed routes are JSON: ``{"error": {"status", "message", "fields":
[{"path", "message", "expected"}]}}`` with ``path`` naming the field (``body.data.pages``,
``query.at``); pages get a short HTML page, and a missing sign-in redirects to ``/login``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlmodel import Session

from tipstaff import __version__
from tipstaff.engine.errors import TipstaffError
from tipstaff.scheduler.health import health
from tipstaff.web import api, feeds, pages
from tipstaff.web.auditlog import AuditWriter
from tipstaff.web.evaluations import Evaluations
from tipstaff.web.security import ApiError, LoginRequired, Web


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/feeds/", "/healthz"))


def _error(status: int, message: str, fields: list[dict[str, Any]] | None = None
           ) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message,
                                   "fields": fields or []}}, status_code=status)


def create_app(engine: Engine, *, base_url: str = "http://localhost:8080",
               secure_cookies: bool = True) -> FastAPI:
    """The application on ``engine`` (an initialised, current store)."""
    state = Web(engine=engine, evaluations=Evaluations(engine), audit=AuditWriter(engine),
                base_url=base_url, secure_cookies=secure_cookies)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.audit.close()
        state.evaluations.close()

    app = FastAPI(title="Tipstaff", version=__version__, lifespan=lifespan,
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None,
                  description="Protective orders and filing deadlines: compliance status, "
                              "deadlines with their derivations, custody events, alerts. "
                              "Authenticate with `Authorization: Bearer <token>`.")
    app.state.web = state
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(feeds.router)
    app.mount("/static", StaticFiles(directory=str(resources.files("tipstaff.web")
                                                   / "static")), name="static")

    @app.get("/healthz", summary="Is the daemon delivering reminders?", tags=["health"])
    def healthz() -> JSONResponse:
        with Session(engine) as session:
            report = health(session, wall=dt.datetime.now(dt.UTC),
                            stale_after=dt.timedelta(minutes=5))
        return JSONResponse({"healthy": report["healthy"], "problems": report["problems"],
                             "outbox": report["outbox"]},
                            status_code=200 if report["healthy"] else 503)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        if _wants_json(request):
            return _error(exc.status_code, str(exc.detail), exc.fields)
        return pages.not_found(request, exc)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = [{"path": ".".join(str(p) for p in e.get("loc", ())),
                   "message": e.get("msg", ""), "expected": e.get("type", "")}
                  for e in exc.errors()]
        return _error(422, "the request is not valid: " + "; ".join(
            f"{f['path']}: {f['message']}" for f in fields), fields)

    @app.exception_handler(TipstaffError)
    async def tipstaff_error(request: Request, exc: TipstaffError) -> Response:
        status = 404 if str(exc).startswith("no case") else 422
        if _wants_json(request):
            return _error(status, str(exc))
        return pages.not_found(request, ApiError(status, str(exc)))

    return app


def app_from_environment() -> FastAPI:
    """The application as configured by ``tipstaff serve`` through the environment (what
    each uvicorn worker process calls): ``TIPSTAFF_DATABASE_URL`` (else the SQLite file under
    ``TIPSTAFF_HOME``), ``TIPSTAFF_BASE_URL``, ``TIPSTAFF_INSECURE_COOKIES``."""
    import os

    from tipstaff.store import db
    from tipstaff.store_cli import default_url

    engine = db.open_store(os.environ.get("TIPSTAFF_DATABASE_URL") or default_url())
    insecure = os.environ.get("TIPSTAFF_INSECURE_COOKIES", "").lower() in ("1", "true", "yes")
    return create_app(engine, base_url=os.environ.get("TIPSTAFF_BASE_URL",
                                                      "http://localhost:8080"),
                      secure_cookies=not insecure)
