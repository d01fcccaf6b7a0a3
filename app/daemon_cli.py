"""Daemon commands: ``tipstaff daemon`` (run), ``daemon status`` (health), ``alerts list``,
and ``party list/set/remove`` (who gets reminders, and where)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import click
from sqlmodel import Session

from tipstaff.engine.errors import InputError
from tipstaff.engine.events import parse_events_jsonl
from tipstaff.scheduler import logs
from tipstaff.scheduler.clock import Clock, RealClock, SimulatedClock
from tipstaff.scheduler.daemon import Daemon
from tipstaff.scheduler.dispatch import Channels
from tipstaff.scheduler.health import health
from tipstaff.scheduler.notify import EmailChannel, SmtpSettings, WebhookChannel
from tipstaff.store import outbox, repo
from tipstaff.store_cli import ACTOR, _engine, database_option
from tipstaff.when import parse_when

UTC = dt.UTC


def _instant(text: str, what: str) -> dt.datetime:
    when = parse_when(text, zone="UTC")
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time(), tzinfo=UTC)
    return when.astimezone(UTC)


def channels_from_environment() -> Channels:
    """Channels configured by TIPSTAFF_SMTP_URL, TIPSTAFF_SMTP_FROM, TIPSTAFF_WEBHOOK_SECRET
    and TIPSTAFF_ESCALATION_WEBHOOK_URL (the log is always on)."""
    email = None
    if os.environ.get("TIPSTAFF_SMTP_URL"):
        email = EmailChannel(SmtpSettings.parse(
            os.environ["TIPSTAFF_SMTP_URL"],
            sender=os.environ.get("TIPSTAFF_SMTP_FROM", "tipstaff@localhost")))
    secret = os.environ.get("TIPSTAFF_WEBHOOK_SECRET")
    escalation = os.environ.get("TIPSTAFF_ESCALATION_WEBHOOK_URL") or None
    if escalation and not secret:
        raise InputError("TIPSTAFF_ESCALATION_WEBHOOK_URL needs TIPSTAFF_WEBHOOK_SECRET "
                         "(webhooks are always signed)")
    return Channels(email=email, webhook=WebhookChannel(secret) if secret else None,
                    escalation_webhook=escalation)


def _http_address(http: str) -> tuple[str, str]:
    host, _, port = http.rpartition(":")
    if not host or not port.isdigit():
        raise click.UsageError(f"--http {http!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host, port


class WebChild:
    """``tipstaff serve`` as a child of the daemon, restarted if it dies. A separate process
    because durable_rules must stay on one thread: the web server evaluates on its own."""

    def __init__(self, host: str, port: str, database: str | None) -> None:
        self.command = [sys.executable, "-m", "tipstaff.cli", "serve", "--host", host,
                        "--port", port, *(["--database", database] if database else [])]
        self._stopping = threading.Event()
        self._process = subprocess.Popen(self.command)
        self._watch = threading.Thread(target=self._supervise, daemon=True)
        self._watch.start()

    def _supervise(self) -> None:
        log = logging.getLogger("tipstaff.daemon")
        while not self._stopping.wait(1.0):
            if self._process.poll() is not None:
                log.error("the web server exited; restarting it", extra={"fields": {
                    "code": self._process.returncode}})
                self._process = subprocess.Popen(self.command)

    def stop(self) -> None:
        self._stopping.set()
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()


def register(app: click.Group) -> None:
    """Add the daemon, alerts and party commands."""

    @app.group(invoke_without_command=True)
    @database_option
    @click.option("--simulate-from", "simulate_from", envvar="TIPSTAFF_SIMULATE_FROM",
                  help="Run on a simulated clock starting at this instant (ISO 8601; a plain "
                       "date is midnight UTC).")
    @click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=1.0,
                  show_default=True,
                  envvar="TIPSTAFF_SPEED", help="Simulated seconds per real second.")
    @click.option("--until", "until_text", envvar="TIPSTAFF_UNTIL",
                  help="Stop once the clock reaches this instant and nothing is due.")
    @click.option("--replay", type=click.Path(dir_okay=False, exists=True),
                  help="With --simulate-from: record this JSONL file's events as the "
                       "simulated clock reaches each one.")
    @click.option("--sweep-seconds", type=click.FloatRange(min=0.05), default=30.0,
                  show_default=True, envvar="TIPSTAFF_SWEEP_SECONDS",
                  help="Real seconds between catch-up sweeps.")
    @click.option("--name", envvar="TIPSTAFF_DAEMON_NAME", help="This daemon's name "
                  "(default host:pid).")
    @click.option("--base-url", envvar="TIPSTAFF_BASE_URL", default="http://localhost:8080",
                  show_default=True, help="Link base in messages.")
    @click.option("--http", "http", envvar="TIPSTAFF_HTTP", metavar="HOST:PORT",
                  help="Also serve the HTTP API and pages (a supervised `tipstaff serve` "
                       "child process), e.g. 127.0.0.1:8080.")
    @click.option("--log-level", envvar="TIPSTAFF_LOG_LEVEL", default="INFO",
                  type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), show_default=True)
    @click.pass_context
    def daemon(ctx: click.Context, database: str | None, simulate_from: str | None,
               speed: float, until_text: str | None, replay: str | None, sweep_seconds: float,
               name: str | None, base_url: str, http: str | None, log_level: str) -> None:
        """Run in the foreground: keep deadlines current and deliver reminders and alerts."""
        if ctx.invoked_subcommand is not None:
            ctx.obj = {"database": database}
            return
        if replay and not simulate_from:
            raise click.UsageError("--replay needs --simulate-from")
        if speed != 1.0 and not simulate_from:
            raise click.UsageError("--speed needs --simulate-from")
        address = _http_address(http) if http else None
        clock: Clock = (SimulatedClock(_instant(simulate_from, "--simulate-from"), speed)
                        if simulate_from else RealClock())
        until = _instant(until_text, "--until") if until_text else None
        events = parse_events_jsonl(Path(replay).read_text(encoding="utf-8"),
                                    source=replay) if replay else []
        logs.configure(log_level)
        runner = Daemon(_engine(database), clock=clock, channels=channels_from_environment(),
                        base_url=base_url, sweep_seconds=sweep_seconds, name=name,
                        replay=events, until=until)
        runner.install_signal_handlers()
        web = WebChild(*address, database) if address else None
        try:
            runner.run()
        finally:
            if web is not None:
                web.stop()

    @daemon.command("status")
    @click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
    @click.option("--stale-minutes", type=int, default=5, show_default=True,
                  help="A due message unsent for longer than this makes the daemon unhealthy.")
    @click.pass_context
    def daemon_status(ctx: click.Context, as_json: bool, stale_minutes: int) -> None:
        """Are reminders flowing? Exit 0 when healthy, 1 when not."""
        engine = _engine(ctx.obj["database"])
        with Session(engine) as session:
            report = health(session, wall=dt.datetime.now(UTC),
                            stale_after=dt.timedelta(minutes=stale_minutes))
        problems = report["problems"]
        figures = report["outbox"]
        if as_json:
            click.echo(json.dumps(report, indent=2))
        else:
            click.echo("healthy" if not problems else "UNHEALTHY: " + "; ".join(problems))
            for d in report["daemons"]:
                click.echo(f"  {d['name']}: {d['role']}, heartbeat {d['beat_age_seconds']}s "
                           f"ago, clock {d['clock']} at {d['clock_now']}, sent {d['sent']}, "
                           f"failures {d['failures']}"
                           + (f", last error: {d['last_error']}" if d["last_error"] else ""))
            click.echo("  outbox: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
        ctx.exit(0 if not problems else 1)

    @app.group()
    def alerts() -> None:
        """Reminders and alerts: what was planned, sent, cancelled or suppressed."""

    @alerts.command("list")
    @click.option("--case", "case_id", help="Only this case.")
    @click.option("--state", type=click.Choice(outbox.STATES), help="Only this state.")
    @click.option("--limit", type=int, default=200, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="JSON lines on stdout.")
    @database_option
    def alerts_list(case_id: str | None, state: str | None, limit: int, as_json: bool,
                    database: str | None) -> None:
        """Every delivery and its state, in planned order."""
        engine = _engine(database)
        with Session(engine) as session:
            if case_id:
                repo.get_case(session, case_id=case_id)
            rows = outbox.list_rows(session, case_id=case_id, state=state, limit=limit)
        for row in rows:
            item = outbox.alert_view(row)
            if as_json:
                click.echo(json.dumps(item, sort_keys=True))
            else:
                click.echo(f"{item['planned_for'][:16]}  {item['state']:10} {item['kind']:9} "
                           f"{item['case']}/{item['term']} -> {item['recipient']}"
                           f" [{item['label']}]"
                           + (f" via {item['channel']}" if item["channel"] else "")
                           + (" LATE" if item["late"] else "")
                           + (f" ({item['last_error']})" if item["last_error"] else ""))
        if not rows and not as_json:
            click.echo("no alerts")

    @app.group()
    def party() -> None:
        """The case's parties: who gets reminders and where."""

    @party.command("list")
    @click.argument("case_id", metavar="CASE")
    @database_option
    def party_list(case_id: str, database: str | None) -> None:
        """Each party with its roles, addresses and whether it is still on the case."""
        engine = _engine(database)
        with Session(engine) as session:
            repo.get_case(session, case_id=case_id)
            for p in repo.parties(session, case_id=case_id):
                click.echo(f"{p.party_id:24} {'active' if p.active else 'REMOVED':8} "
                           f"{p.roles:40} email={p.email or '-'} webhook={p.webhook or '-'}")

    @party.command("set")
    @click.argument("case_id", metavar="CASE")
    @click.argument("party_id", metavar="PARTY")
    @click.option("--email", help="E-mail address for reminders (\"\" clears it).")
    @click.option("--webhook", help="URL that receives signed JSON alerts (\"\" clears it).")
    @database_option
    def party_set(case_id: str, party_id: str, email: str | None, webhook: str | None,
                  database: str | None) -> None:
        """Set where a party's reminders go (and put it back on the case if removed)."""
        if email and "@" not in email:
            raise InputError(f"--email {email!r} is not an e-mail address")
        if webhook and not webhook.startswith(("http://", "https://")):
            raise InputError(f"--webhook {webhook!r}: expected an http:// or https:// URL")
        # An empty value clears the address.
        _update_party(database, case_id, party_id, "party.set",
                      {"active": True, **({"email": email or None} if email is not None
                                          else {}),
                       **({"webhook": webhook or None} if webhook is not None else {})})

    @party.command("remove")
    @click.argument("case_id", metavar="CASE")
    @click.argument("party_id", metavar="PARTY")
    @database_option
    def party_remove(case_id: str, party_id: str, database: str | None) -> None:
        """Take a party off the case: it gets no further reminders (each one suppressed is
        audited)."""
        _update_party(database, case_id, party_id, "party.remove", {"active": False})


def _update_party(database: str | None, case_id: str, party_id: str, action: str,
                  values: dict[str, Any]) -> None:
    engine = _engine(database)
    now = dt.datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        repo.get_case(session, case_id=case_id)
        parties = {p.party_id: p for p in repo.parties(session, case_id=case_id)}
        row = parties.get(party_id)
        if row is None:
            from tipstaff.engine.datafile import suggest

            raise InputError(f"case {case_id} has no party {party_id!r}"
                             f"{suggest(party_id, parties)}; parties: {', '.join(parties)}")
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
        repo.add_audit(session, at=now, actor=ACTOR, action=action, subject=case_id,
                       detail={"party": party_id, **values})
    click.echo(f"{action.split('.')[1]}: {case_id}/{party_id} "
               + ", ".join(f"{k}={v}" for k, v in values.items()))
