"""Hypothesis properties of the legal-time engine over the whole covered range."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from tipstaff.engine.calendar import load_court
from tipstaff.engine.timecalc import compute

ED = load_court("ed-cal")
SUPERIOR = load_court("ca-superior")

# Periods up to 120 days plus 20 mail days and rolls stay inside the 2100 coverage.
triggers = st.dates(min_value=dt.date(2009, 12, 1), max_value=dt.date(2100, 6, 1))
periods = st.integers(min_value=1, max_value=120)


@settings(max_examples=400, deadline=None)
@given(trigger=triggers, n=periods)
def test_forward_deadlines_never_end_on_a_weekend_or_legal_holiday(trigger: dt.date, n: int
                                                                   ) -> None:
    """A forward FRCP period never ends on Saturday, Sunday or a (forward) legal holiday."""
    due = compute(court=ED, trigger=trigger, amount=n).due_date
    assert due.weekday() < 5
    assert due not in ED.closed_days(forward=True)
    assert due >= trigger + dt.timedelta(days=n)


@settings(max_examples=400, deadline=None)
@given(trigger=triggers, n=periods)
def test_backward_deadlines_roll_earlier(trigger: dt.date, n: int) -> None:
    """A backward period ends on or before its raw day, on a day open for backward periods."""
    due = compute(court=ED, trigger=trigger, amount=-n).due_date
    assert due <= trigger - dt.timedelta(days=n)
    assert due.weekday() < 5
    assert due not in ED.closed_days(forward=False)


@settings(max_examples=400, deadline=None)
@given(trigger=triggers, n=periods,
       service=st.sampled_from(["mail", "clerk", "electronic", "overnight", "personal"]))
def test_service_time_never_makes_a_deadline_earlier(trigger: dt.date, n: int, service: str
                                                     ) -> None:
    """Adding service time (FRCP 6(d)) never moves a deadline earlier."""
    plain = compute(court=ED, trigger=trigger, amount=n).due_date
    served = compute(court=ED, trigger=trigger, amount=n, service=service).due_date
    assert served >= plain


@settings(max_examples=300, deadline=None)
@given(trigger=triggers, n=periods,
       service=st.sampled_from(["mail", "mail-out-of-state", "mail-out-of-country",
                                "electronic", "overnight", "personal"]))
def test_california_service_never_makes_a_deadline_earlier(trigger: dt.date, n: int,
                                                           service: str) -> None:
    """CCP 1013 and 1010.6 extensions never move a deadline earlier, and it is a court day."""
    plain = compute(court=SUPERIOR, trigger=trigger, amount=n).due_date
    served = compute(court=SUPERIOR, trigger=trigger, amount=n, service=service).due_date
    assert served >= plain
    assert served.weekday() < 5 and served not in SUPERIOR.closed_days(forward=True)


@settings(max_examples=200, deadline=None)
@given(trigger=triggers, n=periods)
def test_the_traced_explanation_agrees_with_the_fast_path(trigger: dt.date, n: int) -> None:
    """Building the explanation re-runs the computation and reaches the same date."""
    deadline = compute(court=ED, trigger=trigger, amount=n, service="mail")
    assert deadline.steps[-1].text.startswith("Last day: ")
    assert deadline.due_date.isoformat() in deadline.steps[-1].text
