"""The reminder policy and the pure planner: instants, court days, DST, recipients."""

from __future__ import annotations

import datetime as dt

import pytest

from tipstaff.engine.calendar import load_court
from tipstaff.engine.errors import DataError
from tipstaff.engine.order import load_bundled_order
from tipstaff.engine.reminders import (
    load_policy,
    local_instant,
    parse_policy,
    plan_deadline,
    plan_violation,
    recipients,
    term_class,
)

UTC = dt.UTC
WEST = load_bundled_order("west-v-dizon")
ED_CAL = load_court("ed-cal")
POLICY = load_policy()


def _term(term_id: str):  # type: ignore[no-untyped-def]
    return next(t for t in WEST.terms if t.id == term_id)


def test_bundled_policy_classes() -> None:
    """Return obligations are told apart from other obligations."""
    assert term_class(_term("return-documents")) == "return_obligation"
    assert term_class(_term("produce-dvd")) == "obligation"
    assert term_class(_term("opposition-deadline")) == "filing_deadline"
    assert term_class(_term("no-sharing")) == "prohibition"


def test_opposition_reminders_land_on_court_days() -> None:
    """Due Thu 2013-11-14: 14 days before is before the order (not planned); 7 days before
    is Thu 11-07 09:00 PST; 3 days before is Mon 11-11, Veterans Day, so Fri 11-08; 1 day
    before Wed 11-13; on the day; then daily on court days while overdue."""
    at = dt.datetime(2013, 11, 4, 16, tzinfo=UTC)
    planned = plan_deadline(POLICY, order=WEST, term=_term("opposition-deadline"),
                            calendar=ED_CAL, due_date=dt.date(2013, 11, 14), at=at)
    before = [(p.fire_at, p.label, p.recipient) for p in planned if p.kind != "overdue"]
    assert before == [
        (dt.datetime(2013, 11, 7, 17, tzinfo=UTC), "7 days before", "defense-counsel"),
        (dt.datetime(2013, 11, 8, 17, tzinfo=UTC), "3 days before", "defense-counsel"),
        (dt.datetime(2013, 11, 13, 17, tzinfo=UTC), "1 day before", "defense-counsel"),
        (dt.datetime(2013, 11, 14, 17, tzinfo=UTC), "on the day", "defense-counsel"),
    ]
    overdue_days = sorted({p.fire_at.date() for p in planned if p.kind == "overdue"})
    assert overdue_days[:3] == [dt.date(2013, 11, 15), dt.date(2013, 11, 18),
                                dt.date(2013, 11, 19)]  # the weekend skipped
    assert all(d.weekday() < 5 for d in overdue_days)
    # Escalation goes to counsel for both sides (west is pro se).
    assert {p.recipient for p in planned if p.kind == "overdue"} == {"defense-counsel", "west"}


def test_nothing_is_planned_in_the_past_except_the_notice() -> None:
    """A deadline learned two days before it is due gets the 1-day reminder onward only."""
    at = dt.datetime(2015, 8, 4, 12, tzinfo=UTC)
    planned = plan_deadline(POLICY, order=WEST, term=_term("return-documents"),
                            calendar=ED_CAL, due_date=dt.date(2015, 8, 6), at=at)
    kinds = [(p.kind, p.label) for p in planned if p.recipient == "litigation-coordinator"]
    assert kinds[:3] == [("notice", "deadline known"), ("reminder", "1 day before"),
                         ("due_today", "on the day")]
    assert all(p.fire_at >= at for p in planned)


def test_removed_party_is_not_planned() -> None:
    at = dt.datetime(2015, 7, 1, tzinfo=UTC)
    planned = plan_deadline(POLICY, order=WEST, term=_term("return-documents"),
                            calendar=ED_CAL, due_date=dt.date(2015, 8, 6), at=at,
                            active={"west", "dizon", "defense-counsel"})
    assert "litigation-coordinator" not in {p.recipient for p in planned}
    assert {p.recipient for p in planned} == {"west", "defense-counsel"}  # overdue: both


def test_recipient_selectors() -> None:
    assert recipients(WEST, _term("return-documents"), ["bearer_counsel"]) == ["west"]
    assert recipients(WEST, _term("opposition-deadline"), ["bearer_counsel"]) == [
        "defense-counsel"]
    assert recipients(WEST, _term("no-sharing"), ["all_counsel"]) == ["west",
                                                                      "defense-counsel"]
    assert recipients(WEST, _term("no-sharing"), ["role:litigation_coordinator"]) == [
        "litigation-coordinator"]


def test_violation_alerts_go_to_both_sides_at_once() -> None:
    at = dt.datetime(2014, 1, 10, 17, tzinfo=UTC)
    planned = plan_violation(POLICY, order=WEST, term=_term("no-sharing"), at=at)
    assert {(p.recipient, p.kind, p.fire_at) for p in planned} == {
        ("west", "violation", at), ("defense-counsel", "violation", at)}


def test_dst_gap_and_fold_instants_are_documented_ones() -> None:
    """02:30 on 2026-03-08 does not exist in Los Angeles: the instant is 10:30 UTC (03:30
    PDT). 01:30 on 2026-11-01 happens twice: the first (PDT, 08:30 UTC) is used."""
    zone = "America/Los_Angeles"
    assert local_instant(dt.date(2026, 3, 8), dt.time(2, 30), zone) == dt.datetime(
        2026, 3, 8, 10, 30, tzinfo=UTC)
    assert local_instant(dt.date(2026, 11, 1), dt.time(1, 30), zone) == dt.datetime(
        2026, 11, 1, 8, 30, tzinfo=UTC)


def test_reminders_keep_local_time_across_a_dst_change() -> None:
    """Planned in standard time for a deadline after the spring change: 09:00 PST before,
    09:00 PDT after — the UTC instants differ by an hour."""
    at = dt.datetime(2026, 2, 20, tzinfo=UTC)
    planned = plan_deadline(POLICY, order=WEST, term=_term("opposition-deadline"),
                            calendar=ED_CAL, due_date=dt.date(2026, 3, 10), at=at)
    by_label = {p.label: p.fire_at for p in planned if p.kind == "reminder"}
    assert by_label["7 days before"] == dt.datetime(2026, 3, 3, 17, tzinfo=UTC)
    assert by_label["1 day before"] == dt.datetime(2026, 3, 9, 16, tzinfo=UTC)


def test_policy_in_a_gap_hour() -> None:
    """A policy time inside the gap fires once, at the documented instant."""
    text = ('version: 1\ntime: "02:30"\ncourt_days: false\nclasses:\n  filing_deadline:\n'
            '    - {to: [bearer_counsel], when: on_the_day}\n')
    policy = parse_policy(text, source="gap.yaml")
    planned = plan_deadline(policy, order=WEST, term=_term("opposition-deadline"),
                            calendar=ED_CAL, due_date=dt.date(2026, 3, 8),
                            at=dt.datetime(2026, 3, 1, tzinfo=UTC))
    assert [p.fire_at for p in planned] == [dt.datetime(2026, 3, 8, 10, 30, tzinfo=UTC)]


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    ("version: 1\nclasses:\n  filing_deadline:\n    - {to: [judge], when: on_the_day}\n",
     4, "to", "unknown recipient 'judge'"),
    ("version: 1\nclasses:\n  filing_deadline:\n    - {to: [bearer], when: days_before}\n",
     4, "days", "expected a list of whole days"),
    ("version: 1\nclasses:\n  filing:\n    - {to: [bearer], when: on_the_day}\n",
     3, "filing", "unknown key in classes"),
    ("version: 1\nclasses:\n  obligation:\n    - {to: [bearer], when: on_day}\n",
     4, "when", "expected one of"),
    ("version: 2\nclasses: {}\n", 1, "version", "expected version 1"),
])
def test_bad_policy_names_line_and_field(text: str, line: int, field: str,
                                         message: str) -> None:
    with pytest.raises(DataError) as caught:
        parse_policy(text, source="policy.yaml")
    assert caught.value.line == line
    assert caught.value.field == field
    assert message in str(caught.value)
