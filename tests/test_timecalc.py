"""The legal-time engine beyond the worked table: refusals, explanations, instants, chains."""

from __future__ import annotations

import datetime as dt

import pytest

from tipstaff.engine import appellate
from tipstaff.engine.calendar import load_court
from tipstaff.engine.errors import InputError, OutOfCoverageError
from tipstaff.engine.timecalc import compute, earlier_of, fixed, later_of

D = dt.date
ED = load_court("ed-cal")
CA9 = load_court("ca9")
SUPERIOR = load_court("ca-superior")


def test_backward_period_before_2009_is_refused() -> None:
    """A backward period with a pre-2009 trigger is refused, never computed under the new rule."""
    with pytest.raises(InputError, match="2009-12-01"):
        compute(court=ED, trigger=D(2008, 6, 2), amount=-14)


def test_hours_before_2009_are_refused() -> None:
    """Hour periods did not exist before 2009; such a trigger is refused."""
    when = dt.datetime(2008, 6, 2, 9, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    with pytest.raises(InputError, match="2009-12-01"):
        compute(court=ED, trigger=when, amount=24, unit="hours")


def test_old_rule_is_named_in_the_explanation() -> None:
    """A pre-2009 computation says which rule text it used."""
    deadline = compute(court=ED, trigger=D(2008, 11, 20), amount=10)
    assert any("pre-2009" in s.rule for s in deadline.steps)


def test_court_days_are_refused_under_frcp() -> None:
    """FRCP has no court-day unit since 2009."""
    with pytest.raises(InputError, match="court days"):
        compute(court=ED, trigger=D(2024, 5, 1), amount=5, unit="court_days")


def test_service_on_a_backward_federal_period_is_refused() -> None:
    """6(d) adds time only to periods running after service."""
    with pytest.raises(InputError, match="6\\(d\\)"):
        compute(court=ED, trigger=D(2024, 5, 1), amount=-14, service="mail")


def test_zero_period_is_refused() -> None:
    """A period of zero days is a fixed date, not a period."""
    with pytest.raises(InputError, match="fixed date"):
        compute(court=ED, trigger=D(2024, 5, 1), amount=0)


def test_hours_need_an_aware_instant() -> None:
    """An hours period from a naive datetime is refused rather than guessed."""
    with pytest.raises(InputError, match="offset"):
        compute(court=ED, trigger=dt.datetime(2024, 5, 1, 9), amount=24, unit="hours")


def test_trigger_outside_coverage_is_refused() -> None:
    """Dates before 1990 are outside every calendar: refuse, never guess."""
    with pytest.raises(OutOfCoverageError, match="1989-12-29"):
        compute(court=ED, trigger=D(1989, 12, 29), amount=14)


def test_result_outside_coverage_is_refused() -> None:
    """A period that ends after 2100 is refused."""
    with pytest.raises(OutOfCoverageError):
        compute(court=ED, trigger=D(2100, 12, 25), amount=14)


def test_unknown_service_is_refused() -> None:
    """An unknown service method names the valid ones."""
    with pytest.raises(InputError, match="personal"):
        compute(court=ED, trigger=D(2024, 5, 1), amount=14, service="pigeon")


def test_electronic_filing_ends_at_midnight_in_the_court_zone() -> None:
    """6(a)(4)(A): the last day ends at midnight Pacific for E.D. Cal."""
    deadline = compute(court=ED, trigger=D(2013, 11, 7), amount=5)
    assert deadline.due_at.isoformat() == "2013-11-12T23:59:59-08:00"


def test_paper_filing_ends_when_the_clerk_closes() -> None:
    """6(a)(4)(B): a paper filing ends at the clerk's scheduled close (4:00 p.m. in E.D. Cal.)."""
    deadline = compute(court=ED, trigger=D(2024, 7, 1), amount=14, filing="paper")
    assert deadline.due_at.isoformat() == "2024-07-15T16:00:00-07:00"
    assert "clerk" in deadline.steps[-1].text


def test_service_steps_come_in_rule_order() -> None:
    """The explanation shows roll, then +3, then roll (decision A3)."""
    deadline = compute(court=ED, trigger=D(2024, 8, 1), amount=30, service="mail")
    rules = [s.rule for s in deadline.steps]
    first_roll = rules.index("FRCP 6(a)(1)(C)")
    plus_three = rules.index("FRCP 6(d)")
    assert first_roll < plus_three
    texts = " ".join(s.text for s in deadline.steps)
    assert "Labor Day" in texts and "Fri 2024-09-06" in texts


def test_post_2016_electronic_service_says_why_no_days_are_added() -> None:
    """The explanation says electronic service earned no days after 2016-12-01."""
    deadline = compute(court=ED, trigger=D(2017, 6, 1), amount=14, service="electronic")
    assert any("2016-12-01" in s.text for s in deadline.steps)


def test_holiday_roll_step_names_the_holiday_and_its_authority() -> None:
    """A roll step names the holiday and why it counts."""
    deadline = compute(court=ED, trigger=D(2024, 11, 14), amount=14)
    texts = " ".join(s.text for s in deadline.steps)
    assert "Thanksgiving" in texts
    assert "Dwyer" in texts


def test_a_fixed_date_on_a_saturday_is_not_rolled_in_federal_court() -> None:
    """A5: "until Saturday" means Saturday."""
    deadline = fixed(court=ED, day=D(2013, 11, 16), citation="Order ¶ 5")
    assert deadline.due_date == D(2013, 11, 16)
    assert any("Violette" in s.rule for s in deadline.steps)
    assert not deadline.alternatives


def test_a_fixed_date_on_a_california_holiday_is_flagged_under_ccp_13() -> None:
    """In a state court, CCP 13 allows the next business day; the order's date stays safe."""
    deadline = fixed(court=SUPERIOR, day=D(2024, 11, 29))
    assert deadline.due_date == D(2024, 11, 29)
    assert [f.alternative for f in deadline.flags] == [D(2024, 12, 2)]


def test_earlier_of_takes_the_first_deadline() -> None:
    """earlier-of picks the earliest part and explains the choice."""
    a = compute(court=ED, trigger=D(2024, 5, 1), amount=14)
    b = compute(court=ED, trigger=D(2024, 5, 3), amount=14)
    combined = earlier_of([("from A", a), ("from B", b)])
    assert combined.due_date == a.due_date
    assert "earlier" in combined.steps[-1].text


def test_later_of_carries_an_unsettled_alternative_through() -> None:
    """An unsettled point in the governing part yields an alternative for the combination."""
    unsettled = compute(court=ED, trigger=D(2018, 11, 21), amount=14)
    settled = compute(court=ED, trigger=D(2018, 11, 1), amount=14)
    combined = later_of([("one", unsettled), ("two", settled)])
    assert combined.due_date == D(2018, 12, 5)
    assert {a.due_date for a in combined.alternatives} == {D(2018, 12, 6)}


def test_json_shape_is_the_public_contract() -> None:
    """to_dict carries due_date, due_at, steps, flags and alternatives."""
    payload = compute(court=ED, trigger=D(2022, 1, 28), amount=14).to_dict()
    assert payload["due_date"] == "2022-02-11"
    assert payload["due_at"].endswith("-08:00")
    assert payload["alternatives"] == [
        {"due_date": "2022-02-14", "reading": payload["flags"][0]["text"]}]
    assert payload["flags"][0]["id"] == "U3"
    assert all(set(step) == {"rule", "text"} for step in payload["steps"])


# --- the appellate chain ------------------------------------------------------------------

def test_worked_example_readings_a_and_b() -> None:
    """§6.2: judgment 2024-03-01, no rehearing: mandate 03-22, cert window 05-30."""
    mandate = appellate.predicted_mandate(appeals=CA9, judgment_entered=D(2024, 3, 1))
    assert mandate.due_date == D(2024, 3, 22)
    a = appellate.final_disposition(reading="A", appeals=CA9, appellate_judgment=D(2024, 3, 1))
    b = appellate.final_disposition(reading="B", appeals=CA9, appellate_judgment=D(2024, 3, 1))
    assert a.due_date == D(2024, 3, 22)
    assert b.due_date == D(2024, 5, 30)
    assert compute(court=ED, trigger=a.due_date, amount=20).due_date == D(2024, 4, 11)
    assert compute(court=ED, trigger=b.due_date, amount=20).due_date == D(2024, 6, 20)


def test_reading_c_adds_the_rule_13_5_extension() -> None:
    """Reading C extends the certiorari window by the 60 days a Justice may grant."""
    c = appellate.final_disposition(reading="C", appeals=CA9, appellate_judgment=D(2024, 3, 1))
    assert c.due_date == D(2024, 7, 29)  # 05-30 + 60 days = Mon 07-29


def test_seed_case_mandate_prediction() -> None:
    """§6.2 seed: a court-of-appeals judgment of 2015-06-26 gives a mandate of 2015-07-17."""
    mandate = appellate.predicted_mandate(appeals=CA9, judgment_entered=D(2015, 6, 26))
    assert mandate.due_date == D(2015, 7, 17)


def test_mandate_after_a_denied_rehearing_runs_from_the_denial() -> None:
    """FRAP 41(b): 7 days after the order denying rehearing, when that is later."""
    mandate = appellate.predicted_mandate(appeals=CA9, judgment_entered=D(2024, 3, 1),
                                          rehearing_denied=D(2024, 4, 10))
    assert mandate.due_date == D(2024, 4, 17)


def test_an_actual_mandate_and_cert_denial_replace_predictions() -> None:
    """Known events win over predictions in reading B."""
    b = appellate.final_disposition(reading="B", appeals=CA9, appellate_judgment=D(2024, 3, 1),
                                    mandate_issued=D(2024, 3, 25), cert_denied=D(2024, 10, 7))
    assert b.due_date == D(2024, 10, 7)
    assert any("denied certiorari" in s.text for s in b.steps)


def test_notice_of_appeal_with_the_united_states_is_sixty_days() -> None:
    """FRAP 4(a)(1)(B): 60 days; day 60 Sat 2024-03-02 rolls to Mon 03-04."""
    deadline = appellate.notice_of_appeal_deadline(district=ED, judgment_entered=D(2024, 1, 2),
                                                   us_party=True)
    assert deadline.due_date == D(2024, 3, 4)


def test_unknown_reading_is_refused() -> None:
    """Only readings A, B and C exist."""
    with pytest.raises(InputError):
        appellate.final_disposition(reading="D", appeals=CA9, appellate_judgment=D(2024, 3, 1))
