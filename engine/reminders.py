"""Reminder policy (``rules/reminders.yaml``) and the pure planner that turns a deadline into
the reminders it deserves.

Pure: the planning instant ``at`` is an argument; nothing here reads a clock, a database or
the network. The store calls :func:`plan_deadline` and :func:`plan_violation` in the same
transaction that records a new deadline version, so reminders and the deadline they serve
always agree.

Local times: a reminder's ``time`` is wall-clock time in the court's zone on a calendar day.
In a DST gap (the clock jumps from 02:00 to 03:00) the instant is the one the pre-transition
offset gives — 02:30 becomes 03:30 daylight time; in a fold (01:00-02:00 happens twice) it is
the first occurrence. Python's ``zoneinfo`` with ``fold=0`` does exactly this; the tests pin it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from tipstaff.engine import datafile as df
from tipstaff.engine.calendar import CourtCalendar
from tipstaff.engine.datafile import Node
from tipstaff.engine.errors import DataError
from tipstaff.engine.order import Order, Term

UTC = dt.UTC
WHENS = ("triggered", "days_before", "on_the_day", "overdue_daily", "violation")
CLASSES = ("filing_deadline", "obligation", "return_obligation", "prohibition", "condition")
SELECTORS = ("bearer", "bearer_counsel", "all_counsel")
RETURN_EVENTS = frozenset({"documents_returned", "documents_destroyed"})
# Message kinds, as stored in the outbox and shown by `tipstaff alerts list`.
KIND_OF_WHEN = {"triggered": "notice", "days_before": "reminder", "on_the_day": "due_today",
                "overdue_daily": "overdue", "violation": "violation"}


@dataclass(frozen=True, slots=True)
class Line:
    """One reminder line of the policy: recipients and one timing."""

    to: tuple[str, ...]
    when: str
    days: tuple[int, ...] = ()
    for_days: int = 0


@dataclass(frozen=True, slots=True)
class Policy:
    """The loaded reminder policy."""

    source: str
    time: dt.time
    court_days: bool
    late_after: dt.timedelta
    classes: Mapping[str, tuple[Line, ...]]
    overrides: Mapping[str, Mapping[str, tuple[Line, ...]]]  # order id -> term id|* -> lines

    def lines_for(self, order_id: str, term: Term) -> tuple[Line, ...]:
        """The lines that govern ``term`` (a term override, else an order-wide one, else the
        class default)."""
        by_order = self.overrides.get(order_id, {})
        if term.id in by_order:
            return by_order[term.id]
        if "*" in by_order:
            return by_order["*"]
        return self.classes.get(term_class(term), ())


@dataclass(frozen=True, slots=True)
class Planned:
    """One message to send: to one party, of one kind, at one instant (aware, UTC)."""

    recipient: str
    kind: str
    fire_at: dt.datetime
    label: str  # "7 days before", "on the day", "overdue day 3", ...


def term_class(term: Term) -> str:
    """The policy class of a term: its kind, with return obligations told apart."""
    if term.kind == "obligation" and any(m.event in RETURN_EVENTS for m in term.satisfied_by):
        return "return_obligation"
    return term.kind


# -- loading ---------------------------------------------------------------------------------

def _line(item: object, parent: Node, key: str) -> Line:
    node = df.check_keys(item, required=("to", "when"), optional=("days", "for_days"),
                         what="a reminder line", parent=parent, key=key)
    when = df.choice(node, "when", WHENS)
    to = node["to"]
    if not isinstance(to, list) or not to:
        raise df.error(node, "to", "expected a list of recipients, e.g. [bearer_counsel]")
    for selector in to:
        if not isinstance(selector, str) or not (
                selector in SELECTORS or (selector.startswith("role:") and len(selector) > 5)):
            raise df.error(node, "to", f"unknown recipient {selector!r}; expected one of "
                                       f"{', '.join(SELECTORS)} or role:NAME"
                                       f"{df.suggest(str(selector), SELECTORS)}")
    days: tuple[int, ...] = ()
    for_days = 0
    if when == "days_before":
        raw = node.get("days")
        if (not isinstance(raw, list) or not raw
                or not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 366
                           for d in raw)):
            raise df.error(node, "days", "expected a list of whole days from 1 to 366, "
                                         "e.g. [14, 7, 3, 1]")
        days = tuple(sorted(set(raw), reverse=True))
    elif "days" in node:
        raise df.error(node, "days", "days is only for when: days_before")
    if when == "overdue_daily":
        for_days = df.integer(node, "for_days", low=1, high=366)
    elif "for_days" in node:
        raise df.error(node, "for_days", "for_days is only for when: overdue_daily")
    return Line(to=tuple(to), when=when, days=days, for_days=for_days)


def _lines(value: object, parent: Node, key: str) -> tuple[Line, ...]:
    if not isinstance(value, list):
        raise df.error(parent, key, "expected a list of reminder lines")
    return tuple(_line(item, parent, key) for item in value)


def parse_policy(text: str, *, source: str) -> Policy:
    """Parse and validate a policy file; errors name the file, line and field."""
    root = df.check_keys(df.load_yaml(text, source=source),
                         required=("version", "classes"),
                         optional=("time", "court_days", "late_after_minutes", "orders"),
                         what="the reminder policy")
    if root["version"] != 1:
        raise df.error(root, "version", f"expected version 1; got {root['version']!r}")
    court_days = root.get("court_days", True)
    if not isinstance(court_days, bool):
        raise df.error(root, "court_days", "expected true or false")
    late = df.integer(root, "late_after_minutes", low=0, high=1440) \
        if "late_after_minutes" in root else 5
    classes_node = df.check_keys(root["classes"], required=(), optional=CLASSES,
                                 what="classes", parent=root, key="classes")
    classes = {name: _lines(classes_node[name], classes_node, name) for name in classes_node}
    overrides: dict[str, dict[str, tuple[Line, ...]]] = {}
    orders = root.get("orders")
    if orders is None:
        orders = Node()
    if not isinstance(orders, Node):
        raise df.error(root, "orders", "expected a mapping of order id to term overrides")
    for order_id, terms in orders.items():
        if not isinstance(terms, Node):
            raise df.error(orders, order_id, "expected a mapping of term id (or \"*\") to "
                                             "reminder lines")
        overrides[order_id] = {term_id: _lines(lines, terms, term_id)
                               for term_id, lines in terms.items()}
    return Policy(source=source, time=df.time_value(root, "time") if "time" in root
                  else dt.time(9), court_days=court_days,
                  late_after=dt.timedelta(minutes=late), classes=classes,
                  overrides=overrides)


@cache
def load_policy(path: str | None = None) -> Policy:
    """The policy at ``path``, or the bundled ``rules/reminders.yaml`` (cached)."""
    if path:
        try:
            content = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"cannot read the reminder policy: {exc.strerror}",
                            file=path) from None
        return parse_policy(content, source=path)
    bundled = resources.files("tipstaff.rules").joinpath("reminders.yaml")
    return parse_policy(bundled.read_text(encoding="utf-8"), source="rules/reminders.yaml")


def check_overrides(policy: Policy, orders: Iterable[Order]) -> None:
    """Refuse overrides naming an unknown term of a known order (a typo would silently
    leave a term with the class default)."""
    for order in orders:
        known = [t.id for t in order.terms]
        for term_id in policy.overrides.get(order.id, {}):
            if term_id != "*" and term_id not in known:
                raise DataError(f"reminder override for unknown term {term_id!r} of order "
                                f"{order.id}{df.suggest(term_id, known)}",
                                file=policy.source)


# -- recipients ------------------------------------------------------------------------------

def recipients(order: Order, term: Term, selectors: Sequence[str],
               active: Iterable[str] | None = None) -> list[str]:
    """Party ids named by ``selectors`` for ``term``, in a stable order, de-duplicated;
    only parties in ``active`` when given."""
    parties = order.parties
    found: list[str] = []

    def counsel_for(party_id: str) -> list[str]:
        reps = [p.id for p in parties.values() if p.represents == party_id]
        party = parties.get(party_id)
        if party is not None and "pro_se" in party.roles:
            reps.append(party_id)
        return reps

    for selector in selectors:
        if selector == "bearer":
            found.append(term.bearer)
        elif selector == "bearer_counsel":
            found += counsel_for(term.bearer)
        elif selector == "all_counsel":
            found += [p.id for p in parties.values()
                      if "counsel" in p.roles or "pro_se" in p.roles]
        else:
            role = selector.removeprefix("role:")
            found += [p.id for p in parties.values() if role in p.roles]
    allowed = set(active) if active is not None else None
    unique = list(dict.fromkeys(found))
    return [p for p in unique if allowed is None or p in allowed]


# -- planning --------------------------------------------------------------------------------

def local_instant(day: dt.date, time: dt.time, zone: str) -> dt.datetime:
    """``time`` on ``day`` in ``zone`` as a UTC instant (gap: pre-transition offset; fold:
    first occurrence — see the module docstring)."""
    return dt.datetime.combine(day, time, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _court_day(calendar: CourtCalendar, day: dt.date, step: int) -> dt.date:
    closed = calendar.closed_days(forward=True)
    while day.weekday() >= 5 or day in closed:
        day += dt.timedelta(days=step)
    return day


def plan_deadline(policy: Policy, *, order: Order, term: Term, calendar: CourtCalendar,
                  due_date: dt.date, at: dt.datetime,
                  active: Iterable[str] | None = None) -> list[Planned]:
    """Reminders for an open deadline due on ``due_date``, planned at ``at``.

    Only instants after ``at`` are planned (a reminder whose time passed before the deadline
    was known would be noise), except the ``triggered`` notice, which is due at ``at``.
    Reminders already planned and missed while the daemon was down are not re-planned here;
    they stay in the outbox and are sent late.
    """
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    zone = calendar.zone
    out: list[Planned] = []
    for line in policy.lines_for(order.id, term):
        who = recipients(order, term, line.to, active)
        moments: list[tuple[dt.datetime, str]] = []
        if line.when == "triggered":
            moments.append((at.astimezone(UTC), "deadline known"))
        elif line.when == "days_before":
            for days in line.days:
                day = due_date - dt.timedelta(days=days)
                if policy.court_days:
                    day = _court_day(calendar, day, -1)
                moments.append((local_instant(day, policy.time, zone),
                                f"{days} day{'s' if days > 1 else ''} before"))
        elif line.when == "on_the_day":
            moments.append((local_instant(due_date, policy.time, zone), "on the day"))
        elif line.when == "overdue_daily":
            seen: set[dt.date] = set()
            for n in range(1, line.for_days + 1):
                day = due_date + dt.timedelta(days=n)
                if policy.court_days:
                    day = _court_day(calendar, day, 1)
                if day not in seen:
                    seen.add(day)
                    moments.append((local_instant(day, policy.time, zone),
                                    f"overdue since {due_date.isoformat()}"))
        kind = KIND_OF_WHEN[line.when]
        for fire_at, label in moments:
            if line.when != "triggered" and fire_at <= at:
                continue
            out += [Planned(recipient=r, kind=kind, fire_at=fire_at, label=label) for r in who]
    # One message per (recipient, kind, instant), even when two lines name the same party.
    unique = {(p.recipient, p.kind, p.fire_at): p for p in out}
    return sorted(unique.values(), key=lambda p: (p.fire_at, p.kind, p.recipient))


def plan_violation(policy: Policy, *, order: Order, term: Term, at: dt.datetime,
                   active: Iterable[str] | None = None) -> list[Planned]:
    """Immediate alerts for a violation of ``term`` found at ``at``."""
    out: list[Planned] = []
    for line in policy.lines_for(order.id, term):
        if line.when == "violation":
            out += [Planned(recipient=r, kind="violation", fire_at=at.astimezone(UTC),
                            label="violation found")
                    for r in recipients(order, term, line.to, active)]
    return list({p.recipient: p for p in out}.values())
