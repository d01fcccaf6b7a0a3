"""Court calendars: which days are legal holidays, for which periods, and why.

A court file (``rules/courts/ID.yaml``) names its zone, computation system, clerk's hours,
coverage years, the holiday rule sets it uses (``rules/calendars/*.yaml``) and ad hoc
closures. Operators add closures or whole courts without a release through the folder named
by ``TIPSTAFF_COURTS_DIR`` (a file with ``court: ID`` and ``closures:`` extends a court; a
file with ``id:`` defines one).

Holiday rules are dated (``from``/``to``, compared with the day actually observed) and carry
their citation. Unsettled days (register ids U1..U8 of TIME-COMPUTATION.md) are listed but
left out of the settled computation; :mod:`tipstaff.engine.timecalc` computes the other
reading with them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from tipstaff.engine import datafile as df
from tipstaff.engine.datafile import Node
from tipstaff.engine.errors import DataError, OutOfCoverageError, UnknownCourtError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OBSERVANCES = ("none", "federal", "sunday-to-monday", "crc-1.11", "saturday-to-friday-only")
SYSTEMS = ("frcp", "frap", "ca-ccp")
SOURCES = ("federal", "state", "judicial")
CLOSURE_KINDS = ("inaccessible", "closed")


@dataclass(frozen=True, slots=True)
class Holiday:
    """One day on which a court's periods do not end, and why."""

    day: dt.date
    name: str
    source: str  # "federal" | "state" | "judicial" | "closure"
    reason: str
    forward_only: bool  # counts only for periods measured after an event (6(a)(6)(C))
    unsettled: str | None = None


@dataclass(frozen=True, slots=True)
class Closure:
    """An ad hoc day the clerk's office was inaccessible (6(a)(3)) or closed (CCP 12b)."""

    day: dt.date
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    date: Node
    observed: str
    start: dt.date
    end: dt.date
    citation: str
    unsettled: str | None
    source: str
    forward_only: bool


@dataclass(eq=False)
class CourtCalendar:
    """One court's calendar; immutable once loaded (caches are derived, never edited)."""

    id: str
    name: str
    zone: str
    system: str
    clerk_opens: dt.time
    clerk_closes: dt.time
    clerk_citation: str
    state: str | None
    appeals_to: str | None  # the court of appeals whose calendar governs an appeal
    first_year: int
    last_year: int
    rules: tuple[_Rule, ...]
    closures: tuple[Closure, ...]
    _by_day: dict[dt.date, list[Holiday]] = field(default_factory=dict, repr=False)
    _sets: dict[tuple[bool, bool, bool], frozenset[dt.date]] = field(default_factory=dict,
                                                                     repr=False)
    _inaccessible: dict[dt.date, Closure] = field(default_factory=dict, repr=False)
    first_day: dt.date = field(init=False)
    last_day: dt.date = field(init=False)

    def __post_init__(self) -> None:
        # Plain attributes, not properties: check_covered is on the hot path.
        self.first_day = dt.date(self.first_year, 1, 1)
        self.last_day = dt.date(self.last_year, 12, 31)
        for holiday in self._generate():
            self._by_day.setdefault(holiday.day, []).append(holiday)
        for closure in self.closures:
            if closure.kind == "inaccessible":
                self._inaccessible[closure.day] = closure

    def check_covered(self, day: dt.date) -> None:
        """Refuse a day outside the years this calendar covers (never guess)."""
        if not self.first_day <= day <= self.last_day:
            raise OutOfCoverageError(
                f"{self.id} covers {self.first_day.isoformat()}..{self.last_day.isoformat()}; "
                f"{day.isoformat()} is outside it")

    def holidays(self, year: int) -> list[Holiday]:
        """Every holiday (settled or not) and 'closed' closure falling in ``year``."""
        self.check_covered(dt.date(year, 1, 1) if year >= self.first_year
                           else dt.date(year, 12, 31))
        days = sorted(d for d in self._by_day if d.year == year)
        return [h for d in days for h in self._by_day[d]]

    def closed_days(self, *, forward: bool, state_holidays: bool = True,
                    include_unsettled: bool = False) -> frozenset[dt.date]:
        """Weekday holidays over the whole coverage, for the given kind of period (cached)."""
        key = (forward, state_holidays, include_unsettled)
        cached = self._sets.get(key)
        if cached is None:
            cached = frozenset(
                day for day, found in self._by_day.items()
                if day.weekday() < 5 and any(
                    self._counts(h, forward, state_holidays, include_unsettled) for h in found))
            self._sets[key] = cached
        return cached

    def holiday_on(self, day: dt.date, *, forward: bool, state_holidays: bool = True,
                   include_unsettled: bool = False) -> Holiday | None:
        """The holiday that closes ``day`` for such a period (settled ones first)."""
        found = [h for h in self._by_day.get(day, ())
                 if self._counts(h, forward, state_holidays, include_unsettled)]
        found.sort(key=lambda h: (h.unsettled is not None, SOURCES.index(h.source)
                                  if h.source in SOURCES else len(SOURCES)))
        return found[0] if found else None

    def inaccessible(self, day: dt.date) -> Closure | None:
        """The FRCP 6(a)(3) inaccessibility recorded for ``day``, if any."""
        return self._inaccessible.get(day)

    def _counts(self, h: Holiday, forward: bool, state_holidays: bool,
                include_unsettled: bool) -> bool:
        if h.unsettled and not include_unsettled:
            return False
        if h.forward_only and not forward:
            return False
        return state_holidays or h.source in ("federal", "closure") or self.system == "ca-ccp"

    def _generate(self) -> Iterator[Holiday]:
        for rule in self.rules:
            for year in range(self.first_year - 1, self.last_year + 2):
                for actual, observed in _days_for(rule, year):
                    if not (rule.start <= observed <= rule.end
                            and self.first_day <= observed <= self.last_day):
                        continue
                    name = rule.name if actual == observed else f"{rule.name} (observed)"
                    moved = "" if actual == observed else (
                        f" ({actual.strftime('%A')} {actual.isoformat()} observed on this day)")
                    yield Holiday(day=observed, name=name, source=rule.source,
                                  reason=f"{rule.citation}{moved}",
                                  forward_only=rule.forward_only, unsettled=rule.unsettled)
        for closure in self.closures:
            if closure.kind == "closed":
                yield Holiday(day=closure.day, name="Court closed", source="closure",
                              reason=f"{closure.reason} (CCP § 12b: a day the office is closed "
                                     "is a holiday for computing time)", forward_only=False)


def _days_for(rule: _Rule, year: int) -> Iterator[tuple[dt.date, dt.date]]:
    """(actual, observed) pairs that rule ``rule`` produces for ``year``."""
    spec = rule.date
    if "dates" in spec:
        for raw in spec["dates"]:
            day = df.date_value(spec, "dates", raw)
            if day.year == year:
                yield day, day
        return
    if "easter" in spec:
        day = _easter(year) + dt.timedelta(days=spec["easter"])
        yield day, day
        return
    month = spec["month"]
    if "day" in spec:
        actual = dt.date(year, month, spec["day"])
    else:
        actual = _nth_weekday(year, month, WEEKDAYS.index(spec["weekday"]), spec["nth"])
    actual += dt.timedelta(days=spec.get("plus_days", 0))
    weekday = actual.weekday()
    observed = actual
    if rule.observed in ("federal", "crc-1.11"):
        observed = actual + dt.timedelta(days={5: -1, 6: 1}.get(weekday, 0))
    elif rule.observed == "sunday-to-monday" and weekday == 6:
        observed = actual + dt.timedelta(days=1)
    elif rule.observed == "saturday-to-friday-only":
        if weekday != 5:
            return
        observed = actual - dt.timedelta(days=1)
    yield actual, observed


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> dt.date:
    if nth > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = following - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


# -- loading --------------------------------------------------------------------------------

def _packaged(folder: str) -> dict[str, tuple[str, str]]:
    """``{stem: (display path, text)}`` for the YAML files of a packaged rules folder."""
    root = resources.files("tipstaff.rules").joinpath(folder)
    return {item.name.removesuffix(".yaml"): (f"rules/{folder}/{item.name}", item.read_text())
            for item in root.iterdir() if item.name.endswith(".yaml")}


@cache
def _holiday_set(set_id: str) -> tuple[_Rule, ...]:
    files = _packaged("calendars")
    if set_id not in files:
        raise DataError(f"unknown holiday set {set_id!r}{df.suggest(set_id, files)}")
    path, content = files[set_id]
    node = df.check_keys(df.load_yaml(content, source=path),
                         required=["id", "source", "forward_only", "holidays"],
                         what="holiday set")
    source = df.choice(node, "source", SOURCES)
    forward_only = node["forward_only"]
    if not isinstance(forward_only, bool):
        raise df.error(node, "forward_only", "expected true or false")
    if not isinstance(node["holidays"], list):
        raise df.error(node, "holidays", "expected a list of holiday rules")
    return tuple(_rule(item, source, forward_only, node) for item in node["holidays"])


def _rule(item: Any, source: str, forward_only: bool, parent: Node) -> _Rule:
    rule = df.check_keys(item, required=["name", "date", "citation"],
                         optional=["observed", "from", "to", "unsettled"],
                         what="holiday rule", parent=parent, key="holidays")
    spec = rule["date"]
    if isinstance(spec, Node) and "dates" in spec:
        df.check_keys(spec, required=["dates"], what="date", parent=rule, key="date")
        for raw in spec["dates"]:
            df.date_value(spec, "dates", raw)
    elif isinstance(spec, Node) and "easter" in spec:
        df.check_keys(spec, required=["easter"], what="date", parent=rule, key="date")
        df.integer(spec, "easter", low=-60, high=60)
    elif isinstance(spec, Node) and "day" in spec:
        df.check_keys(spec, required=["month", "day"], what="date", parent=rule, key="date")
        df.integer(spec, "month", low=1, high=12)
        df.integer(spec, "day", low=1, high=31)
    else:
        spec = df.check_keys(spec, required=["month", "weekday", "nth"],
                             optional=["plus_days"], what="date", parent=rule, key="date")
        df.integer(spec, "month", low=1, high=12)
        df.choice(spec, "weekday", WEEKDAYS)
        if df.integer(spec, "nth", low=-1, high=5) == 0:
            raise df.error(spec, "nth", "expected 1..5, or -1 for the last")
        if "plus_days" in spec:
            df.integer(spec, "plus_days", low=-6, high=6)
    unsettled = rule.get("unsettled")
    if unsettled is not None and not (isinstance(unsettled, str) and unsettled[:1] == "U"):
        raise df.error(rule, "unsettled", "expected a register id such as U3")
    return _Rule(
        name=df.text(rule, "name"), date=spec,
        observed=df.choice(rule, "observed", OBSERVANCES, default="none"),
        start=df.date_value(rule, "from") if "from" in rule else dt.date.min,
        end=df.date_value(rule, "to") if "to" in rule else dt.date.max,
        citation=df.text(rule, "citation"), unsettled=unsettled, source=source,
        forward_only=forward_only)


def _closures(node: Node, key: str) -> list[Closure]:
    items = node.get(key) or []
    if not isinstance(items, list):
        raise df.error(node, key, "expected a list of closures")
    found = []
    for item in items:
        entry = df.check_keys(item, required=["date", "kind", "reason"], optional=["citation"],
                              what="closure", parent=node, key=key)
        reason = df.text(entry, "reason")
        if "citation" in entry:
            reason = f"{reason}; {df.text(entry, 'citation')}"
        found.append(Closure(day=df.date_value(entry, "date"),
                             kind=df.choice(entry, "kind", CLOSURE_KINDS), reason=reason))
    return found


def _court(node: Node, extra: list[Closure]) -> CourtCalendar:
    df.check_keys(node, required=["id", "name", "zone", "system", "clerk_office", "coverage",
                                  "holiday_sets"],
                  optional=["state", "closures", "appeals_to"],
                  what="court")
    clerk = df.check_keys(node["clerk_office"], required=["opens", "closes", "citation"],
                          what="clerk_office", parent=node, key="clerk_office")
    coverage = df.check_keys(node["coverage"], required=["first_year", "last_year"],
                             what="coverage", parent=node, key="coverage")
    sets = node["holiday_sets"]
    if not isinstance(sets, list) or not sets:
        raise df.error(node, "holiday_sets", "expected a list of holiday set ids")
    known = _packaged("calendars")
    rules: list[_Rule] = []
    for set_id in sets:
        if set_id not in known:
            raise df.error(node, "holiday_sets", f"unknown holiday set {set_id!r}"
                                                 f"{df.suggest(str(set_id), known)}")
        rules.extend(_holiday_set(set_id))
    zone = df.text(node, "zone")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(zone)
    except Exception:
        raise df.error(node, "zone", f"unknown IANA time zone {zone!r}") from None
    first = df.integer(coverage, "first_year", low=1900, high=2200)
    last = df.integer(coverage, "last_year", low=first, high=2200)
    return CourtCalendar(
        id=df.text(node, "id"), name=df.text(node, "name"), zone=zone,
        system=df.choice(node, "system", SYSTEMS),
        clerk_opens=df.time_value(clerk, "opens"), clerk_closes=df.time_value(clerk, "closes"),
        clerk_citation=df.text(clerk, "citation"),
        state=node.get("state"), appeals_to=node.get("appeals_to"), first_year=first,
        last_year=last, rules=tuple(rules),
        closures=tuple([*_closures(node, "closures"), *extra]))


def _extra_files(extra_dir: str | os.PathLike[str] | None) -> list[Node]:
    folder = extra_dir if extra_dir is not None else os.environ.get("TIPSTAFF_COURTS_DIR")
    if not folder:
        return []
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"TIPSTAFF_COURTS_DIR {folder} is not a folder")
    nodes = []
    for file in sorted(path.glob("*.yaml")):
        node = df.load_yaml(file.read_text(), source=str(file))
        if not isinstance(node, Node):
            raise DataError("expected a mapping", file=str(file), line=1)
        nodes.append(node)
    return nodes


def _sources(extra_dir: str | os.PathLike[str] | None) -> tuple[dict[str, Node],
                                                                 dict[str, list[Closure]]]:
    courts: dict[str, Node] = {}
    for stem, (path, content) in _packaged("courts").items():
        node = df.load_yaml(content, source=path)
        if not isinstance(node, Node) or node.get("id") != stem:
            raise DataError(f"the court id must match the file name {stem!r}", file=path,
                            line=1, field="id")
        courts[stem] = node
    additions: dict[str, list[Closure]] = {}
    for node in _extra_files(extra_dir):
        if "court" in node:
            df.check_keys(node, required=["court", "closures"], what="closure file")
            target = df.text(node, "court")
            additions.setdefault(target, []).extend(_closures(node, "closures"))
        else:
            courts[df.text(node, "id")] = node
    for target in additions:
        if target not in courts:
            raise DataError(f"closures for unknown court {target!r}"
                            f"{df.suggest(target, courts)}")
    return courts, additions


@cache
def _load(court_id: str, extra_dir: str | None) -> CourtCalendar:
    courts, additions = _sources(extra_dir)
    if court_id not in courts:
        raise UnknownCourtError(f"unknown court {court_id!r}{df.suggest(court_id, courts)}; "
                                f"known courts: {', '.join(sorted(courts))}")
    return _court(courts[court_id], additions.get(court_id, []))


def load_court(court_id: str, *, extra_dir: str | os.PathLike[str] | None = None
               ) -> CourtCalendar:
    """The calendar of ``court_id`` (cached), with the operator's extra folder applied."""
    folder = extra_dir if extra_dir is not None else os.environ.get("TIPSTAFF_COURTS_DIR")
    return _load(court_id, str(folder) if folder else None)


def list_courts(*, extra_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """The ids of every known court, packaged and operator-defined."""
    folder = extra_dir if extra_dir is not None else os.environ.get("TIPSTAFF_COURTS_DIR")
    return sorted(_sources(str(folder) if folder else None)[0])
