"""`tipstaff due` and `tipstaff holidays` through the real command in a subprocess."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Run


def test_due_prints_the_date_first(tipstaff: Run) -> None:
    """Plain output starts with the due date."""
    result = tipstaff("due", "--trigger", "2013-11-06", "--days", "5", check=True)
    assert result.stdout.startswith("Tue 2013-11-12")


def test_due_explain_cites_each_rule(tipstaff: Run) -> None:
    """--explain lists each step with its citation, naming Veterans Day."""
    result = tipstaff("due", "--court", "ed-cal", "--trigger", "2013-11-06", "--days", "5",
                      "--explain", check=True)
    assert "[FRCP 6(a)(1)(A)]" in result.stdout
    assert "Veterans Day" in result.stdout
    assert "[FRCP 6(a)(4)(A)]" in result.stdout


def test_due_json_is_the_public_contract(tipstaff: Run) -> None:
    """--json prints one object with due_date, due_at, steps, flags, alternatives."""
    result = tipstaff("due", "--trigger", "2014-03-03", "--later-of", "2015-07-17",
                      "--days", "20", "--json", check=True)
    payload = json.loads(result.stdout)
    assert payload["due_date"] == "2015-08-06"
    assert payload["due_at"] == "2015-08-06T23:59:59-07:00"
    assert isinstance(payload["steps"], list) and payload["steps"]
    assert payload["flags"] == [] and payload["alternatives"] == []


def test_negative_days_count_backward(tipstaff: Run) -> None:
    """Negative N means before the event."""
    result = tipstaff("due", "--trigger", "2012-09-11", "--days", "-10", "--json", check=True)
    assert json.loads(result.stdout)["due_date"] == "2012-08-31"


def test_hours_with_an_offset(tipstaff: Run) -> None:
    """An hours period takes an ISO instant and returns a zoned due_at."""
    result = tipstaff("due", "--trigger", "2024-03-08T10:00-08:00", "--hours", "48", "--json",
                      check=True)
    assert json.loads(result.stdout)["due_at"] == "2024-03-11T11:00:00-07:00"


def test_california_court_days_with_mail(tipstaff: Run) -> None:
    """--court-days and --service mail work for a California court."""
    result = tipstaff("due", "--court", "ca-superior", "--trigger", "2024-12-20",
                      "--court-days", "-16", "--service", "mail", "--json", check=True)
    assert json.loads(result.stdout)["due_date"] == "2024-11-21"


def test_unsettled_point_shows_the_earliest_safe_date(tipstaff: Run) -> None:
    """A flagged point shows its alternative date in plain output and JSON."""
    result = tipstaff("due", "--trigger", "2022-01-28", "--days", "14", check=True)
    assert "unsettled (U3)" in result.stdout
    assert "2022-02-14" in result.stdout


def test_court_falls_back_to_the_environment(tipstaff: Run) -> None:
    """TIPSTAFF_COURT picks the court when --court is absent."""
    result = tipstaff("due", "--trigger", "2024-05-06", "--days", "10", "--service", "mail",
                      "--json", env={"TIPSTAFF_COURT": "ca-superior"}, check=True)
    assert json.loads(result.stdout)["court"] == "ca-superior"


def test_holidays_lists_reasons_and_directions(tipstaff: Run) -> None:
    """`tipstaff holidays` gives each holiday, why it counts, and its direction."""
    result = tipstaff("holidays", "--court", "ed-cal", "--year", "2021", "--json", check=True)
    rows = {row["date"]: row for row in json.loads(result.stdout)}
    assert rows["2021-12-31"]["name"].startswith("New Year")
    assert rows["2021-12-31"]["counts_backward"] is True
    assert rows["2021-11-26"]["counts_backward"] is False
    assert all(row["reason"] for row in rows.values())


def test_holidays_plain_output(tipstaff: Run) -> None:
    """Plain holiday output names the court and the year."""
    result = tipstaff("holidays", "--year", "2013", check=True)
    assert "2013" in result.stdout and "Thanksgiving" in result.stdout


BAD_INPUTS = [
    (["due", "--court", "ed-ca", "--trigger", "2013-11-06", "--days", "5"], "ed-cal"),
    (["due", "--trigger", "2013-02-30", "--days", "5"], "not a real date"),
    (["due", "--trigger", "1989-06-01", "--days", "5"], "1990"),
    (["due", "--trigger", "2013-11-06", "--days", "5", "--hours", "3"], "exactly one"),
    (["due", "--trigger", "2013-11-06"], "exactly one"),
    (["due", "--trigger", "2013-11-06", "--days", "five"], "five"),
    (["due", "--trigger", "2013-11-06", "--court-days", "5"], "court days"),
    (["due", "--trigger", "2013-11-06", "--days", "5", "--service", "pigeon"], "pigeon"),
    (["due", "--trigger", "2013-11-06", "--days", "5", "--system", "ccp"], "system"),
    (["due", "--trigger", "2013-11-06", "--hours", "5"], "time of day"),
    (["due", "--trigger", "2024-03-10T02:30", "--hours", "5"], "daylight"),
    (["due", "--trigger", "2008-06-02", "--days", "-5"], "2009-12-01"),
    (["due", "--trigger", "2024-06-02", "--days", "-5", "--service", "mail"], "6(d)"),
    (["due", "--trigger", "2013-11-06", "--days", "0"], "fixed date"),
    (["due", "--days", "5"], "--trigger"),
    (["due", "--trigger", "2013-11-06", "--days", "5", "--bogus"], "--bogus"),
    (["holidays", "--year", "2101"], "2100"),
    (["holidays", "--court", "nowhere", "--year", "2020"], "nowhere"),
    (["holidays", "--year", "twenty"], "twenty"),
    (["frobnicate"], "frobnicate"),
]


@pytest.mark.parametrize("args,needle", BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_is_one_clear_line_and_exit_2(tipstaff: Run, args: list[str], needle: str
                                                ) -> None:
    """Every user mistake exits 2 with one line on stderr naming the problem, no traceback."""
    result = tipstaff(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_help_works_everywhere(tipstaff: Run) -> None:
    """--help works on the root and on each command."""
    for args in ([], ["due"], ["holidays"], ["courts"]):
        result = tipstaff(*args, "--help", check=True)
        assert "Usage" in result.stdout




def test_every_option_reads_a_tipstaff_variable(tipstaff: Run) -> None:
    """Options without a named variable read TIPSTAFF_<COMMAND>_<PARAMETER>."""
    result = tipstaff("due", "--trigger", "2013-11-06", "--json",
                      env={"TIPSTAFF_DUE_DAYS": "5", "TIPSTAFF_DUE_SERVICE": "mail"},
                      check=True)
    payload = json.loads(result.stdout)
    assert payload["request"]["amount"] == 5
    assert payload["due_date"] == "2013-11-15"
