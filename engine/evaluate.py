"""Evaluate a case: an order plus its events, at a given instant, into findings.

The order is compiled into a durable_rules ruleset (one rule per satisfying or violating
event pattern, per event anchor, and per event type the evaluation itself needs); the Rete
engine matches the case's events to those rules, and this module turns the matches into
findings with :mod:`tipstaff.engine.timecalc` for every date. Pure: ``at`` is an argument.

Statuses: ``not_triggered`` (what starts it has not happened), ``pending`` (running, or
waiting on an anchor whose date is not yet known), ``satisfied``, ``overdue`` (due and not
done), ``violated`` (a prohibition or condition broken). An obligation performed after its
deadline is ``satisfied`` with ``late`` set, and the lateness is listed among the violations.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tipstaff.engine import appellate, bates
from tipstaff.engine.calendar import CourtCalendar, load_court
from tipstaff.engine.events import EVENT_TYPES, Event
from tipstaff.engine.order import Anchor, DeadlineSpec, Matcher, Order, Term
from tipstaff.engine.rete import RuleMatcher
from tipstaff.engine.timecalc import Deadline, Step, compute, fixed, fmt

Explained = Step | Deadline


def flatten(items: Iterable[Explained]) -> list[Step]:
    """Steps, with each deadline expanded into its own derivation (built only now)."""
    steps: list[Step] = []
    for item in items:
        if isinstance(item, Step):
            steps.append(item)
        else:
            steps.extend(item.steps)
    return steps


# Event types the evaluator itself reads, whatever the order says.
BUILTIN_TYPES = ("judgment_entered", "judgment_vacated", "case_dismissed",
                 "notice_of_appeal_filed", "appeal_decided", "rehearing_denied",
                 "mandate_issued", "mandate_recalled", "cert_denied", "deadline_extended",
                 "order_vacated", "documents_served", "documents_produced")


@dataclass(frozen=True, slots=True)
class AnchorState:
    """What is known about an anchor at ``at``.

    ``state``: ``occurred`` (``day`` is final), ``provisional`` (``day`` is known but may
    still move, e.g. a predicted mandate or an appeal that may still be noticed),
    ``pending`` (not yet known; ``not_before`` bounds it) or ``never``.
    """

    state: str
    day: dt.date | None = None
    steps: tuple[Explained, ...] = ()  # steps, or deadlines whose steps are built on demand
    events: tuple[str, ...] = ()
    note: str = ""
    not_before: dt.date | None = None


@dataclass
class TermFinding:
    """One term's status with its reasons."""

    term: Term
    status: str
    due_date: dt.date | None = None
    deadline: Deadline | None = None
    outstanding: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    anchor_steps: list[Explained] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    provisional: bool = False
    late: bool = False  # performed, but after the deadline (also listed as a violation)

    def derivation(self) -> list[Step]:
        """Every step of the date's derivation: the anchor's, then the period's."""
        steps = flatten(self.anchor_steps)
        if self.deadline is not None:
            steps += self.deadline.steps
        return steps

    def reason(self) -> str:
        """A one-line reason for reports."""
        if self.notes:
            return self.notes[0]
        return self.status

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.term.id, "kind": self.term.kind, "status": self.status,
            "bearer": self.term.bearer,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "due_at": self.deadline.due_at.isoformat() if self.deadline else None,
            "provisional": self.provisional, "late": self.late,
            "outstanding": self.outstanding, "events": self.events,
            "reason": self.reason(), "notes": self.notes,
            "citation": {"label": self.term.citation.label(), "text": self.term.citation.text},
        }


@dataclass(frozen=True, slots=True)
class Violation:
    term: str
    events: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"term": self.term, "events": list(self.events), "reason": self.reason}


@dataclass
class CaseReport:
    """Findings for one case at one instant."""

    case: str
    as_of: dt.datetime
    terms: list[TermFinding]
    violations: list[Violation]

    @property
    def compliant(self) -> bool:
        return not self.violations and all(t.status != "overdue" for t in self.terms)

    def finding(self, term_id: str) -> TermFinding:
        return next(t for t in self.terms if t.term.id == term_id)

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case, "as_of": self.as_of.isoformat(),
                "compliant": self.compliant,
                "terms": [t.to_dict() for t in self.terms],
                "violations": [v.to_dict() for v in self.violations]}


OPEN_STATUSES = frozenset({"pending", "overdue"})


def next_change(report: CaseReport, events: Sequence[Event], zone: str, at: dt.datetime
                ) -> dt.datetime | None:
    """The first instant after ``at`` at which ``report`` could change with no new event:
    just after an open deadline's last moment, or when a recorded future event takes effect
    (None: never, on what is recorded)."""
    candidates = []
    for finding in report.terms:
        if finding.status in OPEN_STATUSES and finding.deadline is not None:
            # Via the timestamp: pendulum's DateTime loses a datetime.timezone on addition.
            after = (dt.datetime.fromtimestamp(finding.deadline.due_at.timestamp(), dt.UTC)
                     + dt.timedelta(seconds=1))
            if after > at:
                candidates.append(after)
    candidates += [moment for event in events if (moment := event.instant(zone)) > at]
    return min(candidates, default=None)


# -- compiling an order to rules --------------------------------------------------------------

def _anchor_key(anchor: Mapping[str, Any]) -> str:
    return "anchor|" + json.dumps(anchor, sort_keys=True)


def _scalar_tests(event_type: str, where: Mapping[str, Any], where_not: Mapping[str, Any]
                  ) -> list[Any]:
    """durable_rules tests for scalar data keys; list-valued keys are checked in Python."""
    kinds = EVENT_TYPES[event_type]
    tests: list[Any] = []
    for key, value in where.items():
        if kinds.get(key, "").rstrip("!") in ("texts", "pages"):
            continue
        if value == "*":
            tests.append({"$ex": {key: 1}})
        elif isinstance(value, list):
            tests.append({"$or": [{key: v} for v in value]})
        elif isinstance(value, (str, int, bool)):
            tests.append({key: value})
    for key, value in where_not.items():
        for v in value if isinstance(value, list) else [value]:
            tests.append({"$neq": {key: v}})
    return tests


def _rule(event_type: str, tests: Sequence[Any]) -> dict[str, Any]:
    pattern: dict[str, Any] = ({"$and": [{"type": event_type}, *tests]} if tests
                               else {"type": event_type})
    return {"all": [{"m": pattern}]}


def _event_anchors(anchor: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(anchor, Mapping):
        return
    if "event" in anchor:
        yield anchor
    for combinator in ("later_of", "earlier_of"):
        for part in anchor.get(combinator, []):
            yield from _event_anchors(part)


@dataclass(frozen=True, slots=True)
class CompiledOrder:
    """An order's durable_rules ruleset and the routing from its rules to logical uses.

    Identical conditions are one rule (every firing costs a round trip through
    durable_rules' Python layer), and ``routes`` maps each rule to the term matchers,
    anchors and built-in readers that use it.
    """

    rules: dict[str, dict[str, Any]]
    routes: dict[str, tuple[str, ...]]


def compile_order(order: Order) -> CompiledOrder:
    """Compile an order's matchers and anchors into deduplicated durable_rules rules."""
    uses: dict[str, list[str]] = {}
    conditions: dict[str, dict[str, Any]] = {}

    def add(use: str, event_type: str, tests: list[Any]) -> None:
        key = f"{event_type}|{json.dumps(tests, sort_keys=True)}"
        conditions.setdefault(key, _rule(event_type, tests))
        uses.setdefault(key, []).append(use)

    anchors: list[Mapping[str, Any]] = []
    for definition in order.definitions.values():
        anchors.extend(_event_anchors(definition))
    for term in order.terms:
        for kind, matchers in (("satisfied", term.satisfied_by), ("violated", term.violated_by)):
            for index, m in enumerate(matchers):
                add(f"{term.id}|{kind}|{index}", m.event,
                    _scalar_tests(m.event, m.where, m.where_not))
                if m.unless_prior:
                    add(f"{term.id}|{kind}|{index}|prior", m.unless_prior["event"], [])
        for spec in (term.deadline, term.active_until):
            if spec is not None and spec.after is not None:
                anchors.extend(_event_anchors(spec.after))
        if term.active_from is not None:
            anchors.extend(_event_anchors(term.active_from))
    for anchor in anchors:
        add(_anchor_key(anchor), anchor["event"],
            _scalar_tests(anchor["event"], anchor.get("where") or {}, {}))
    for event_type in BUILTIN_TYPES:
        add(f"builtin|{event_type}", event_type, [])
    names = {key: f"r{n}" for n, key in enumerate(sorted(conditions))}
    return CompiledOrder(rules={names[k]: conditions[k] for k in conditions},
                         routes={names[k]: tuple(dict.fromkeys(uses[k])) for k in uses})


def ruleset_name(order: Order) -> str:
    """Versioned by content: a changed order file is a new ruleset (names cannot be reused)."""
    return f"order-{order.sha256[:20]}"


# -- evaluation -----------------------------------------------------------------------------

class Evaluator:
    """Evaluates cases; holds the compiled rulesets. One instance per engine thread."""

    def __init__(self) -> None:
        self._matcher = RuleMatcher()
        self._compiled: dict[str, CompiledOrder] = {}

    def evaluate(self, order: Order, events: Sequence[Event], *, at: dt.datetime,
                 case_id: str | None = None) -> CaseReport:
        """Findings for a case under ``order`` from ``events`` as known at ``at`` (aware).

        ``case_id`` defaults to the order's own case id; several cases may share one order.
        """
        if at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        case_id = case_id or order.id
        name = ruleset_name(order)
        compiled = self._compiled.get(name)
        if compiled is None:
            compiled = compile_order(order)
            self._matcher.register(name, compiled.rules)
            self._compiled[name] = compiled
        court = load_court(order.court)
        known = _effective(events, at, court.zone)
        facts = [as_fact(e) for e in known]
        matches = self._matcher.match(name, case_id, facts)
        by_rule: dict[str, list[Event]] = {}
        by_id = {e.id: e for e in known}
        for match in matches:
            for use in compiled.routes[match.rule]:
                by_rule.setdefault(use, []).append(by_id[match.fact_id])
        return _Case(order, court, known, by_rule, at).report(case_id)


def _effective(events: Sequence[Event], at: dt.datetime, zone: str) -> list[Event]:
    """Events known at ``at``, retractions applied, in chronological order."""
    at_day = at.astimezone(dt.UTC)
    retracted = {e.data["event"] for e in events if e.type == "event_retracted"}
    kept = []
    for event in events:
        if event.id in retracted or event.type == "event_retracted":
            continue
        moment = event.occurred_at
        if isinstance(moment, dt.datetime):
            if moment > at_day:
                continue
        elif moment > at.astimezone(_zone(zone)).date():
            continue
        kept.append(event)
    keys = {e.id: e.sort_key(zone) for e in kept}  # one zone conversion per event
    kept.sort(key=lambda e: keys[e.id])
    return kept


def _zone(zone: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(zone)


def as_fact(event: Event) -> dict[str, Any]:
    """The durable_rules fact for an event: its id, type and scalar data keys."""
    fact: dict[str, Any] = {"id": event.id, "type": event.type}
    for key, value in event.data.items():
        if isinstance(value, (str, int, bool)):
            fact[key] = value
    return fact


class _Case:
    """One evaluation: memoised anchors and term findings."""

    def __init__(self, order: Order, court: CourtCalendar, events: list[Event],
                 by_rule: dict[str, list[Event]], at: dt.datetime) -> None:
        self.order = order
        self.court = court
        self.events = events
        self.by_rule = by_rule
        self.at = at
        self.today = at.astimezone(_zone(court.zone)).date()
        self.findings: dict[str, TermFinding] = {}
        self.violations: list[Violation] = []
        self._in_progress: set[str] = set()
        self._performed_on: dict[str, dt.date] = {}

    # -- helpers ------------------------------------------------------------------------
    def day(self, event: Event) -> dt.date:
        return event.day(self.court.zone)

    def passed(self, deadline: Deadline) -> bool:
        """Whether ``at`` is after the last instant to act."""
        return deadline.is_past(self.at, local_day=self.today)

    def builtin(self, event_type: str) -> list[Event]:
        return self.by_rule.get(f"builtin|{event_type}", [])

    def active(self, made: str, withdrawn: str) -> list[Event]:
        """Events of type ``made`` not withdrawn by a later ``withdrawn`` event."""
        alive: list[Event] = []
        stream = sorted(self.builtin(made) + self.builtin(withdrawn),
                        key=lambda e: e.sort_key(self.court.zone))
        for event in stream:
            if event.type == made:
                alive.append(event)
            elif alive:
                alive.pop()
        return alive

    def event_step(self, event: Event, label: str) -> Step:
        return Step(rule=f"event {event.id}", text=f"{label} on {fmt(self.day(event))}.")

    # -- anchors ------------------------------------------------------------------------
    def anchor(self, anchor: Anchor) -> AnchorState:
        if "event" in anchor:
            return self.event_anchor(anchor)
        if "term" in anchor:
            return self.term_anchor(anchor["term"])
        if "definition" in anchor:
            return self.anchor(self.order.definitions[anchor["definition"]])
        if "later_of" in anchor:
            return self.combine([self.anchor(a) for a in anchor["later_of"]], later=True)
        if "earlier_of" in anchor:
            return self.combine([self.anchor(a) for a in anchor["earlier_of"]], later=False)
        if "appeal_disposition" in anchor:
            return self.appeal_anchor((anchor["appeal_disposition"] or {}).get("reading", "B"))
        if anchor.get("order_entered"):
            return AnchorState("occurred", self.order.entered, (Step(
                rule=self.order.title, text=f"The order was entered on "
                                            f"{fmt(self.order.entered)}."),))
        raise AssertionError(anchor)

    def event_anchor(self, anchor: Anchor) -> AnchorState:
        matched = list(self.by_rule.get(_anchor_key(anchor), []))
        event_type = anchor["event"]
        if event_type == "judgment_entered":
            alive = {e.id for e in self.active("judgment_entered", "judgment_vacated")}
            matched = [e for e in matched if e.id in alive]
        elif event_type == "mandate_issued":
            alive = {e.id for e in self.active("mandate_issued", "mandate_recalled")}
            matched = [e for e in matched if e.id in alive]
        if not matched:
            return AnchorState("pending", note=f"no {event_type.replace('_', ' ')} yet")
        first = matched[0]
        return AnchorState("occurred", self.day(first),
                           (self.event_step(first, event_type.replace("_", " ")),), (first.id,))

    def term_anchor(self, term_id: str) -> AnchorState:
        finding = self.term_finding(term_id)  # sets _performed_on when the term was performed
        performed = self._performed_on.get(term_id)
        if performed is None:
            return AnchorState("pending", note=f"{term_id} not yet performed")
        return AnchorState("occurred", performed, (Step(
            rule=f"term {term_id}", text=f"{term_id} was performed on {fmt(performed)}."),),
            tuple(finding.events))

    def combine(self, parts: list[AnchorState], *, later: bool) -> AnchorState:
        word = "later" if later else "earlier"
        if any(p.state == "pending" and "judgment" in p.note for p in parts):
            # Several parts waiting on one judgment say so once.
            parts = [p for i, p in enumerate(parts)
                     if not (p.state == "pending" and "judgment" in p.note
                             and any("judgment" in q.note for q in parts[:i]))]
        steps = tuple(s for p in parts for s in p.steps)
        events = tuple(e for p in parts for e in p.events)
        dated = [p for p in parts if p.state in ("occurred", "provisional") and p.day]
        pending = [p for p in parts if p.state == "pending"]
        if later:
            if pending:
                bound = max((p.day for p in dated if p.day), default=None)
                notes = "; ".join(p.note for p in pending if p.note)
                return AnchorState("pending", None, steps, events, note=notes, not_before=bound)
            if not dated:
                return AnchorState("never", note="; ".join(p.note for p in parts if p.note))
            chosen = max(dated, key=lambda p: p.day or dt.date.min)
        else:
            if not dated:
                state = "pending" if pending else "never"
                return AnchorState(state, note="; ".join(p.note for p in parts if p.note))
            chosen = min(dated, key=lambda p: p.day or dt.date.max)
        # A part that may still happen on an unknown date (an appeal not yet noticed) makes a
        # later-of provisional: the date stands unless that part happens.
        provisional = any(p.state == "provisional" for p in parts)
        notes = "; ".join(p.note for p in parts if p.note)
        assert chosen.day is not None
        summary = Step(rule=f"{word} of", text=f"Whichever occurs {word}: {fmt(chosen.day)}.")
        return AnchorState("provisional" if provisional else "occurred", chosen.day,
                           (*steps, summary), events, note=notes)

    def appeal_anchor(self, reading: str) -> AnchorState:
        """Final disposition of an appeal under reading A, B or C (TIME-COMPUTATION §6)."""
        judgments = self.active("judgment_entered", "judgment_vacated")
        if not judgments:
            return AnchorState("pending", note="no judgment has been entered")
        judgment = judgments[-1]
        entered = self.day(judgment)
        notices = [e for e in self.builtin("notice_of_appeal_filed") if self.day(e) >= entered]
        if not notices:
            noa = appellate.notice_of_appeal_deadline(district=self.court,
                                                      judgment_entered=entered)
            window = noa
            if reading == "C":
                window = appellate.appeal_extension_window(district=self.court,
                                                           judgment_entered=entered)
            note = (f"an appeal may still be noticed until {fmt(noa.due_date)} "
                    "(FRAP 4(a)(1)(A))")
            if self.today <= window.due_date:
                if reading == "A":
                    return AnchorState("provisional", None, (noa,),
                                       (judgment.id,), note=note)
                return AnchorState("provisional", window.due_date, (window,),
                                   (judgment.id,), note=note)
            if reading == "A":
                return AnchorState("never", note=f"no appeal was noticed by "
                                                 f"{fmt(noa.due_date)}")
            return AnchorState("occurred", window.due_date, (
                Step(rule="FRAP 4(a)(1)(A)", text=f"No appeal was noticed; the time to appeal "
                                                  f"expired {fmt(noa.due_date)}."),
                window), (judgment.id,))
        decided = [e for e in self.builtin("appeal_decided") if self.day(e) >= entered]
        if not decided:
            return AnchorState("pending", events=(notices[0].id,),
                               note=f"appeal noticed {fmt(self.day(notices[0]))} and pending")
        appellate_judgment = self.day(decided[-1])
        appeals = load_court(self.court.appeals_to or self.court.id)
        mandates = self.active("mandate_issued", "mandate_recalled")
        mandates = [m for m in mandates if self.day(m) >= appellate_judgment]
        recalled = [e for e in self.builtin("mandate_recalled")
                    if self.day(e) >= appellate_judgment]
        rehearing = [e for e in self.builtin("rehearing_denied")
                     if self.day(e) >= appellate_judgment]
        cert = [e for e in self.builtin("cert_denied") if self.day(e) >= appellate_judgment]
        if not mandates and recalled:
            return AnchorState("pending", events=(recalled[-1].id,),
                               note=f"the mandate was recalled on {fmt(self.day(recalled[-1]))}"
                                    "; the appeal's final disposition awaits a new mandate")
        result = appellate.final_disposition(
            reading=reading, appeals=appeals, appellate_judgment=appellate_judgment,
            mandate_issued=self.day(mandates[-1]) if mandates else None,
            rehearing_denied=self.day(rehearing[-1]) if rehearing else None,
            cert_denied=self.day(cert[-1]) if cert else None)
        ids = tuple(e.id for e in [*decided[-1:], *mandates[-1:], *cert[-1:]])
        steps = (Step(rule=f"final disposition, reading {reading}",
                      text=appellate.READINGS[reading]), result)
        if not mandates:
            return AnchorState("provisional", result.due_date, steps, ids,
                               note=f"the mandate is predicted (FRAP 41(b)) for "
                                    f"{fmt(result.due_date)}; it has not issued")
        state = "occurred" if result.due_date <= self.today else "provisional"
        note = "" if state == "occurred" else (
            f"certiorari may still be sought until {fmt(result.due_date)}")
        return AnchorState(state, result.due_date, steps, ids, note=note)

    # -- terms ----------------------------------------------------------------------------
    def report(self, case_id: str) -> CaseReport:
        vacated = self.builtin("order_vacated")
        findings = [self.term_finding(t.id) for t in self.order.terms]
        if vacated:
            for finding in findings:
                finding.notes.insert(0, f"the order was vacated on "
                                        f"{fmt(self.day(vacated[0]))}")
        return CaseReport(case=case_id, as_of=self.at, terms=findings,
                          violations=self.violations)

    def term_finding(self, term_id: str) -> TermFinding:
        if term_id in self.findings:
            return self.findings[term_id]
        if term_id in self._in_progress:
            raise ValueError(f"term {term_id} depends on itself")
        self._in_progress.add(term_id)
        term = self.order.term(term_id)
        if term.kind in ("prohibition", "condition"):
            finding = self.prohibition(term)
        else:
            finding = self.obligation(term)
        self._in_progress.discard(term_id)
        self.findings[term_id] = finding
        return finding

    def matching(self, term: Term, kind: str, index: int, matcher: Matcher,
                 trigger: Event | None = None) -> list[Event]:
        """Events matching a matcher, with the checks durable_rules cannot express."""
        found = []
        for event in self.by_rule.get(f"{term.id}|{kind}|{index}", []):
            if not _list_conditions_hold(matcher, event):
                continue
            if matcher.unless_prior and self._has_prior(term, kind, index, matcher, event):
                continue
            if matcher.outside_tier and not self._outside_tier(event):
                continue
            found.append(event)
        return found

    def _has_prior(self, term: Term, kind: str, index: int, matcher: Matcher, event: Event
                   ) -> bool:
        assert matcher.unless_prior is not None
        same = matcher.unless_prior.get("same") or {}
        for prior in self.by_rule.get(f"{term.id}|{kind}|{index}|prior", []):
            if prior.sort_key(self.court.zone) > event.sort_key(self.court.zone):
                continue
            if all(prior.data.get(theirs) == event.data.get(ours)
                   for theirs, ours in same.items()):
                return True
        return False

    def _outside_tier(self, event: Event) -> bool:
        role = event.data.get("recipient_role")
        shared = event.pages()
        for doc in self.order.documents.values():
            if (doc.tier and shared & doc.all_pages()
                    and role not in self.order.tiers[doc.tier].may_see):
                return True
        return False

    def window(self, term: Term
               ) -> tuple[dt.date | None, dt.date | None, list[Explained], str]:
        """The days a prohibition or condition is in force (None: unbounded)."""
        start = end = None
        steps: list[Explained] = []
        note = ""
        if term.active_from is not None:
            state = self.anchor(term.active_from)
            if state.state not in ("occurred", "provisional"):
                return None, None, [], "not in force: " + (state.note or "not yet triggered")
            start = state.day
            steps.extend(state.steps)
        if term.active_until is not None:
            deadline, more, _ = self.deadline_for(term, term.active_until)
            if deadline is not None:
                end = deadline.due_date
                steps.extend(more)
                steps.append(deadline)
                note = f"in force until {fmt(end)}"
        return start, end, steps, note

    def prohibition(self, term: Term) -> TermFinding:
        start, end, steps, note = self.window(term)
        if term.active_from is not None and start is None:
            return TermFinding(term, "not_triggered", notes=[note])
        broken: list[Event] = []
        for index, matcher in enumerate(term.violated_by):
            for event in self.matching(term, "violated", index, matcher):
                day = self.day(event)
                if (start is None or day >= start) and (end is None or day <= end):
                    broken.append(event)
        broken.sort(key=lambda e: e.sort_key(self.court.zone))
        if broken:
            ids = tuple(e.id for e in broken)
            first = broken[0]
            reason = (f"{first.type.replace('_', ' ')} on {fmt(self.day(first))} "
                      f"({_describe(first)}) breaks: {term.action}")
            self.violations.append(Violation(term.id, ids, reason))
            return TermFinding(term, "violated", events=list(ids), anchor_steps=steps,
                               notes=[reason])
        kept = "no violation recorded as of " + fmt(self.today)
        return TermFinding(term, "satisfied", anchor_steps=steps,
                           notes=[kept] + ([note] if note else []))

    def deadline_for(self, term: Term, spec: DeadlineSpec
                     ) -> tuple[Deadline | None, list[Explained], AnchorState | None]:
        if spec.on is not None:
            return fixed(court=self.court, day=spec.on, citation=term.citation.label()), [], None
        assert spec.after is not None and spec.amount is not None and spec.unit is not None
        state = self.anchor(spec.after)
        if state.state in ("pending", "never") or state.day is None:
            return None, list(state.steps), state
        deadline = compute(court=self.court, trigger=state.day, amount=spec.amount,
                           unit=spec.unit, service=spec.service)
        return deadline, list(state.steps), state

    def extensions(self, term: Term, deadline: Deadline) -> tuple[Deadline, list[str]]:
        notes = []
        for event in self.builtin("deadline_extended"):
            if event.data.get("term") != term.id:
                continue
            if "until" in event.data:
                deadline = fixed(court=self.court, day=dt.date.fromisoformat(
                    event.data["until"]), citation=f"extension (event {event.id})")
            else:
                deadline = compute(court=self.court, trigger=deadline.due_date,
                                   amount=int(event.data["by_days"]))
            notes.append(f"extended by the court on {fmt(self.day(event))} (event {event.id}) "
                         f"to {fmt(deadline.due_date)}")
        return deadline, notes

    def obligation(self, term: Term) -> TermFinding:
        deadline: Deadline | None = None
        anchor_steps: list[Explained] = []
        notes: list[str] = []
        provisional = False
        state: AnchorState | None = None
        if term.deadline is not None:
            deadline, anchor_steps, state = self.deadline_for(term, term.deadline)
            if deadline is not None:
                deadline, extended = self.extensions(term, deadline)
                notes.extend(extended)
            if state is not None and state.state == "provisional":
                provisional = True
            if term.deadline.adopted_for:
                notes.append(f'the order says "{term.deadline.adopted_for}"; the adopted period '
                             f"is {term.deadline.amount} {term.deadline.unit}: "
                             f"{term.deadline.adopted_note}")
        trigger_event = None
        if state is not None and state.events:
            trigger_event = next((e for e in self.events if e.id == state.events[0]), None)
        done_on, relied, outstanding = self.satisfaction(term, trigger_event)
        if done_on is not None:
            self._performed_on[term.id] = done_on
        due_date = deadline.due_date if deadline else None
        base = TermFinding(term, "pending", due_date, deadline, outstanding, relied,
                           anchor_steps, notes, provisional)
        if done_on is not None:
            if deadline is not None and done_on > deadline.due_date and not provisional:
                # Done now, but late: the term is satisfied and the breach stays on record.
                base.status = "satisfied"
                base.late = True
                reason = (f"performed on {fmt(done_on)}, after the deadline of "
                          f"{fmt(deadline.due_date)}")
                base.notes.insert(0, reason)
                self.violations.append(Violation(term.id, tuple(relied), reason))
            else:
                base.status = "satisfied"
                base.notes.insert(0, f"performed on {fmt(done_on)}")
            return base
        if term.deadline is None:
            base.notes.insert(0, "no deadline stated in the order")
            return base
        if deadline is None:
            assert state is not None
            if state.state == "never":
                base.status = "not_triggered"
                base.notes.insert(0, state.note or "the triggering event did not occur")
            elif state.not_before is not None:
                floor = compute(court=self.court, trigger=state.not_before,
                                amount=term.deadline.amount or 1,
                                unit=term.deadline.unit or "days")
                base.notes.insert(0, f"not before {fmt(floor.due_date)}; {state.note}")
            else:
                base.status = "not_triggered"
                base.notes.insert(0, state.note or "not yet triggered")
            return base
        if self.passed(deadline) and not provisional:
            base.status = "overdue"
            missing = f"; still out: {', '.join(outstanding)}" if outstanding else ""
            base.notes.insert(0, f"due {fmt(deadline.due_date)} and not performed{missing}")
            return base
        hint = f"; {state.note}" if state is not None and state.note else ""
        base.notes.insert(0, f"due {fmt(deadline.due_date)}{hint}")
        return base

    def satisfaction(self, term: Term, trigger: Event | None
                     ) -> tuple[dt.date | None, list[str], list[str]]:
        """When the term was performed (None: not yet), the events relied on, what is out."""
        needed_pages: frozenset[str] = frozenset()
        needed_items: frozenset[str] = frozenset()
        covering = any(m.covers for m in term.satisfied_by)
        if any(m.covers == "scope" for m in term.satisfied_by):
            needed_pages = self.order.scope_pages(term)
            needed_items = self.order.scope_items(term)
        elif any(m.covers == "trigger" for m in term.satisfied_by) and trigger is not None:
            needed_pages = trigger.pages()
        candidates: list[Event] = []
        for index, matcher in enumerate(term.satisfied_by):
            candidates.extend(self.matching(term, "satisfied", index, matcher))
        candidates.sort(key=lambda e: e.sort_key(self.court.zone))
        deadline = term.deadline
        if (trigger is not None and deadline is not None and deadline.after
                and not _anchor_is_fixed(deadline.after)):
            # Performance counts from the triggering event on (a notice before the
            # disclosure it reports is not that notice).
            candidates = [e for e in candidates if self.day(e) >= self.day(trigger)]
        if not covering:
            if candidates:
                return self.day(candidates[0]), [candidates[0].id], []
            return None, [], []
        pages: set[str] = set()
        items: set[str] = set()
        relied: list[str] = []
        for event in candidates:
            pages |= event.pages()
            items |= set(event.data.get("items", []))
            item = event.data.get("item")
            if isinstance(item, str):
                items.add(item)
            relied.append(event.id)
            if needed_pages <= pages and needed_items <= items:
                return self.day(event), relied, []
        out = bates.render(needed_pages - pages) + sorted(needed_items - items)
        return None, relied, out


def _anchor_is_fixed(anchor: Anchor) -> bool:
    return bool(anchor.get("order_entered"))


def _list_conditions_hold(matcher: Matcher, event: Event) -> bool:
    """``where`` tests on list-valued data (a list value must contain the wanted one)."""
    for key, wanted in matcher.where.items():
        value = event.data.get(key)
        if value is None:
            return False  # a condition on a key the event does not carry cannot hold
        if isinstance(value, list):
            options = wanted if isinstance(wanted, list) else [wanted]
            if wanted != "*" and not any(o in value for o in options):
                return False
    return True


def _describe(event: Event) -> str:
    parts = []
    for key in ("by", "recipient", "recipient_role", "to"):
        if key in event.data:
            parts.append(f"{key} {event.data[key]}")
    if "pages" in event.data:
        parts.append("pages " + ", ".join(event.data["pages"]))
    return "; ".join(parts) or f"event {event.id}"
