"""The ``tipstaff`` command line: the only place that talks to a terminal.

User mistakes end as one line on stderr and exit status 2 (never a traceback); see
:func:`main`. Every option falls back to a ``TIPSTAFF_*`` environment variable.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from tipstaff import daemon_cli, store_cli, web_cli
from tipstaff.engine.calendar import list_courts, load_court
from tipstaff.engine.errors import InputError, TipstaffError
from tipstaff.engine.evaluate import Evaluator
from tipstaff.engine.events import parse_events_jsonl
from tipstaff.engine.order import Order, bundled_orders, load_bundled_order, load_order
from tipstaff.engine.timecalc import (
    SERVICES,
    SYSTEMS,
    Deadline,
    compute,
    explain_lines,
    fmt,
    later_of,
)
from tipstaff.report import explain_finding, render_report
from tipstaff.when import as_of, parse_when


@click.group(name="tipstaff", context_settings={"help_option_names": ["-h", "--help"]})
def app() -> None:
    """Keeps court protective orders and filing deadlines in compliance."""


def court_option(function: Any) -> Any:
    """--court, falling back to TIPSTAFF_COURT, default ed-cal."""
    return click.option("--court", envvar="TIPSTAFF_COURT", default="ed-cal", show_default=True,
                        help="Court calendar id (see `tipstaff courts`).")(function)


@app.command()
@click.option("--trigger", envvar="TIPSTAFF_TRIGGER", required=True,
              help="Day of the triggering event (YYYY-MM-DD), or its instant for --hours "
                   "(YYYY-MM-DDTHH:MM with an offset, or without one for the court's local "
                   "time).")
@court_option
@click.option("--days", type=int, help="Period in calendar days; negative = before the event.")
@click.option("--hours", type=int, help="Period in hours (FRCP 6(a)(2)); negative = before.")
@click.option("--court-days", "court_days", type=int,
              help="Period in California court days; negative = before.")
@click.option("--system", envvar="TIPSTAFF_SYSTEM", type=click.Choice(SYSTEMS),
              help="Computation system; defaults to the court's.")
@click.option("--service", envvar="TIPSTAFF_SERVICE", type=click.Choice(SERVICES),
              default="none", show_default=True,
              help="How the triggering paper was served on the party who must act.")
@click.option("--later-of", "later_of_dates", multiple=True,
              help="Another anchor date; the period runs from whichever is later (repeatable).")
@click.option("--no-state-holidays", is_flag=True,
              help="Count federal holidays only (FRCP 6(a)(6)(C) off).")
@click.option("--paper", is_flag=True,
              help="The last day ends when the clerk's office closes (FRCP 6(a)(4)(B)), not at "
                   "midnight.")
@click.option("--explain", is_flag=True, help="Show every step with the rule that justified it.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def due(trigger: str, court: str, days: int | None, hours: int | None, court_days: int | None,
        system: str | None, service: str, later_of_dates: tuple[str, ...],
        no_state_holidays: bool, paper: bool, explain: bool, as_json: bool) -> None:
    """Compute the last day (and instant) to act after, or before, an event."""
    periods = {"--days": days, "--hours": hours, "--court-days": court_days}
    given = [(name, value) for name, value in periods.items() if value is not None]
    if len(given) != 1:
        raise InputError("give exactly one of --days, --hours, --court-days")
    name, amount = given[0]
    assert amount is not None
    unit = {"--days": "days", "--hours": "hours", "--court-days": "court_days"}[name]
    calendar = load_court(court)
    parts: list[tuple[str, Deadline]] = []
    for text in (trigger, *later_of_dates):
        when = parse_when(text, zone=calendar.zone, want_time=unit == "hours")
        deadline = compute(court=calendar, trigger=when, amount=amount, unit=unit,
                           system=system, service=service,
                           state_holidays=not no_state_holidays,
                           filing="paper" if paper else "electronic")
        parts.append((f"from {text}", deadline))
    result: Deadline = parts[0][1] if len(parts) == 1 else later_of(parts)
    if as_json:
        payload = result.to_dict()
        payload["request"] = {"court": calendar.id, "trigger": trigger, "amount": amount,
                              "unit": unit, "system": system or calendar.system,
                              "service": service, "later_of": list(later_of_dates),
                              "state_holidays": not no_state_holidays}
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"{fmt(result.due_date)}  (due {result.due_at.format('YYYY-MM-DD HH:mm:ss zz')})")
    if result.earliest_safe != result.due_date:
        click.echo(f"earliest safe date: {fmt(result.earliest_safe)}")
    if explain:
        for line in explain_lines(result):
            click.echo(f"  {line}")
    for flag in result.flags:
        click.echo(f"  unsettled ({flag.id}): {flag.text}")


@app.command()
@click.option("--year", envvar="TIPSTAFF_YEAR", type=int, required=True, help="Calendar year.")
@court_option
@click.option("--json", "as_json", is_flag=True, help="A JSON list on stdout.")
def holidays(year: int, court: str, as_json: bool) -> None:
    """List a court's legal holidays for a year: why each counts and in which direction."""
    calendar = load_court(court)
    rows = calendar.holidays(year)
    if as_json:
        click.echo(json.dumps([_holiday_json(h) for h in rows], indent=2))
        return
    click.echo(f"{calendar.name} ({calendar.id}) — legal holidays in {year}")
    for h in rows:
        direction = "both directions" if not h.forward_only else "forward periods only"
        status = f"; UNSETTLED ({h.unsettled}), not counted by default" if h.unsettled else ""
        click.echo(f"  {fmt(h.day)}  {h.name}  [{h.source}; {direction}{status}]")
        click.echo(f"      {h.reason}")


@app.group()
def order() -> None:
    """Order files: validate them."""


@order.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def order_check(file: str) -> None:
    """Validate an order FILE without storing anything."""
    loaded = load_order(file)
    click.echo(f"ok: {loaded.id} ({loaded.court}, {loaded.case_number}): "
               f"{len(loaded.terms)} terms, {len(loaded.documents)} document sets; "
               f"sha256 {loaded.sha256[:16]}")


def _resolve_order(spec: str) -> Order:
    """A bundled order id, or the path of an order file."""
    if spec in bundled_orders():
        return load_bundled_order(spec)
    return load_order(spec)


@app.command()
@click.argument("order_spec", metavar="ORDER")
@click.option("--events", "events_file", envvar="TIPSTAFF_EVENTS", required=True,
              type=click.Path(dir_okay=False), help="The case's events (JSON Lines).")
@click.option("--at", "at_text", envvar="TIPSTAFF_AT",
              help="Evaluate as of this date or instant (default: now).")
@click.option("--case", "case_id", envvar="TIPSTAFF_CASE",
              help="Case id (default: the order's own case id).")
@click.option("--explain", "explain_term", metavar="TERM",
              help="Show the full derivation of one term.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def evaluate(order_spec: str, events_file: str, at_text: str | None, case_id: str | None,
             explain_term: str | None, as_json: bool) -> None:
    """Evaluate ORDER (a bundled id or a file) against an events file, without a store.

    Exit status: 0 compliant, 1 something violated or overdue, 2 usage error.
    """
    loaded = _resolve_order(order_spec)
    calendar = load_court(loaded.court)
    try:
        text = Path(events_file).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{events_file}: cannot read: {exc.strerror or exc}") from None
    events = parse_events_jsonl(text, source=events_file)
    case = case_id or loaded.id
    foreign = [e for e in events if e.case != case]
    if foreign:
        raise InputError(f"{events_file}: event {foreign[0].id} belongs to case "
                         f"{foreign[0].case!r}, not {case!r}")
    at = as_of(at_text, zone=calendar.zone, now=dt.datetime.now(dt.UTC))
    report = Evaluator().evaluate(loaded, events, at=at, case_id=case)
    if explain_term:
        loaded.term(explain_term)
        for line in explain_finding(report.finding(explain_term)):
            click.echo(line)
    elif as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for line in render_report(report, loaded):
            click.echo(line)
    raise click.exceptions.Exit(0 if report.compliant else 1)


def _holiday_json(h: Any) -> dict[str, Any]:
    return {"date": h.day.isoformat(), "weekday": fmt(h.day)[:3], "name": h.name,
            "source": h.source, "reason": h.reason,
            "counts_backward": not h.forward_only, "counts_forward": True,
            "unsettled": h.unsettled}


@app.command()
def courts() -> None:
    """List the court calendars Tipstaff knows."""
    for court_id in list_courts():
        calendar = load_court(court_id)
        click.echo(f"{court_id:12} {calendar.system:7} {calendar.zone:22} {calendar.name}")


store_cli.register(app)
daemon_cli.register(app)
web_cli.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user mistakes print one line on stderr and return 2."""
    try:
        # auto_envvar_prefix: every option without an explicit variable still reads
        # TIPSTAFF_<COMMAND>_<OPTION>, e.g. TIPSTAFF_DUE_DAYS.
        result = app.main(args=argv, prog_name="tipstaff", standalone_mode=False,
                          auto_envvar_prefix="TIPSTAFF")
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"tipstaff: error: {exc.format_message()}{hint}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("tipstaff: aborted", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except TipstaffError as exc:
        click.echo(f"tipstaff: error: {exc}", err=True)
        return 2
    except SQLAlchemyError as exc:
        # Not a user mistake: one line, and the cause, but no traceback either.
        cause = getattr(exc, "orig", None) or exc
        click.echo(f"tipstaff: database error: {type(cause).__name__}: {cause}".splitlines()[0],
                   err=True)
        return 3
    except click.ClickException as exc:
        click.echo(f"tipstaff: error: {exc.format_message()}", err=True)
        return exc.exit_code
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
