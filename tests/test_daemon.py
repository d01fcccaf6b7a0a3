"""The daemon, through the real `tipstaff daemon` process: a real SMTP server on loopback
(aiosmtpd), a real HTTP server for webhooks, real kill -9, SQLite files and PostgreSQL.

West v. Dizon is played on a simulated clock; the expected reminders are worked out from
the order and rules/reminders.yaml (see tests/test_reminders.py for the instants)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiosmtpd.controller import Controller
from pgtools import drop_database, require_database

TIPSTAFF = Path(sys.executable).parent / "tipstaff"
EVENTS = str(resources.files("tipstaff.rules").joinpath("orders", "west-v-dizon.events.jsonl"))
ADDRESSES = {"west": "west@example.test", "defense-counsel": "counsel@example.test",
             "litigation-coordinator": "coordinator@example.test"}
# Every reminder the whole West v. Dizon timeline sends (term, kind, label, recipient).
TIMELINE_SENT = sorted([
    ("opposition-deadline", "reminder", "7 days before", "defense-counsel"),
    ("opposition-deadline", "reminder", "3 days before", "defense-counsel"),
    ("opposition-deadline", "reminder", "1 day before", "defense-counsel"),
    ("opposition-deadline", "due_today", "on the day", "defense-counsel"),
    ("notice-of-production", "reminder", "1 day before", "defense-counsel"),
    *[("return-documents", kind, label, who)
      for kind, label in [("notice", "deadline known"), ("reminder", "7 days before"),
                          ("notice", "deadline known"), ("reminder", "7 days before"),
                          ("reminder", "3 days before")]
      for who in ("litigation-coordinator", "west")],
])
# Text that must never leave the system: event notes and redaction descriptions.
PROTECTED = ["not found in plaintiff's property", "Attached as an exhibit",
             "Hypothetical judgment date"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpSink:
    """A real SMTP server on loopback that keeps every message it accepts."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.messages: list[email.message.EmailMessage] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.messages.append(email.message_from_bytes(
                    envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


class Home:
    """A Tipstaff home (SQLite by default) with West v. Dizon loaded and addresses set."""

    def __init__(self, path: Path, smtp_url: str, database: str | None = None) -> None:
        self.path = path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TIPSTAFF_")}
        self.env.update(TIPSTAFF_HOME=str(path), TIPSTAFF_SMTP_URL=smtp_url)
        if database:
            self.env["TIPSTAFF_DATABASE_URL"] = database
        self.run("init")
        self.run("order", "load", "west-v-dizon")
        for party, address in ADDRESSES.items():
            self.run("party", "set", "west-v-dizon", party, "--email", address)

    def run(self, *args: str, env: dict[str, str] | None = None, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(TIPSTAFF), *args], capture_output=True, text=True,
                                env={**self.env, **(env or {})}, timeout=timeout,
                                check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"{args}: exit {result.returncode}\n{result.stdout}\n"
                                 f"{result.stderr}")
        return result

    def daemon(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen([str(TIPSTAFF), "daemon", *args], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**self.env, **(env or {})})

    def alerts(self) -> list[dict[str, Any]]:
        out = self.run("alerts", "list", "--json", "--limit", "100000").stdout
        return [json.loads(line) for line in out.splitlines()]

    def audit(self) -> list[tuple[str, str, str]]:
        with sqlite3.connect(self.path / "tipstaff.sqlite3") as db:
            return list(db.execute("SELECT action, actor, detail FROM audit ORDER BY seq"))

    def outbox_states(self) -> list[str]:
        with sqlite3.connect(self.path / "tipstaff.sqlite3") as db:
            return [row[0] for row in db.execute("SELECT state FROM outbox")]


def _sent(home: Home) -> list[tuple[str, str, str, str]]:
    return sorted((a["term"], a["kind"], a["label"], a["recipient"])
                  for a in home.alerts() if a["state"] == "sent" and a["channel"] == "email")


def _wait(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


SIM = ["--speed", "10000000", "--sweep-seconds", "1"]


def test_the_whole_timeline_sends_each_reminder_once_by_email(tmp_path: Path,
                                                                smtp: SmtpSink) -> None:
    """Two years of West v. Dizon in seconds: every expected reminder arrives once, with its
    outbox key as Message-ID, and no message carries protected text. A deadline satisfied
    before its reminder (notice of production, filed 11-15, due 11-18) sends nothing more."""
    home = Home(tmp_path / "home", smtp.url)
    result = home.run("daemon", "--simulate-from", "2013-11-04T08:00:00-08:00", *SIM,
                      "--until", "2015-09-01", "--replay", EVENTS)
    assert _sent(home) == TIMELINE_SENT
    assert len(smtp.messages) == len(TIMELINE_SENT)
    keys = {a["id"] for a in home.alerts() if a["state"] == "sent"}
    assert {m["Message-ID"].strip() for m in smtp.messages} == {f"<{k}@tipstaff>" for k in keys}
    for message in smtp.messages:
        body = message.get_content()
        assert "west-v-dizon" in message["Subject"]
        assert message["To"] in ADDRESSES.values()
        for secret in PROTECTED:
            assert secret not in body
    notice = next(m for m in smtp.messages if "return-documents" in m["Subject"]
                  and m["To"] == ADDRESSES["litigation-coordinator"])
    assert "Pages still out: D-1" in notice.get_content()
    assert "¶ 4(3)" in notice.get_content()
    # (h) satisfied before its reminder: the on-the-day reminder was cancelled, never sent.
    production = [a for a in home.alerts() if a["term"] == "notice-of-production"
                  and a["kind"] == "due_today"]
    assert [a["state"] for a in production] == ["cancelled"]
    assert not any("notice-of-production" in m["Subject"] and "due today" in m["Subject"]
                   for m in smtp.messages)
    assert not any(a["late"] for a in home.alerts())
    assert '"msg": "stopped"' in result.stderr
    assert home.run("audit", "verify").returncode == 0


def test_a_reminder_missed_while_stopped_is_sent_once_and_marked_late(
        tmp_path: Path, smtp: SmtpSink) -> None:
    """(a) Stopped across the 7-day reminder (Thu 2013-11-07 17:00 UTC), restarted 3 hours
    later: sent exactly once, marked late."""
    home = Home(tmp_path / "home", smtp.url)
    home.run("daemon", "--simulate-from", "2013-11-04T16:00:00Z", *SIM, "--until",
             "2013-11-06T00:00:00Z")
    assert smtp.messages == []
    home.run("daemon", "--simulate-from", "2013-11-07T20:00:00Z", *SIM, "--until",
             "2013-11-07T21:00:00Z")
    assert [m["Subject"] for m in smtp.messages] == [
        "[Tipstaff] west-v-dizon: reminder — opposition-deadline due 2013-11-14"]
    sent = [a for a in home.alerts() if a["state"] == "sent"]
    assert [(a["label"], a["late"]) for a in sent] == [("7 days before", True)]
    home.run("daemon", "--simulate-from", "2013-11-07T21:00:00Z", *SIM, "--until",
             "2013-11-07T22:00:00Z")
    assert len(smtp.messages) == 1  # nothing sent twice


@pytest.mark.parametrize("point", ["pause-after-claim", "pause-after-send"])
def test_kill_9_mid_delivery_delivers_at_most_twice_with_one_message_id(
        tmp_path: Path, smtp: SmtpSink, point: str) -> None:
    """(b) kill -9 between claim and send (delivered once after restart) and between send
    and record (delivered again: at most twice, with the same Message-ID)."""
    home = Home(tmp_path / "home", smtp.url)
    first = home.daemon("--simulate-from", "2013-11-07T16:59:50Z", "--speed", "10",
                        "--sweep-seconds", "1", env={"TIPSTAFF_FAULT": point})
    try:
        if point == "pause-after-claim":
            _wait(lambda: "sending" in home.outbox_states())
            assert smtp.messages == []
        else:
            _wait(lambda: len(smtp.messages) == 1)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        first.kill()
    assert "sending" in home.outbox_states()
    home.run("daemon", "--simulate-from", "2013-11-07T17:05:00Z", *SIM, "--until",
             "2013-11-07T17:30:00Z")
    expected = 1 if point == "pause-after-claim" else 2
    assert len(smtp.messages) == expected
    assert len({m["Message-ID"].strip() for m in smtp.messages}) == 1
    sent = [a for a in home.alerts() if a["state"] == "sent"]
    assert [a["label"] for a in sent] == ["7 days before"]
    assert "sending" not in home.outbox_states()
    assert any(action == "alert.reclaimed" for action, _, _ in home.audit())


def test_smtp_down_for_an_hour_retries_then_delivers_and_escalates(tmp_path: Path) -> None:
    """(c) The SMTP server is down from before the 1-day reminder (Wed 2013-11-13 17:00 UTC)
    for about an hour of simulated time: the reminder is retried with back-off, escalated
    through the log after three failures, and delivered by e-mail once the server is back."""
    port = _free_port()
    home = Home(tmp_path / "home", f"smtp://127.0.0.1:{port}")
    runner = home.daemon("--simulate-from", "2013-11-13T16:50:00Z", "--speed", "1200",
                         "--sweep-seconds", "0.5", "--until", "2013-11-13T19:30:00Z")
    sink = SmtpSink(port)
    try:
        time.sleep(3.5)  # about an hour of simulated time with the server down
        sink.start()
        runner.wait(60)
        assert runner.returncode == 0, runner.stderr.read() if runner.stderr else ""
    finally:
        runner.kill()
        sink.stop()
    assert [m["Subject"] for m in sink.messages] == [
        "[Tipstaff] west-v-dizon: reminder — opposition-deadline due 2013-11-14"]
    rows = [a for a in home.alerts() if a["label"].startswith("1 day before")]
    original = next(a for a in rows if a["channel"] == "email")
    assert original["state"] == "sent" and original["attempts"] >= 3
    assert original["escalated"] and original["late"]
    copy = next(a for a in rows if a["channel"] == "log")
    assert copy["state"] == "sent" and "escalated" in copy["label"]
    failures = [d for action, _, d in home.audit() if action == "alert.failed"]
    assert len(failures) >= 3


def test_the_same_event_imported_twice_queues_one_reminder(tmp_path: Path,
                                                            smtp: SmtpSink) -> None:
    """(d) On the real clock: a judgment entered today, imported twice, gives the
    return-documents notice once per recipient. Also: health while running, and SIGTERM
    stops it gracefully within 10 s."""
    home = Home(tmp_path / "home", smtp.url)
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=-8))).date()
    line = json.dumps({"case": "west-v-dizon", "type": "judgment_entered",
                       "occurred_at": today.isoformat(), "id": "judgment-today"})
    events = tmp_path / "judgment.jsonl"
    events.write_text(line + "\n")
    home.run("event", "import", str(events))
    assert "0 already present" not in home.run("event", "import", str(events)).stdout
    runner = home.daemon("--sweep-seconds", "0.5")
    try:
        _wait(lambda: len(smtp.messages) >= 2)
        status = home.run("daemon", "status", "--json", check=False)
        assert status.returncode == 0, status.stdout
        assert json.loads(status.stdout)["healthy"] is True
        time.sleep(1.5)
        began = time.monotonic()
        runner.send_signal(signal.SIGTERM)
        runner.wait(10)
        assert time.monotonic() - began < 10
        assert runner.returncode == 0
    finally:
        runner.kill()
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        [ADDRESSES["litigation-coordinator"], ADDRESSES["west"]])
    assert all("deadline set" in m["Subject"] for m in smtp.messages)
    report = json.loads(home.run("daemon", "status", "--json", check=False).stdout)
    assert [d["role"] for d in report["daemons"]] == ["stopped"]


def test_a_second_daemon_on_one_sqlite_file_refuses(tmp_path: Path, smtp: SmtpSink) -> None:
    home = Home(tmp_path / "home", smtp.url)
    runner = home.daemon("--sweep-seconds", "0.5")
    try:
        _wait(lambda: (home.path / "tipstaff.sqlite3.daemon.lock").exists()
              and "leader" in home.run("daemon", "status", check=False).stdout)
        second = home.run("daemon", check=False, timeout=30)
        assert second.returncode == 2
        assert "another tipstaff daemon" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(10)


def test_database_errors_in_the_loop_lose_nothing(tmp_path: Path, smtp: SmtpSink) -> None:
    """(e) Every second claim transaction fails (injected): the daemon logs, backs off, keeps
    serving, and the whole timeline is still delivered exactly once."""
    home = Home(tmp_path / "home", smtp.url)
    result = home.run("daemon", "--simulate-from", "2013-11-04T08:00:00-08:00", *SIM,
                      "--until", "2015-09-01", "--replay", EVENTS,
                      env={"TIPSTAFF_FAULT": "db-error-every=2"})
    assert "cycle failed" in result.stderr
    assert _sent(home) == TIMELINE_SENT
    assert len(smtp.messages) == len(TIMELINE_SENT)


def test_a_removed_recipient_gets_nothing_and_it_is_audited(tmp_path: Path,
                                                            smtp: SmtpSink) -> None:
    """(i) The coordinator leaves the case after the return reminders were planned."""
    home = Home(tmp_path / "home", smtp.url)
    home.run("daemon", "--simulate-from", "2013-11-04T08:00:00-08:00", *SIM, "--until",
             "2015-07-01", "--replay", EVENTS)
    home.run("party", "remove", "west-v-dizon", "litigation-coordinator")
    before = len(smtp.messages)
    home.run("daemon", "--simulate-from", "2015-07-01", *SIM, "--until", "2015-07-31",
             "--replay", EVENTS)
    new = smtp.messages[before:]
    assert [m["To"] for m in new] == [ADDRESSES["west"]]
    suppressed = [a for a in home.alerts() if a["state"] == "suppressed"]
    assert [(a["recipient"], a["label"]) for a in suppressed] == [
        ("litigation-coordinator", "7 days before")]
    audited = [json.loads(d) for action, _, d in home.audit() if action == "alert.suppressed"]
    assert [d["recipient"] for d in audited] == ["litigation-coordinator"]


class _Hooks(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hooks.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_is_signed_and_carries_a_stable_id(tmp_path: Path, smtp: SmtpSink) -> None:
    """A party reached by webhook: JSON POST with HMAC-SHA256 over timestamp.body."""
    server = HTTPServer(("127.0.0.1", 0), _Hooks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hooks.received = []
    try:
        home = Home(tmp_path / "home", smtp.url)
        url = f"http://127.0.0.1:{server.server_port}/hook"
        home.run("party", "set", "west-v-dizon", "defense-counsel", "--email", "",
                 "--webhook", url)
        home.run("daemon", "--simulate-from", "2013-11-07T16:00:00Z", *SIM, "--until",
                 "2013-11-07T18:00:00Z", env={"TIPSTAFF_WEBHOOK_SECRET": "s3cret"})
    finally:
        server.shutdown()
    assert len(_Hooks.received) == 1
    headers, body = _Hooks.received[0]
    expected = hmac.new(b"s3cret", headers["X-Tipstaff-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Tipstaff-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["id"] == headers["X-Tipstaff-Id"]
    assert (payload["term"], payload["label"], payload["due_date"]) == (
        "opposition-deadline", "7 days before", "2013-11-14")
    assert payload["due_at"] == "2013-11-14T23:59:59-08:00"
    assert smtp.messages == []


@pytest.mark.postgres
def test_two_daemons_on_postgres_fail_over_without_loss_or_duplicate(
        tmp_path: Path, smtp: SmtpSink) -> None:
    """(f) Two daemons share PostgreSQL; the leader is killed before the 7-day reminder is
    due; the follower takes over well within 30 s and sends it exactly once."""
    url = require_database("tipstaff_daemon")
    home = Home(tmp_path / "home", smtp.url, database=url)
    args = ["--simulate-from", "2013-11-07T16:59:00Z", "--speed", "6", "--sweep-seconds",
            "0.5"]
    first = home.daemon(*args, "--name", "first")
    second = None
    try:
        _wait(lambda: '"role": "leader"' in home.run("daemon", "status", "--json",
                                                    check=False).stdout)
        second = home.daemon(*args, "--name", "second")
        _wait(lambda: '"second"' in home.run("daemon", "status", "--json",
                                             check=False).stdout)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed = time.monotonic()

        def second_leads() -> bool:
            report = json.loads(home.run("daemon", "status", "--json", check=False).stdout)
            return any(d["name"] == "second" and d["role"] == "leader"
                       for d in report["daemons"])

        _wait(second_leads, timeout=30)
        assert time.monotonic() - killed < 30
        _wait(lambda: len(smtp.messages) >= 1, timeout=60)
        time.sleep(2)
    finally:
        first.kill()
        if second is not None:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
        drop_database(url)
    assert [m["Subject"] for m in smtp.messages] == [
        "[Tipstaff] west-v-dizon: reminder — opposition-deadline due 2013-11-14"]


def test_the_daemon_serves_http_and_its_health_says_reminders_flow(tmp_path: Path,
                                                                    smtp: SmtpSink) -> None:
    """`tipstaff daemon --http` runs the web server as a supervised child; /healthz is 200
    while a leader beats and nothing due waits, and the child stops with the daemon."""
    import httpx

    home = Home(tmp_path / "home", smtp.url)
    port = _free_port()
    runner = home.daemon("--sweep-seconds", "0.5", "--http", f"127.0.0.1:{port}")

    def healthy() -> bool:
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and response.json()["healthy"] is True

    try:
        _wait(healthy, timeout=60)
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(15)
    assert runner.returncode == 0
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


@pytest.mark.parametrize(("args", "words"), [
    (["--simulate-from", "2013-11-04", "--speed", "0"], "--speed"),
    (["--simulate-from", "garbage"], "'garbage' is not a real date"),
    (["--replay", EVENTS], "--replay needs --simulate-from"),
    (["--speed", "10"], "--speed needs --simulate-from"),
    (["--http", "nonsense"], "expected HOST:PORT"),
])
def test_daemon_usage_mistakes_are_one_line(tipstaff: Any, args: list[str],
                                            words: str) -> None:
    result = tipstaff("daemon", *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert words in result.stderr and "Traceback" not in result.stderr
