"""Court calendars: the §7 table of TIME-COMPUTATION.md as the oracle, and strict loading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import holidays as holidays_package
import pytest

from tipstaff.engine.calendar import list_courts, load_court
from tipstaff.engine.errors import DataError, OutOfCoverageError, UnknownCourtError

ED = load_court("ed-cal")
SUPERIOR = load_court("ca-superior")

# TIME-COMPUTATION.md §7: federal legal holidays | extra CA days for FRCP/FRAP forward
# periods | CA judicial holidays (weekdays only, MM-DD).
TABLE = {
    2013: ("01-01 01-21 02-18 05-27 07-04 09-02 10-14 11-11 11-28 12-25",
           "02-12 04-01 11-29",
           "01-01 01-21 02-12 02-18 04-01 05-27 07-04 09-02 10-14 11-11 11-28 11-29 12-25"),
    2020: ("01-01 01-20 02-17 05-25 07-03 09-07 10-12 11-11 11-26 12-25",
           "02-12 03-31 11-27",
           "01-01 01-20 02-12 02-17 03-31 05-25 07-03 09-07 10-12 11-11 11-26 11-27 12-25"),
    2021: ("01-01 01-18 02-15 05-31 06-18 07-05 09-06 10-11 11-11 11-25 12-24 12-31",
           "02-12 03-31 11-26",
           "01-01 01-18 02-12 02-15 03-31 05-31 07-05 09-06 10-11 11-11 11-25 11-26 12-24 "
           "12-31"),
    2022: ("01-17 02-21 05-30 06-20 07-04 09-05 10-10 11-11 11-24 12-26",
           "03-31 09-23 11-25",
           "01-17 02-11 02-21 03-31 05-30 07-04 09-05 09-23 11-11 11-24 11-25 12-26"),
    2023: ("01-02 01-16 02-20 05-29 06-19 07-04 09-04 10-09 11-10 11-23 12-25",
           "02-13 03-31 09-22 11-24",
           "01-02 01-16 02-13 02-20 03-31 05-29 06-19 07-04 09-04 09-22 11-10 11-23 11-24 "
           "12-25"),
    2024: ("01-01 01-15 02-19 05-27 06-19 07-04 09-02 10-14 11-11 11-28 12-25",
           "02-12 04-01 09-27 11-29",
           "01-01 01-15 02-12 02-19 04-01 05-27 06-19 07-04 09-02 09-27 11-11 11-28 11-29 "
           "12-25"),
    2025: ("01-01 01-20 02-17 05-26 06-19 07-04 09-01 10-13 11-11 11-27 12-25",
           "02-12 03-31 09-26 11-28",
           "01-01 01-20 02-12 02-17 03-31 05-26 06-19 07-04 09-01 09-26 11-11 11-27 11-28 "
           "12-25"),
    2026: ("01-01 01-19 02-16 05-25 06-19 07-03 09-07 10-12 11-11 11-26 12-25",
           "02-12 03-31 09-25 11-27",
           "01-01 01-19 02-12 02-16 03-31 05-25 06-19 07-03 09-07 09-25 11-11 11-26 11-27 "
           "12-25"),
}


def _days(year: int, text: str) -> set[dt.date]:
    return {dt.date(year, int(md[:2]), int(md[3:])) for md in text.split()}


def _in_year(days: frozenset[dt.date], year: int) -> set[dt.date]:
    return {d for d in days if d.year == year}


@pytest.mark.parametrize("year", sorted(TABLE))
def test_federal_legal_holidays_match_the_table(year: int) -> None:
    """The federal days of each table year, observed days included, match exactly."""
    federal = _in_year(ED.closed_days(forward=False, state_holidays=False), year)
    assert federal == _days(year, TABLE[year][0])


@pytest.mark.parametrize("year", sorted(TABLE))
def test_extra_california_days_for_federal_forward_periods_match_the_table(year: int) -> None:
    """California days added to E.D. Cal. forward periods (6(a)(6)(C)) match exactly."""
    forward = _in_year(ED.closed_days(forward=True), year)
    federal = _days(year, TABLE[year][0])
    assert forward - federal == _days(year, TABLE[year][1])


@pytest.mark.parametrize("year", sorted(TABLE))
def test_california_judicial_holidays_match_the_table(year: int) -> None:
    """The CCP 135 / CRC 1.11 judicial holidays of each table year match exactly."""
    assert _in_year(SUPERIOR.closed_days(forward=True), year) == _days(year, TABLE[year][2])
    assert SUPERIOR.closed_days(forward=False) == SUPERIOR.closed_days(forward=True)


def test_federal_days_match_the_holidays_package_1990_to_2100() -> None:
    """Federal weekday holidays equal python-holidays' US calendar for every covered year.

    The package is a cross-check only. It lists the actual date of a holiday on a weekend as
    well as the observed weekday; only weekdays matter for deadlines, so weekends are dropped.
    """
    ours = ED.closed_days(forward=False, state_holidays=False)
    package = holidays_package.country_holidays("US", years=range(1989, 2102))
    theirs = {d for d in package if d.weekday() < 5
              and dt.date(1990, 1, 1) <= d <= dt.date(2100, 12, 31)}
    assert ours == theirs


def test_new_years_day_on_a_saturday_is_observed_in_the_prior_year() -> None:
    """New Year's Day 2022 (Saturday) is observed Fri 2021-12-31, listed in 2021."""
    names = {h.day: h.name for h in ED.holidays(2021)}
    assert names[dt.date(2021, 12, 31)] == "New Year's Day (observed)"


def test_lincoln_day_on_a_sunday_moves_to_monday_in_federal_court() -> None:
    """Gov. Code 6701: Lincoln Day 2017 (Sunday) is Mon 2017-02-13 for forward periods."""
    holiday = ED.holiday_on(dt.date(2017, 2, 13), forward=True)
    assert holiday is not None and holiday.forward_only
    assert ED.holiday_on(dt.date(2017, 2, 13), forward=False) is None


def test_crc_1_11_friday_is_settled_in_state_court_and_unsettled_in_federal() -> None:
    """Fri 2022-02-11 closes the superior court but is only U3 in E.D. Cal."""
    assert dt.date(2022, 2, 11) in SUPERIOR.closed_days(forward=True)
    assert dt.date(2022, 2, 11) not in ED.closed_days(forward=True)
    holiday = ED.holiday_on(dt.date(2022, 2, 11), forward=True, include_unsettled=True)
    assert holiday is not None and holiday.unsettled == "U3"


def test_good_friday_is_unsettled_and_never_a_judicial_holiday() -> None:
    """Good Friday (Gov. Code 6700, noon to 3 p.m.) is U5 in federal court only."""
    good_friday = dt.date(2024, 3, 29)
    holiday = ED.holiday_on(good_friday, forward=True, include_unsettled=True)
    assert holiday is not None and holiday.unsettled == "U5"
    assert SUPERIOR.holiday_on(good_friday, forward=True, include_unsettled=True) is None


def test_state_holidays_can_be_switched_off() -> None:
    """state_holidays=False leaves only federal days (Sup. Ct. R. 30.1, --no-state-holidays)."""
    assert dt.date(2024, 11, 29) not in ED.closed_days(forward=True, state_holidays=False)


@pytest.mark.parametrize("year", [1989, 2101])
def test_years_outside_coverage_are_refused(year: int) -> None:
    """A year outside 1990-2100 is refused with the range in the message."""
    with pytest.raises(OutOfCoverageError, match=r"1990-01-01\.\.2100-12-31"):
        ED.holidays(year)


def test_every_shipped_court_loads() -> None:
    """The six shipped courts load, each with its system and zone."""
    systems = {court: load_court(court).system for court in list_courts()}
    assert systems == {"ed-cal": "frcp", "nd-cal": "frcp", "cd-cal": "frcp", "sd-cal": "frcp",
                       "ca9": "frap", "ca-superior": "ca-ccp"}
    assert load_court("ed-cal").clerk_closes == dt.time(16, 0)


def test_an_unknown_court_suggests_the_closest() -> None:
    """A misspelt court id gets a did-you-mean and the list of known ids."""
    with pytest.raises(UnknownCourtError, match="did you mean 'ed-cal'"):
        load_court("ed-cali")


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_operator_closures_extend_a_court_without_a_release(tmp_path: Path) -> None:
    """An inaccessible day for ed-cal and a closed day for ca-superior come from a folder."""
    _write(tmp_path, "closures.yaml", "court: ed-cal\nclosures:\n"
           "  - {date: 2024-05-17, kind: inaccessible, reason: CM/ECF outage}\n")
    _write(tmp_path, "superior.yaml", "court: ca-superior\nclosures:\n"
           "  - {date: 2024-05-17, kind: closed, reason: county emergency closure}\n")
    ed = load_court("ed-cal", extra_dir=tmp_path)
    closure = ed.inaccessible(dt.date(2024, 5, 17))
    assert closure is not None and "CM/ECF" in closure.reason
    superior = load_court("ca-superior", extra_dir=tmp_path)
    assert dt.date(2024, 5, 17) in superior.closed_days(forward=True)


def test_an_inaccessible_last_day_extends_a_deadline(tmp_path: Path) -> None:
    """FRCP 6(a)(3)(A): the time runs to the first accessible day, explained."""
    from tipstaff.engine.timecalc import compute

    _write(tmp_path, "closures.yaml", "court: ed-cal\nclosures:\n"
           "  - {date: 2024-05-17, kind: inaccessible, reason: CM/ECF outage}\n")
    ed = load_court("ed-cal", extra_dir=tmp_path)
    deadline = compute(court=ed, trigger=dt.date(2024, 5, 3), amount=14)
    assert deadline.due_date == dt.date(2024, 5, 20)
    assert any(step.rule == "FRCP 6(a)(3)(A)" for step in deadline.steps)


BAD_FILES = [
    ("unknown key", "court: ed-cal\nclosures: []\ncolour: red\n", 3, "colour"),
    ("duplicate key", "court: ed-cal\nclosures: []\ncourt: nd-cal\n", 3, "court"),
    ("bad date", "court: ed-cal\nclosures:\n  - date: 2024-02-30\n    kind: closed\n"
                 "    reason: storm\n", 3, "date"),
    ("bad kind", "court: ed-cal\nclosures:\n  - date: 2024-02-02\n    kind: shut\n"
                 "    reason: storm\n", 4, "kind"),
    ("missing field", "court: ed-cal\nclosures:\n  - date: 2024-02-02\n    kind: closed\n",
     3, None),
]


@pytest.mark.parametrize("label,content,line,field", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_operator_files_name_file_line_and_field(tmp_path: Path, label: str, content: str,
                                                     line: int, field: str | None) -> None:
    """Each malformed file is refused with its name, the line and the field."""
    path = _write(tmp_path, "bad.yaml", content)
    with pytest.raises(DataError) as caught:
        load_court("ed-cal", extra_dir=tmp_path)
    message = str(caught.value)
    assert f"{path}:{line}:" in message, message
    if field:
        assert f" {field}:" in message, message
