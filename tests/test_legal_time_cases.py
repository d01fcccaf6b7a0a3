"""The worked cases in ``data/legal-time-cases.yaml``, each a sentence a clerk would sign."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from tipstaff.engine.calendar import load_court
from tipstaff.engine.timecalc import Deadline, compute, fixed, later_of
from tipstaff.when import parse_when

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "legal-time-cases.yaml").read_text())


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def run_case(case: dict[str, Any]) -> Deadline:
    """Compute one case exactly as `tipstaff due` would."""
    court = load_court(case.get("court", "ed-cal"))
    if "fixed" in case:
        return fixed(court=court, day=_date(case["fixed"]), citation="the order")
    unit = next(u for u in ("days", "hours", "court_days") if u in case)
    anchors = [case["trigger"], *case.get("later_of", [])]
    parts = []
    for anchor in anchors:
        when = parse_when(str(anchor) if not isinstance(anchor, dt.date) else anchor.isoformat(),
                          zone=court.zone, want_time=unit == "hours")
        parts.append((f"from {anchor}", compute(
            court=court, trigger=when, amount=case[unit], unit=unit,
            system=case.get("system"), service=case.get("service", "none"),
            state_holidays=not case.get("no_state_holidays", False))))
    return parts[0][1] if len(parts) == 1 else later_of(parts)


def test_there_are_at_least_sixty_worked_cases() -> None:
    """The table holds at least 60 cases, every one with its reasoning."""
    assert len(CASES) >= 60
    assert all(case.get("why") for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_worked_case(case: dict[str, Any]) -> None:
    """Each worked case computes the expected last day, instant and alternative reading."""
    deadline = run_case(case)
    assert deadline.due_date == _date(case["expect"]), "\n".join(
        f"[{s.rule}] {s.text}" for s in deadline.steps)
    if "expect_at" in case:
        assert deadline.due_at == dt.datetime.fromisoformat(str(case["expect_at"]))
    alternatives = {a.due_date for a in deadline.alternatives}
    if "alternative" in case:
        assert _date(case["alternative"]) in alternatives
        assert deadline.flags, "an alternative reading must come with a flag"
        assert deadline.earliest_safe == min(deadline.due_date, *alternatives)
    else:
        assert not alternatives
    assert deadline.steps, "every result explains itself"
