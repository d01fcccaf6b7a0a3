"""The status tables of ``tipstaff status`` / ``tipstaff evaluate``, on the bundled West v.
Dizon case: what each table says, row by row, read back from the plain text."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import pytest

from tipstaff.engine.evaluate import CaseReport
from tipstaff.engine.events import Event, parse_events_jsonl
from tipstaff.engine.order import Order, load_bundled_order
from tipstaff.report import MIN_WRAP, render_report, table
from tipstaff.store.service import evaluator

PACIFIC_DAYLIGHT = dt.timezone(dt.timedelta(hours=-7))
PACIFIC_STANDARD = dt.timezone(dt.timedelta(hours=-8))
CASE = "west-v-dizon"


@pytest.fixture(scope="module")
def order() -> Order:
    return load_bundled_order(CASE)


@pytest.fixture(scope="module")
def events() -> list[Event]:
    text = resources.files("tipstaff.rules").joinpath("orders",
                                                      f"{CASE}.events.jsonl").read_text()
    return parse_events_jsonl(text, source="west-v-dizon.events.jsonl")


def _evaluate(order: Order, events: list[Event], at: dt.datetime) -> CaseReport:
    return evaluator().evaluate(order, events, at=at, case_id=CASE)


def _extra(*records: dict[str, object]) -> list[Event]:
    return parse_events_jsonl("\n".join(json.dumps({"case": CASE} | r) for r in records),
                              source="test")


def _section(lines: list[str], title: str) -> list[str]:
    """The lines of the section headed ``title``, up to the next blank line."""
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]


def _read_table(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of a rendered table; wrapped continuation lines are joined back."""
    rule = lines[0]
    assert set(rule) <= {"-", " "}, rule
    assert lines[2] == rule and lines[-1] == rule, "header between rules, closing rule"
    spans, column = [], 0
    for chunk in rule.split("  "):
        spans.append((column, column + len(chunk)))
        column += len(chunk) + 2

    def cells(line: str) -> list[str]:
        return [line[a:b + 2 if i < len(spans) - 1 else None].strip()
                for i, (a, b) in enumerate(spans)]

    headers = cells(lines[1])
    rows: list[list[str]] = []
    for line in lines[3:-1]:
        parts = cells(line)
        if parts[0]:
            rows.append(parts)
        else:  # a continuation line: a wrapped cell or one more line of a multi-line cell
            for i, part in enumerate(parts):
                if part:
                    rows[-1][i] = f"{rows[-1][i]} {part}".strip()
    return headers, rows


def test_the_status_on_1_august_2015_as_tables(order: Order, events: list[Event]) -> None:
    """On 2015-08-01 every term but the return is satisfied; the return is pending, due
    Thu 2015-08-06, with D-27 still out; no violations."""
    report = _evaluate(order, events, dt.datetime(2015, 8, 1, 12, tzinfo=PACIFIC_DAYLIGHT))
    lines = render_report(report, order, width=100)
    assert lines[0] == ("Mack A. West Jr. v. Noah Dizon — 2:12-cv-1293 DAD (ed-cal)")
    assert lines[1] == "case west-v-dizon, as of 2015-08-01T12:00:00-07:00: COMPLIANT"
    assert lines[2] == ""

    headers, rows = _read_table(_section(lines, "Terms"))
    assert headers == ["Term", "Kind", "Status", "Due", "Reason"]
    assert rows == [
        ["produce-inquiry-report", "obligation", "satisfied", "—",
         "performed on Fri 2013-11-08"],
        ["produce-critique", "obligation", "satisfied", "—", "performed on Fri 2013-11-08"],
        ["produce-dvd", "obligation", "satisfied", "—", "performed on Tue 2013-11-12"],
        ["notice-of-production", "filing_deadline", "satisfied", "Mon 2013-11-18",
         "performed on Fri 2013-11-15"],
        ["no-sharing", "prohibition", "satisfied", "—",
         "no violation recorded as of Sat 2015-08-01"],
        ["no-copies", "prohibition", "satisfied", "—",
         "no violation recorded as of Sat 2015-08-01"],
        ["return-documents", "obligation", "pending", "Thu 2015-08-06", "due Thu 2015-08-06"],
        ["opposition-deadline", "filing_deadline", "satisfied", "Thu 2013-11-14",
         "performed on Thu 2013-11-14"],
    ]
    assert [row[0] for row in rows] == [t.id for t in order.terms]

    assert _section(lines, "Violations") == ["No violations."]

    headers, rows = _read_table(_section(lines, "Pages still out"))
    assert headers == ["Term", "Pages"]
    assert rows == [["return-documents", "D-27"]]


def test_no_pages_table_once_everything_is_back(order: Order, events: list[Event]) -> None:
    """After D-27 came back (2015-08-04) nothing is out: no "Pages still out" table."""
    report = _evaluate(order, events, dt.datetime(2015, 8, 10, 12, tzinfo=PACIFIC_DAYLIGHT))
    lines = render_report(report, order, width=100)
    assert lines[1].endswith(": COMPLIANT")
    assert "Pages still out" not in lines
    _, rows = _read_table(_section(lines, "Terms"))
    assert ["return-documents", "obligation", "satisfied", "Thu 2015-08-06",
            "performed on Tue 2015-08-04"] in rows
    assert lines[-1] == "No violations."


def test_overdue_return_wraps_its_reason_and_lists_the_page(order: Order,
                                                           events: list[Event]) -> None:
    """Without the D-27 return the case is out of compliance on 2015-08-07: the return is
    overdue, its longer reason wraps in the Reason column, and D-27 is listed as still out."""
    kept = [e for e in events if e.id != "wd-012-return-d27"]
    report = _evaluate(order, kept, dt.datetime(2015, 8, 7, 12, tzinfo=PACIFIC_DAYLIGHT))
    lines = render_report(report, order, width=100)
    assert lines[1] == "case west-v-dizon, as of 2015-08-07T12:00:00-07:00: NOT COMPLIANT"
    terms = _section(lines, "Terms")
    _, rows = _read_table(terms)
    assert ["return-documents", "obligation", "overdue", "Thu 2015-08-06",
            "due Thu 2015-08-06 and not performed; still out: D-27"] in rows
    # The reason took two lines; the continuation sits under the Reason column only.
    row = next(i for i, line in enumerate(terms) if line.startswith("return-documents "))
    reason_at = terms[1].index("Reason")
    assert terms[row + 1][:reason_at].strip() == "" and terms[row + 1][reason_at:]
    # An overdue term is not a violation; the pages table still names the page.
    assert _section(lines, "Violations") == ["No violations."]
    assert _read_table(_section(lines, "Pages still out"))[1] == [["return-documents", "D-27"]]


def test_violations_table_names_the_proving_events(order: Order, events: list[Event]) -> None:
    """A copy made and a page shared with a newspaper: two violations, each with its reason
    and the event ids that prove it."""
    more = _extra(
        {"type": "copy_made", "occurred_at": "2013-12-01T10:00:00-08:00", "id": "x-copy",
         "data": {"pages": ["D-5"], "by": "west"}},
        {"type": "document_shared", "occurred_at": "2014-01-10T09:00:00-08:00", "id": "x-press",
         "data": {"pages": ["D-21"], "by": "west", "recipient": "a newspaper",
                  "within_litigation": False}},
        {"type": "document_shared", "occurred_at": "2014-01-12T09:00:00-08:00",
         "id": "x-press-again", "data": {"pages": ["D-22"], "by": "west",
                                         "recipient": "a newspaper",
                                         "within_litigation": False}})
    report = _evaluate(order, events + more,
                       dt.datetime(2014, 1, 20, 12, tzinfo=PACIFIC_STANDARD))
    lines = render_report(report, order, width=100)
    assert lines[1].endswith(": NOT COMPLIANT")
    _, terms = _read_table(_section(lines, "Terms"))
    statuses = {row[0]: row[2] for row in terms}
    assert statuses["no-sharing"] == "violated" and statuses["no-copies"] == "violated"

    headers, rows = _read_table(_section(lines, "Violations"))
    assert headers == ["Term", "Reason", "Events"]
    expected = {v.term: v for v in report.violations}
    assert sorted(row[0] for row in rows) == ["no-copies", "no-sharing"]
    for term, reason, proof in rows:
        assert reason == expected[term].reason  # wrapped in the table, whole when read back
        assert proof.split() == list(expected[term].events)
    sharing = next(row for row in rows if row[0] == "no-sharing")
    assert sharing[2].split() == ["x-press", "x-press-again"]
    assert sharing[1].startswith("document shared on Fri 2014-01-10")
    # One event id per line in the Events column.
    block = _section(lines, "Violations")
    at = block[1].index("Events")
    assert [line[at:].strip() for line in block[3:-1] if line[at:].strip()] == \
        [e for row in rows for e in row[2].split()]


def test_late_and_provisional_markers(order: Order, events: list[Event]) -> None:
    """A notice of production filed late reads "satisfied (late)" and is a violation; a return
    date that an appeal may still move reads "pending (provisional)"."""
    late = [e for e in events if e.id != "wd-004-notice"] + _extra(
        {"type": "filing_made", "occurred_at": "2013-11-20T11:00:00-08:00", "id": "x-late",
         "data": {"kind": "notice_of_production"}})
    report = _evaluate(order, late, dt.datetime(2014, 3, 10, 12, tzinfo=PACIFIC_DAYLIGHT))
    lines = render_report(report, order, width=100)
    _, rows = _read_table(_section(lines, "Terms"))
    by_id = {row[0]: row for row in rows}
    assert by_id["notice-of-production"][2:] == [
        "satisfied (late)", "Mon 2013-11-18",
        "performed on Wed 2013-11-20, after the deadline of Mon 2013-11-18"]
    assert by_id["return-documents"][2:4] == ["pending (provisional)", "Mon 2014-03-24"]
    assert by_id["return-documents"][4] == report.finding("return-documents").reason()
    _, violations = _read_table(_section(lines, "Violations"))
    assert violations == [["notice-of-production",
                           "performed on Wed 2013-11-20, after the deadline of Mon 2013-11-18",
                           "x-late"]]


def test_width_and_plain_text(order: Order, events: list[Event]) -> None:
    """Lines keep to the width unless the Reason column would fall below its minimum; a wide
    width puts every reason on one line; no trailing blanks, no tabs, no box drawing."""
    report = _evaluate(order, events, dt.datetime(2014, 3, 10, 12, tzinfo=PACIFIC_DAYLIGHT))
    narrow = render_report(report, order, width=100)
    terms = _section(narrow, "Terms")
    prefix = terms[1].index("Reason")
    assert all(len(line) <= max(100, prefix + MIN_WRAP) for line in narrow[2:])
    assert len(terms) > 3 + len(order.terms) + 1  # some reason wrapped
    wide = render_report(report, order, width=200)
    assert len(_section(wide, "Terms")) == 3 + len(order.terms) + 1  # one line per term
    assert _read_table(_section(wide, "Terms")) == _read_table(terms)
    for line in narrow + wide:
        assert line == line.rstrip() and "\t" not in line
        assert all(ord(c) < 128 or c == "—" for c in line), line


def test_default_width_follows_columns(order: Order, events: list[Event],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit width the terminal's (here $COLUMNS) is used."""
    report = _evaluate(order, events, dt.datetime(2014, 3, 10, 12, tzinfo=PACIFIC_DAYLIGHT))
    monkeypatch.setenv("COLUMNS", "200")
    assert render_report(report, order) == render_report(report, order, width=200)
    monkeypatch.setenv("COLUMNS", "100")
    assert render_report(report, order) == render_report(report, order, width=100)


def test_table_multi_line_cells_and_empty_rows() -> None:
    """A cell given as several lines prints one per line; the others pad to match."""
    assert table(["A", "Bee"], [["x", ["1", "2"]], ["long-one", ""]]) == [
        "--------  ---",
        "A         Bee",
        "--------  ---",
        "x         1",
        "          2",
        "long-one",
        "--------  ---",
    ]
