"""Store-backed commands: init, order load, case open/list, event add/import, status,
explain, audit verify. Each write is one transaction: events, the findings they cause and
the audit records commit together or not at all."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine
from sqlmodel import Session

from tipstaff.engine.calendar import load_court
from tipstaff.engine.errors import InputError
from tipstaff.engine.evaluate import CaseReport
from tipstaff.engine.events import event_from_json, parse_events_jsonl
from tipstaff.engine.order import Order, bundled_orders, load_bundled_order, load_order
from tipstaff.report import explain_finding, render_report
from tipstaff.store import db, repo, service
from tipstaff.store.models import CaseRow
from tipstaff.when import as_of

ACTOR = os.environ.get("USER", "cli")


def default_url() -> str:
    """``TIPSTAFF_DATABASE_URL``, else a SQLite file under ``TIPSTAFF_HOME`` (./tipstaff-data)."""
    home = Path(os.environ.get("TIPSTAFF_HOME", "tipstaff-data"))
    return f"sqlite:///{home / 'tipstaff.sqlite3'}"


def database_option(function: Any) -> Any:
    """--database, falling back to TIPSTAFF_DATABASE_URL."""
    return click.option("--database", "database", envvar="TIPSTAFF_DATABASE_URL",
                        default=None, help="Database URL (default: a SQLite file under "
                                           "$TIPSTAFF_HOME, ./tipstaff-data).")(function)


def _now() -> dt.datetime:
    # The shell is the one place that reads the clock, once per command.
    return dt.datetime.now(dt.UTC)


@contextmanager
def _write(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def _engine(database: str | None) -> Engine:
    return db.open_store(database or default_url())


def _order_from(spec: str) -> tuple[Order, str]:
    if spec in bundled_orders() and not Path(spec).exists():
        order = load_bundled_order(spec)
        from importlib import resources

        text = resources.files("tipstaff.rules").joinpath("orders", f"{spec}.yaml").read_text()
        return order, text
    order = load_order(spec)
    return order, Path(spec).read_text(encoding="utf-8")


def _evaluate(session: Session, case: CaseRow, at: dt.datetime) -> tuple[CaseReport, int]:
    return service.evaluate_case(session, case, at)


def register(app: click.Group) -> None:
    """Add the store commands to the ``tipstaff`` group."""

    @app.command()
    @database_option
    def init(database: str | None) -> None:
        """Create or upgrade the database schema."""
        engine = db.make_engine(database or default_url())
        before, after = db.init(engine)
        with _write(engine) as session:
            repo.add_audit(session, at=_now(), actor=ACTOR, action="init", subject="schema",
                           detail={"from": before, "to": after})
        state = "created" if before is None else (
            "already current" if before == after else f"upgraded from {before}")
        click.echo(f"database {state} at schema revision {after}: {engine.url}")

    order_group = app.commands["order"]
    assert isinstance(order_group, click.Group)

    @order_group.command("load")
    @click.argument("spec", metavar="FILE|ID")
    @database_option
    def order_load(spec: str, database: str | None) -> None:
        """Store an order and open the case it describes (under the file's case id)."""
        order, content = _order_from(spec)
        engine = _engine(database)
        now = _now()
        court = load_court(order.court)
        with _write(engine) as session:
            repo.add_order(session, order=order, content=content, at=now)
            case, created = repo.open_case(session, case_id=order.id, order=order,
                                           zone=court.zone, at=now)
            report, through = _evaluate(session, case, now)
            repo.add_findings(session, case=case, report=report, through_seq=through, at=now)
            repo.add_audit(session, at=now, actor=ACTOR, action="order.load",
                           subject=order.id, detail={"sha256": order.sha256,
                                                     "case_created": created})
        click.echo(f"{'opened' if created else 'already open'}: case {order.id} under "
                   f"{order.id} (sha256 {order.sha256[:16]})")

    @app.group()
    def case() -> None:
        """Cases: open and list."""

    @case.command("open")
    @click.option("--order", "order_spec", required=True, help="Order file or bundled id.")
    @click.option("--case", "case_id", required=True, help="The new case's id.")
    @database_option
    def case_open(order_spec: str, case_id: str, database: str | None) -> None:
        """Open another case under an order (e.g. a model order adopted in a new case)."""
        order, content = _order_from(order_spec)
        engine = _engine(database)
        now = _now()
        with _write(engine) as session:
            repo.add_order(session, order=order, content=content, at=now)
            row, created = repo.open_case(session, case_id=case_id, order=order,
                                          zone=load_court(order.court).zone, at=now)
            repo.add_audit(session, at=now, actor=ACTOR, action="case.open", subject=case_id,
                           detail={"order": order.sha256})
        click.echo(f"{'opened' if created else 'already open'}: case {row.id}")

    @case.command("list")
    @database_option
    def case_list(database: str | None) -> None:
        """List every case with its court and number of events."""
        engine = _engine(database)
        with Session(engine) as session:
            for row, count in repo.list_cases(session):
                click.echo(f"{row.id:30} {row.court:12} {count:6} events  {row.caption}")

    @app.group()
    def event() -> None:
        """Case events: add one, or import a JSON Lines file."""

    @event.command("add")
    @click.argument("case_id", metavar="CASE")
    @click.option("--type", "kind", required=True, help="Event type, e.g. documents_returned.")
    @click.option("--at", "at_text", required=True,
                  help="When it happened: a date, or an ISO 8601 instant with offset.")
    @click.option("--data", "pairs", multiple=True, metavar="KEY=VALUE",
                  help="A data field (repeatable); JSON values such as [\"D-1..D-3\"] or "
                       "true are parsed as JSON.")
    @click.option("--id", "event_id", help="Idempotency key (default: derived from content).")
    @database_option
    def event_add(case_id: str, kind: str, at_text: str, pairs: tuple[str, ...],
                  event_id: str | None, database: str | None) -> None:
        """Record one event and the findings it causes."""
        data: dict[str, Any] = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise InputError(f"--data {pair!r}: expected KEY=VALUE")
            try:
                data[key] = json.loads(value)
            except json.JSONDecodeError:
                data[key] = value
        obj: dict[str, Any] = {"case": case_id, "type": kind, "occurred_at": at_text,
                               "data": data}
        if event_id:
            obj["id"] = event_id
        parsed = event_from_json(obj, source="--data")
        _record(database, [parsed])

    @event.command("import")
    @click.argument("file", type=click.Path(dir_okay=False))
    @database_option
    def event_import(file: str, database: str | None) -> None:
        """Import a JSON Lines file: all or nothing; re-importing changes nothing."""
        try:
            text = Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{file}: cannot read: {exc.strerror or exc}") from None
        _record(database, parse_events_jsonl(text, source=file))

    def _record(database: str | None, events: list[Any]) -> None:
        done = service.record_events(_engine(database), events, at=_now(), actor=ACTOR)
        click.echo(f"recorded {done.added} event(s), {done.skipped} already present, "
                   f"in {done.cases} case(s)")

    @app.command()
    @click.argument("case_id", metavar="CASE")
    @click.option("--at", "at_text", envvar="TIPSTAFF_AT", help="As of this date or instant.")
    @click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
    @database_option
    def status(case_id: str, at_text: str | None, as_json: bool, database: str | None) -> None:
        """Compliance status of a case. Exit 0 compliant, 1 violated or overdue, 2 usage."""
        engine = _engine(database)
        with _write(engine) as session:
            case_row = repo.get_case(session, case_id=case_id)
            at = as_of(at_text, zone=case_row.zone, now=_now())
            report, _ = _evaluate(session, case_row, at)
            repo.add_audit(session, at=_now(), actor=ACTOR, action="status.read",
                           subject=case_id, detail={"as_of": at.isoformat()})
            order = repo.order_of(session, case=case_row)
        if as_json:
            click.echo(json.dumps(report.to_dict(), indent=2))
        else:
            for line in render_report(report, order):
                click.echo(line)
        raise click.exceptions.Exit(0 if report.compliant else 1)

    @app.command()
    @click.argument("case_id", metavar="CASE")
    @click.argument("term_id", metavar="TERM")
    @click.option("--at", "at_text", envvar="TIPSTAFF_AT", help="As of this date or instant.")
    @database_option
    def explain(case_id: str, term_id: str, at_text: str | None, database: str | None) -> None:
        """The full derivation of one term: order text, events, every date step."""
        engine = _engine(database)
        with _write(engine) as session:
            case_row = repo.get_case(session, case_id=case_id)
            order = repo.order_of(session, case=case_row)
            order.term(term_id)
            report, _ = _evaluate(session, case_row,
                                  as_of(at_text, zone=case_row.zone, now=_now()))
            history = repo.deadline_history(session, case_id=case_id, term_id=term_id)
            repo.add_audit(session, at=_now(), actor=ACTOR, action="explain.read",
                           subject=f"{case_id}/{term_id}")
        for line in explain_finding(report.finding(term_id)):
            click.echo(line)
        if len(history) > 1:
            click.echo("")
            click.echo("Recorded versions of this deadline:")
            for row in history:
                due = row.due_date.isoformat() if row.due_date else "—"
                click.echo(f"  v{row.version} recorded {row.recorded_utc.isoformat()}Z: "
                           f"{row.status}, due {due}")

    @app.group()
    def audit() -> None:
        """The audit log and the event hash chains."""

    @audit.command("verify")
    @database_option
    def audit_verify(database: str | None) -> None:
        """Walk every hash chain; report the first broken link of each."""
        engine = _engine(database)
        with Session(engine) as session:
            problems = repo.verify_chains(session)
        if problems:
            for problem in problems:
                click.echo(f"BROKEN: {problem}")
            raise click.exceptions.Exit(1)
        click.echo("ok: every event chain and the audit chain verify")
