"""`tipstaff order check` and `tipstaff evaluate` through the real command."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]
EVENTS = str(resources.files("tipstaff.rules").joinpath("orders", "west-v-dizon.events.jsonl"))
ORDER = str(resources.files("tipstaff.rules").joinpath("orders", "west-v-dizon.yaml"))


def test_order_check_accepts_the_seed_order(tipstaff: Run) -> None:
    """A valid order file prints a one-line summary and exits 0."""
    result = tipstaff("order", "check", ORDER, check=True)
    assert result.stdout.startswith("ok: west-v-dizon (ed-cal, 2:12-cv-1293 DAD): 8 terms")


def test_order_check_rejects_a_bad_file_with_its_line(tipstaff: Run, tmp_path: Path) -> None:
    """A misspelt key is one line on stderr with file:line and a suggestion; exit 2."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(ORDER).read_text().replace("    bearer: west\n",
                                                   "    bearer: west\n    bearr: x\n", 1))
    result = tipstaff("order", "check", str(bad))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert f"{bad}:" in result.stderr and "did you mean 'bearer'" in result.stderr


def test_evaluate_reports_compliance_and_exits_0(tipstaff: Run) -> None:
    """The sample timeline is compliant in August 2015."""
    result = tipstaff("evaluate", "west-v-dizon", "--events", EVENTS, "--at", "2015-08-10",
                      "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["compliant"] is True
    terms = {t["id"]: t for t in payload["terms"]}
    assert terms["return-documents"]["status"] == "satisfied"
    assert terms["notice-of-production"]["due_date"] == "2013-11-18"


def test_evaluate_exits_1_when_something_is_overdue(tipstaff: Run, tmp_path: Path) -> None:
    """Without the D-27 return, the case is out of compliance on 2015-08-07: exit 1."""
    lines = [line for line in Path(EVENTS).read_text().splitlines() if "d27" not in line]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    result = tipstaff("evaluate", "west-v-dizon", "--events", str(events), "--at", "2015-08-07")
    assert result.returncode == 1
    assert "NOT COMPLIANT" in result.stdout
    # The "Pages still out" table has the row: return-documents | D-27.
    assert ["return-documents", "D-27"] in [line.split() for line in result.stdout.splitlines()]


def test_evaluate_explain_shows_text_events_and_steps(tipstaff: Run) -> None:
    """--explain prints the verbatim order text and every date step."""
    result = tipstaff("evaluate", "west-v-dizon", "--events", EVENTS, "--at", "2015-08-01",
                      "--explain", "return-documents")
    assert "whichever occurs later" in result.stdout
    assert "[FRAP 41(c)] The mandate issued: Fri 2015-07-17." in result.stdout
    assert "Due: Thu 2015-08-06" in result.stdout


BAD = [
    (["evaluate", "west-v-dizon", "--events", "/nonexistent.jsonl"], "cannot read"),
    (["evaluate", "west-v-dizon", "--events", EVENTS, "--at", "2015-13-01"], "not a real date"),
    (["evaluate", "west-v-dizon", "--events", EVENTS, "--explain", "nope"], "no term"),
    (["evaluate", "no-such-order", "--events", EVENTS], "no such file"),
    (["evaluate", "west-v-dizon", "--events", EVENTS, "--case", "other"], "belongs to case"),
    (["order", "check", "/nonexistent.yaml"], "no such file"),
]


@pytest.mark.parametrize("args,needle", BAD, ids=[" ".join(a[:3]) + a[-1] for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(tipstaff: Run, args: list[str], needle: str) -> None:
    """User mistakes exit 2 with one clear line, no traceback."""
    result = tipstaff(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_events_line_is_named(tipstaff: Run, tmp_path: Path) -> None:
    """A malformed events file names the line and field."""
    events = tmp_path / "events.jsonl"
    events.write_text(Path(EVENTS).read_text().splitlines()[0] + "\n"
                      '{"case": "west-v-dizon", "type": "copy_mad", "occurred_at": "2014-01-01"}\n')
    result = tipstaff("evaluate", "west-v-dizon", "--events", str(events), "--at", "2015-01-01")
    assert result.returncode == 2
    assert f"{events}:2: type: unknown event type 'copy_mad'" in result.stderr
