"""Web commands: ``tipstaff serve`` and the users, roles and tokens behind it."""

from __future__ import annotations

import datetime as dt
import os
import sys

import click
from sqlmodel import Session

from tipstaff.engine.errors import InputError
from tipstaff.store import access, repo
from tipstaff.store_cli import ACTOR, _engine, database_option

UTC = dt.UTC


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    env = os.environ.get("TIPSTAFF_USER_PASSWORD")
    if env:
        return env
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


def register(app: click.Group) -> None:
    """Add serve, user and token commands."""

    @app.command()
    @database_option
    @click.option("--host", envvar="TIPSTAFF_HTTP_HOST", default="127.0.0.1",
                  show_default=True)
    @click.option("--port", envvar="TIPSTAFF_HTTP_PORT", type=int, default=8080,
                  show_default=True)
    @click.option("--base-url", envvar="TIPSTAFF_BASE_URL",
                  help="Public address, for links and feed URLs (default http://HOST:PORT).")
    @click.option("--insecure-cookies", is_flag=True, envvar="TIPSTAFF_INSECURE_COOKIES",
                  help="Send the session cookie over plain HTTP too (never in production; "
                       "browsers accept Secure cookies from localhost anyway).")
    @click.option("--workers", envvar="TIPSTAFF_HTTP_WORKERS", type=click.IntRange(1, 64),
                  default=1, show_default=True,
                  help="Worker processes (each evaluates on its own engine thread).")
    def serve(database: str | None, host: str, port: int, base_url: str | None,
              insecure_cookies: bool, workers: int) -> None:
        """Serve the HTTP API (/api/v1, OpenAPI at /api/openapi.json) and the web pages."""
        import uvicorn

        from tipstaff.scheduler import logs

        _engine(database)  # refuse an uninitialised or newer store before forking workers
        logs.configure(os.environ.get("TIPSTAFF_LOG_LEVEL", "INFO"))
        # Workers are separate processes: they read their settings from the environment.
        if database:
            os.environ["TIPSTAFF_DATABASE_URL"] = database
        os.environ["TIPSTAFF_BASE_URL"] = base_url or f"http://{host}:{port}"
        os.environ["TIPSTAFF_INSECURE_COOKIES"] = "1" if insecure_cookies else ""
        uvicorn.run("tipstaff.web.server:app_from_environment", factory=True, host=host,
                    port=port, workers=workers, log_level="warning", proxy_headers=True,
                    server_header=False)

    @app.group()
    def user() -> None:
        """People who sign in, and their role on each case."""

    @user.command("add")
    @click.argument("username")
    @click.option("--name", required=True, help="Full name, as shown on pages.")
    @click.option("--admin", is_flag=True, help="Administrator: every case.")
    @click.option("--password-stdin", is_flag=True,
                  help="Read the password from standard input (else "
                       "TIPSTAFF_USER_PASSWORD, else a prompt).")
    @database_option
    def user_add(username: str, name: str, admin: bool, password_stdin: bool,
                 database: str | None) -> None:
        """Create a user."""
        engine = _engine(database)
        password = _password(password_stdin)
        now = dt.datetime.now(UTC)
        with Session(engine) as session, session.begin():
            access.add_user(session, username=username, name=name, password=password,
                            admin=admin, at=now)
            repo.add_audit(session, at=now, actor=ACTOR, action="user.add", subject=username,
                           detail={"admin": admin})
        click.echo(f"added user {username}" + (" (administrator)" if admin else ""))

    @user.command("grant")
    @click.argument("username")
    @click.argument("case_id", metavar="CASE")
    @click.argument("role", type=click.Choice(access.ROLES))
    @click.option("--party", "party_id", help="The case party this user acts for.")
    @database_option
    def user_grant(username: str, case_id: str, role: str, party_id: str | None,
                   database: str | None) -> None:
        """Give a user a role on a case."""
        engine = _engine(database)
        now = dt.datetime.now(UTC)
        with Session(engine) as session, session.begin():
            row = access.get_user(session, username=username)
            access.grant(session, user=row, case_id=case_id, role=role, party_id=party_id)
            repo.add_audit(session, at=now, actor=ACTOR, action="user.grant",
                           subject=case_id, detail={"user": username, "role": role})
        click.echo(f"{username} is {role} on {case_id}")

    @user.command("revoke")
    @click.argument("username")
    @click.argument("case_id", metavar="CASE")
    @database_option
    def user_revoke(username: str, case_id: str, database: str | None) -> None:
        """Take a user's role on a case away."""
        engine = _engine(database)
        now = dt.datetime.now(UTC)
        with Session(engine) as session, session.begin():
            row = access.get_user(session, username=username)
            if not access.revoke(session, user=row, case_id=case_id):
                raise InputError(f"{username} has no role on {case_id}")
            repo.add_audit(session, at=now, actor=ACTOR, action="user.revoke",
                           subject=case_id, detail={"user": username})
        click.echo(f"{username} has no role on {case_id} any more")

    @user.command("list")
    @database_option
    def user_list(database: str | None) -> None:
        """Every user with their roles."""
        engine = _engine(database)
        with Session(engine) as session:
            for row, members in access.list_users(session):
                roles = ", ".join(f"{m.role} on {m.case_id}" for m in members)
                click.echo(f"{row.username:20} {'admin' if row.is_admin else '':6} "
                           f"{row.name} — {roles or 'no cases'}")

    @app.group()
    def token() -> None:
        """API tokens for scripts."""

    @token.command("create")
    @click.argument("username")
    @click.option("--label", default="", help="What the token is for.")
    @database_option
    def token_create(username: str, label: str, database: str | None) -> None:
        """Create an API token; it is printed once and stored only as a hash."""
        engine = _engine(database)
        now = dt.datetime.now(UTC)
        with Session(engine) as session, session.begin():
            row = access.get_user(session, username=username)
            value, _ = access.create_secret(session, user=row, kind="api_token", at=now,
                                            label=label)
            repo.add_audit(session, at=now, actor=ACTOR, action="token.create",
                           subject=username, detail={"label": label})
        click.echo(value)
