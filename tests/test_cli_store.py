"""Acceptance: the real `tipstaff` command against a real database, in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

Run = Callable[..., subprocess.CompletedProcess[str]]
EVENTS = str(resources.files("tipstaff.rules").joinpath("orders", "west-v-dizon.events.jsonl"))
TIPSTAFF = str(Path(sys.executable).parent / "tipstaff")


@pytest.fixture
def db_env(tmp_path: Path) -> dict[str, str]:
    """A fresh SQLite store for one test, initialised with the West order loaded."""
    return {"TIPSTAFF_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}"}


def _setup(tipstaff: Run, env: dict[str, str]) -> None:
    tipstaff("init", env=env, check=True)
    tipstaff("order", "load", "west-v-dizon", env=env, check=True)


def _count_events(url: str) -> int:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        return int(connection.execute("SELECT count(*) FROM events").fetchone()[0])


def test_the_whole_timeline_imports_and_reports(tipstaff: Run, db_env: dict[str, str]) -> None:
    """Import, status (JSON contract, exit 0) and explain work on the stored case."""
    _setup(tipstaff, db_env)
    result = tipstaff("event", "import", EVENTS, env=db_env, check=True)
    assert result.stdout.startswith("recorded 12 event(s), 0 already present")
    status = tipstaff("status", "west-v-dizon", "--at", "2015-08-10", "--json", env=db_env)
    assert status.returncode == 0, status.stderr
    payload = json.loads(status.stdout)
    assert set(payload) >= {"case", "as_of", "compliant", "terms", "violations"}
    assert payload["compliant"] is True
    assert all(set(t) >= {"id", "kind", "status", "due_date", "outstanding"}
               for t in payload["terms"])
    explain = tipstaff("explain", "west-v-dizon", "return-documents", "--at", "2015-08-01",
                       env=db_env, check=True)
    assert "whichever occurs later" in explain.stdout and "Due: Thu 2015-08-06" in explain.stdout


def test_reimporting_changes_nothing(tipstaff: Run, db_env: dict[str, str]) -> None:
    """The same file twice records each event once."""
    _setup(tipstaff, db_env)
    tipstaff("event", "import", EVENTS, env=db_env, check=True)
    again = tipstaff("event", "import", EVENTS, env=db_env, check=True)
    assert again.stdout.startswith("recorded 0 event(s), 12 already present")
    assert _count_events(db_env["TIPSTAFF_DATABASE_URL"]) == 12


def test_status_exits_1_when_out_of_compliance(tipstaff: Run, db_env: dict[str, str],
                                               tmp_path: Path) -> None:
    """With D-27 never returned the case is overdue after 2015-08-06: exit 1 and the page."""
    _setup(tipstaff, db_env)
    partial = tmp_path / "partial.jsonl"
    partial.write_text("\n".join(line for line in Path(EVENTS).read_text().splitlines()
                                 if "d27" not in line) + "\n")
    tipstaff("event", "import", str(partial), env=db_env, check=True)
    status = tipstaff("status", "west-v-dizon", "--at", "2015-08-07", env=db_env)
    assert status.returncode == 1
    assert ["return-documents", "D-27"] in [line.split() for line in status.stdout.splitlines()]


def test_a_malformed_file_is_rejected_whole(tipstaff: Run, db_env: dict[str, str],
                                            tmp_path: Path) -> None:
    """A bad third line: exit 2, the line and field named, and nothing recorded."""
    _setup(tipstaff, db_env)
    lines = Path(EVENTS).read_text().splitlines()
    lines[2] = lines[2].replace('"occurred_at": "2013-11-14T16:45:00-08:00"',
                                '"occurred_at": "2013-11-31"')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    result = tipstaff("event", "import", str(bad), env=db_env)
    assert result.returncode == 2
    assert f"{bad}:3: occurred_at:" in result.stderr
    assert _count_events(db_env["TIPSTAFF_DATABASE_URL"]) == 0


def test_an_unknown_case_is_refused_and_nothing_written(tipstaff: Run, db_env: dict[str, str],
                                                         tmp_path: Path) -> None:
    """Events for a case nobody opened roll back the whole file."""
    _setup(tipstaff, db_env)
    text_ = Path(EVENTS).read_text()
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(text_ + text_.splitlines()[0].replace('"west-v-dizon"', '"west-v-dizn"')
                     .replace("wd-001", "zz-001") + "\n")
    result = tipstaff("event", "import", str(mixed), env=db_env)
    assert result.returncode == 2 and "did you mean 'west-v-dizon'" in result.stderr
    assert _count_events(db_env["TIPSTAFF_DATABASE_URL"]) == 0


def test_a_tampered_event_is_found_by_audit_verify(tipstaff: Run, db_env: dict[str, str]
                                                   ) -> None:
    """Editing an event row directly makes `audit verify` exit 1 naming that event."""
    _setup(tipstaff, db_env)
    tipstaff("event", "import", EVENTS, env=db_env, check=True)
    assert tipstaff("audit", "verify", env=db_env).returncode == 0
    path = db_env["TIPSTAFF_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE events SET data = '{\"by\": \"west\"}' "
                           "WHERE event_id = 'wd-005-viewed'")
    result = tipstaff("audit", "verify", env=db_env)
    assert result.returncode == 1 and "wd-005-viewed" in result.stdout


def test_kill_9_during_an_import_leaves_all_or_nothing(db_env: dict[str, str],
                                                       tmp_path: Path, tipstaff: Run) -> None:
    """SIGKILL in the middle of a large import leaves either none or all of it, chains intact,
    and the same import then succeeds."""
    _setup(tipstaff, db_env)
    big = tmp_path / "big.jsonl"
    with big.open("w") as out:
        for n in range(20_000):
            out.write(json.dumps({"case": "west-v-dizon", "type": "document_viewed",
                                  "occurred_at": "2014-01-02T10:00:00-08:00",
                                  "id": f"view-{n}", "data": {"by": "west"}}) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPSTAFF_")} | db_env
    process = subprocess.Popen([TIPSTAFF, "event", "import", str(big)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    killed = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    count = _count_events(db_env["TIPSTAFF_DATABASE_URL"])
    assert count in (0, 20_000)
    if killed:
        assert count == 0, "the import was killed before committing"
    assert tipstaff("audit", "verify", env=db_env).returncode == 0
    tipstaff("event", "import", str(big), env=db_env, check=True)
    assert _count_events(db_env["TIPSTAFF_DATABASE_URL"]) == 20_000


def test_a_newer_schema_is_refused_by_the_command(tipstaff: Run, db_env: dict[str, str]
                                                  ) -> None:
    """Starting against a database from a newer Tipstaff refuses with one clear line."""
    _setup(tipstaff, db_env)
    path = db_env["TIPSTAFF_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    result = tipstaff("status", "west-v-dizon", env=db_env)
    assert result.returncode == 2 and "newer than this Tipstaff" in result.stderr


def test_status_before_init_says_what_to_do(tipstaff: Run, db_env: dict[str, str]) -> None:
    """An uninitialised database gets a one-line hint, not a traceback."""
    result = tipstaff("status", "west-v-dizon", env=db_env)
    assert result.returncode == 2 and "tipstaff init" in result.stderr
    assert "Traceback" not in result.stderr


def test_event_add_records_one_event(tipstaff: Run, db_env: dict[str, str]) -> None:
    """`event add` with --data pairs records a copy and the violation shows in status."""
    _setup(tipstaff, db_env)
    tipstaff("event", "add", "west-v-dizon", "--type", "documents_served", "--at",
             "2013-11-08", "--data", 'pages=["D-1..D-41"]', env=db_env, check=True)
    tipstaff("event", "add", "west-v-dizon", "--type", "copy_made", "--at",
             "2013-12-01T10:00-08:00", "--data", "by=west", "--id", "copy-1", env=db_env,
             check=True)
    status = tipstaff("status", "west-v-dizon", "--at", "2013-12-02", "--json", env=db_env)
    payload = json.loads(status.stdout)
    assert status.returncode == 1
    assert {"term": "no-copies", "events": ["copy-1"]}.items() <= payload["violations"][0].items()


def test_postgres_through_the_command(tipstaff: Run) -> None:
    """The same commands run on PostgreSQL by URL."""
    admin_url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    name = f"tipstaff_cli_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except Exception:
        if os.environ.get("TIPSTAFF_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required here but not reachable")
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    env = {"TIPSTAFF_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}"}
    try:
        _setup(tipstaff, env)
        tipstaff("event", "import", EVENTS, env=env, check=True)
        status = tipstaff("status", "west-v-dizon", "--at", "2015-08-10", "--json", env=env)
        assert status.returncode == 0 and json.loads(status.stdout)["compliant"] is True
        assert tipstaff("audit", "verify", env=env).returncode == 0
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
