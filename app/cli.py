"""The ``tipstaff`` command line: the only place that talks to a terminal.

User mistakes end as one line on stderr and exit status 2 (never a traceback); see
:func:`main`. Every option falls back to a ``TIPSTAFF_*`` environment variable.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import click
import typer

from tipstaff.engine.calendar import load_court
from tipstaff.engine.errors import InputError, TipstaffError
from tipstaff.engine.timecalc import (
    SERVICES,
    SYSTEMS,
    Deadline,
    compute,
    explain_lines,
    fmt,
    later_of,
)
from tipstaff.when import parse_when

app = typer.Typer(
    name="tipstaff",
    help="Keeps court protective orders and filing deadlines in compliance.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

CourtOpt = Annotated[str, typer.Option("--court", envvar="TIPSTAFF_COURT",
                                       help="Court calendar id (see `tipstaff courts`).")]


@app.command()
def due(
    trigger: Annotated[str, typer.Option(
        "--trigger", envvar="TIPSTAFF_TRIGGER",
        help="Day of the triggering event (YYYY-MM-DD), or its instant for --hours "
             "(YYYY-MM-DDTHH:MM with an offset, or without one for the court's local time).")],
    court: CourtOpt = "ed-cal",
    days: Annotated[int | None, typer.Option(
        "--days", help="Period in calendar days; negative = before the event.")] = None,
    hours: Annotated[int | None, typer.Option(
        "--hours", help="Period in hours (FRCP 6(a)(2)); negative = before.")] = None,
    court_days: Annotated[int | None, typer.Option(
        "--court-days", help="Period in California court days; negative = before.")] = None,
    system: Annotated[str | None, typer.Option(
        "--system", envvar="TIPSTAFF_SYSTEM",
        help=f"Computation system ({'|'.join(SYSTEMS)}); defaults to the court's.")] = None,
    service: Annotated[str, typer.Option(
        "--service", envvar="TIPSTAFF_SERVICE",
        help=f"How the triggering paper was served ({'|'.join(SERVICES)}).")] = "none",
    later_of_dates: Annotated[list[str] | None, typer.Option(
        "--later-of", help="Another anchor date; the period runs from whichever is later "
                           "(repeatable).")] = None,
    no_state_holidays: Annotated[bool, typer.Option(
        "--no-state-holidays", help="Count federal holidays only (FRCP 6(a)(6)(C) off).")]
        = False,
    paper: Annotated[bool, typer.Option(
        "--paper", help="The last day ends when the clerk's office closes (FRCP 6(a)(4)(B)), "
                        "not at midnight.")] = False,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Show every step with the rule that justified it.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Compute the last day (and instant) to act after, or before, an event."""
    periods = {"--days": days, "--hours": hours, "--court-days": court_days}
    given = [(name, value) for name, value in periods.items() if value is not None]
    if len(given) != 1:
        raise InputError("give exactly one of --days, --hours, --court-days")
    name, amount = given[0]
    assert amount is not None
    unit = {"--days": "days", "--hours": "hours", "--court-days": "court_days"}[name]
    calendar = load_court(court)
    anchors = [trigger, *(later_of_dates or [])]
    parts: list[tuple[str, Deadline]] = []
    for text in anchors:
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
                              "service": service, "later_of": later_of_dates or [],
                              "state_holidays": not no_state_holidays}
        typer.echo(json.dumps(payload, indent=2))
        return
    typer.echo(f"{fmt(result.due_date)}  (due {result.due_at.format('YYYY-MM-DD HH:mm:ss zz')})")
    if result.earliest_safe != result.due_date:
        typer.echo(f"earliest safe date: {fmt(result.earliest_safe)}")
    if explain:
        for line in explain_lines(result):
            typer.echo(f"  {line}")
    for flag in result.flags:
        typer.echo(f"  unsettled ({flag.id}): {flag.text}")


@app.command()
def holidays(
    year: Annotated[int, typer.Option("--year", envvar="TIPSTAFF_YEAR", help="Calendar year.")],
    court: CourtOpt = "ed-cal",
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list on stdout.")] = False,
) -> None:
    """List a court's legal holidays for a year: why each counts and in which direction."""
    calendar = load_court(court)
    rows = calendar.holidays(year)
    if as_json:
        typer.echo(json.dumps([_holiday_json(h) for h in rows], indent=2))
        return
    typer.echo(f"{calendar.name} ({calendar.id}) — legal holidays in {year}")
    for h in rows:
        direction = "both directions" if not h.forward_only else "forward periods only"
        status = f"; UNSETTLED ({h.unsettled}), not counted by default" if h.unsettled else ""
        typer.echo(f"  {fmt(h.day)}  {h.name}  [{h.source}; {direction}{status}]")
        typer.echo(f"      {h.reason}")


def _holiday_json(h: Any) -> dict[str, Any]:
    return {"date": h.day.isoformat(), "weekday": fmt(h.day)[:3], "name": h.name,
            "source": h.source, "reason": h.reason,
            "counts_backward": not h.forward_only, "counts_forward": True,
            "unsettled": h.unsettled}


@app.command()
def courts() -> None:
    """List the court calendars Tipstaff knows."""
    from tipstaff.engine.calendar import list_courts

    for court_id in list_courts():
        calendar = load_court(court_id)
        typer.echo(f"{court_id:12} {calendar.system:7} {calendar.zone:22} {calendar.name}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user mistakes print one line on stderr and return 2."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="tipstaff", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        # click raises this after printing nothing in non-standalone mode
        typer.echo(exc.ctx.get_help() if exc.ctx else "", err=True)
        return 2
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        typer.echo(f"tipstaff: error: {exc.format_message()}{hint}", err=True)
        return 2
    except click.exceptions.Abort:
        typer.echo("tipstaff: aborted", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except TipstaffError as exc:
        typer.echo(f"tipstaff: error: {exc}", err=True)
        return 2
    except click.ClickException as exc:
        typer.echo(f"tipstaff: error: {exc.format_message()}", err=True)
        return exc.exit_code
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
