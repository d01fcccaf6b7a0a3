"""The daemon under load, as a real `tipstaff daemon` process against a real SMTP sink.

1. Burst: N reminders (default 1,000) due in the same second, delivered to an aiosmtpd sink
   on loopback: all delivered?, latency p50/p99 from the due instant to the sink's receipt,
   deliveries per second. Baseline in the same run: the same N messages sent by plain
   smtplib over one connection (the channel's ceiling).
2. Catch-up: R reminders (default 10,000) that came due during a 3-hour outage: time from
   process start until every one is delivered (and marked late).
3. Memory: peak RSS of a daemon holding C cases with open deadlines (default 100,000) and
   P pending reminders (default 1,000,000), once it has caught up.

Stores are seeded with SQLAlchemy Core bulk inserts (cases, parties with addresses, one open
deadline per case, and its outbox rows) on SQLite. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_daemon.py [--burst 1000] [--catch-up 10000]
        [--cases 100000] [--pending 1000000] [--skip-memory]
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import hashlib
import json
import os
import smtplib
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from importlib import resources
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlmodel import Session

from tipstaff.engine.order import load_bundled_order
from tipstaff.store import db, repo
from tipstaff.store.models import CaseRow, DeadlineRow, OutboxRow, PartyRow

UTC = dt.UTC
TIPSTAFF = Path(sys.executable).parent / "tipstaff"
ORDER = load_bundled_order("west-v-dizon")
DUE = dt.date(2013, 11, 14)


class Sink:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.received: list[tuple[float, str]] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                message = email.message_from_bytes(envelope.content,
                                                   policy=email.policy.default)
                sink.received.append((time.time(), str(message["Message-ID"]).strip()))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def seed(url: str, *, cases: int, reminders_per_case: int, fire: dt.datetime,
         spread: dt.timedelta = dt.timedelta(0)) -> None:
    """``cases`` West v. Dizon cases, each with an open opposition deadline and
    ``reminders_per_case`` pending reminders firing from ``fire`` over ``spread``."""
    engine = db.make_engine(url)
    db.init(engine)
    content = resources.files("tipstaff.rules").joinpath("orders",
                                                         "west-v-dizon.yaml").read_text()
    now = dt.datetime.now(UTC).replace(tzinfo=None)
    with Session(engine) as session, session.begin():
        repo.add_order(session, order=ORDER, content=content, at=dt.datetime.now(UTC))
    total = cases * reminders_per_case
    with engine.begin() as connection:
        for start in range(0, cases, 10_000):
            ids = [f"case-{i:06d}" for i in range(start, min(start + 10_000, cases))]
            connection.execute(CaseRow.__table__.insert(), [  # type: ignore[attr-defined]
                {"id": c, "order_sha256": ORDER.sha256, "court": "ed-cal",
                 "zone": "America/Los_Angeles", "caption": ORDER.caption, "opened_utc": now}
                for c in ids])
            connection.execute(PartyRow.__table__.insert(), [  # type: ignore[attr-defined]
                {"case_id": c, "party_id": p.id, "name": p.name, "roles": ",".join(p.roles),
                 "contact": None, "active": True, "email": f"{p.id}@example.test",
                 "webhook": None} for c in ids for p in ORDER.parties.values()])
            connection.execute(DeadlineRow.__table__.insert(), [  # type: ignore[attr-defined]
                {"case_id": c, "term_id": "opposition-deadline", "version": 1,
                 "due_date": DUE, "due_utc": dt.datetime(2013, 11, 15, 7, 59, 59),
                 "zone": "America/Los_Angeles", "status": "pending", "explanation": "{}",
                 "supersedes": None, "recorded_utc": now} for c in ids])
        rows: list[dict[str, Any]] = []
        n = 0
        for i in range(cases):
            for r in range(reminders_per_case):
                offset = spread * (n / max(total - 1, 1))
                at = (fire + offset).astimezone(UTC).replace(tzinfo=None)
                key = hashlib.sha256(f"bench|{i}|{r}".encode()).hexdigest()
                rows.append({"key": key, "case_id": f"case-{i:06d}",
                             "term_id": "opposition-deadline", "deadline_version": 1,
                             "kind": "reminder", "label": f"bench {r}",
                             "recipient": "defense-counsel", "fire_utc": at, "due_date": DUE,
                             "due_utc": dt.datetime(2013, 11, 15, 7, 59, 59),
                             "zone": "America/Los_Angeles", "detail": "{}",
                             "state": "pending", "next_attempt_utc": at, "attempts": 0,
                             "channel": None, "escalated": False, "claimed_by": None,
                             "claimed_until_utc": None, "sent_utc": None, "late": False,
                             "last_error": None, "created_utc": now})
                n += 1
                if len(rows) == 50_000:
                    connection.execute(OutboxRow.__table__.insert(), rows)  # type: ignore[attr-defined]
                    rows = []
        if rows:
            connection.execute(OutboxRow.__table__.insert(), rows)  # type: ignore[attr-defined]
    engine.dispose()


def start_daemon(home: Path, sink: Sink, *args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPSTAFF_")}
    env.update(TIPSTAFF_HOME=str(home), TIPSTAFF_SMTP_URL=f"smtp://127.0.0.1:{sink.port}",
               TIPSTAFF_LOG_LEVEL="WARNING")
    return subprocess.Popen([str(TIPSTAFF), "daemon", "--sweep-seconds", "5", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sent_count(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(
            "SELECT count(*) FROM outbox WHERE state = 'sent' AND label LIKE 'bench%'")
            .fetchone()[0])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def smtplib_baseline(n: int) -> float:
    sink = Sink()
    began = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port) as client:
        for i in range(n):
            message = EmailMessage()
            message["From"], message["To"] = "a@example.test", "b@example.test"
            message["Subject"], message["Message-ID"] = f"baseline {i}", f"<{i}@bench>"
            message.set_content("x")
            client.send_message(message)
    rate = n / (time.perf_counter() - began)
    sink.stop()
    return rate


def burst(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        due = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(seconds=20)
        seed(f"sqlite:///{home / 'tipstaff.sqlite3'}", cases=n, reminders_per_case=1,
             fire=due)
        sink = Sink()
        process = start_daemon(home, sink)
        try:
            while len(sink.received) < n and time.time() < due.timestamp() + 120:
                time.sleep(0.05)
        finally:
            process.terminate()
            process.wait(15)
            sink.stop()
        latencies = sorted(t - due.timestamp() for t, _ in sink.received)
        span = latencies[-1] - latencies[0] if latencies else float("nan")
        return {"reminders": n, "delivered": len(sink.received),
                "unique_message_ids": len({m for _, m in sink.received}),
                "p50_s": round(statistics.median(latencies), 3),
                "p99_s": round(latencies[int(0.99 * (len(latencies) - 1))], 3),
                "deliveries_per_s": round(len(latencies) / span, 1) if span else None,
                "smtplib_baseline_per_s": round(smtplib_baseline(n), 1)}


def catch_up(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        now = dt.datetime.now(UTC)
        per_case = 10
        seed(f"sqlite:///{home / 'tipstaff.sqlite3'}", cases=max(n // per_case, 1),
             reminders_per_case=per_case, fire=now - dt.timedelta(hours=3),
             spread=dt.timedelta(hours=3) - dt.timedelta(minutes=1))
        sink = Sink()
        began = time.perf_counter()
        process = start_daemon(home, sink)
        try:
            while sent_count(home / "tipstaff.sqlite3") < n and time.perf_counter() - began < 900:
                time.sleep(0.2)
            elapsed = time.perf_counter() - began
            rss = peak_rss_mib(process.pid)
        finally:
            process.terminate()
            process.wait(15)
            sink.stop()
        with sqlite3.connect(home / "tipstaff.sqlite3") as connection:
            late = connection.execute("SELECT count(*) FROM outbox WHERE state = 'sent' AND "
                                      "late AND label LIKE 'bench%'").fetchone()[0]
        return {"reminders": n, "delivered": len(sink.received), "marked_late": int(late),
                "seconds_to_all_delivered": round(elapsed, 1),
                "per_s": round(n / elapsed, 1), "peak_rss_mib": round(rss, 1)}


def memory(cases: int, pending: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        began = time.perf_counter()
        seed(f"sqlite:///{home / 'tipstaff.sqlite3'}", cases=cases,
             reminders_per_case=max(pending // cases, 1),
             fire=dt.datetime.now(UTC) + dt.timedelta(days=30),
             spread=dt.timedelta(days=300))
        seeded = time.perf_counter() - began
        sink = Sink()
        started = time.perf_counter()
        process = start_daemon(home, sink)
        try:
            # Caught up: every case re-evaluated once (each gets a deadline version 2).
            while time.perf_counter() - started < 3600:
                time.sleep(2)
                with sqlite3.connect(home / "tipstaff.sqlite3") as connection:
                    done = connection.execute(
                        "SELECT count(DISTINCT case_id) FROM deadlines WHERE version > 1"
                    ).fetchone()[0]
                if done >= cases:
                    break
            rebuilt = time.perf_counter() - started
            time.sleep(5)
            rss = peak_rss_mib(process.pid)
        finally:
            process.terminate()
            process.wait(30)
            sink.stop()
        return {"cases": cases, "pending_reminders": pending, "seed_s": round(seeded, 1),
                "rebuild_s": round(rebuilt, 1), "peak_rss_mib": round(rss, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--catch-up", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    print(json.dumps({"burst": burst(args.burst)}))
    print(json.dumps({"catch_up": catch_up(args.catch_up)}))
    if not args.skip_memory:
        print(json.dumps({"memory": memory(args.cases, args.pending)}))


if __name__ == "__main__":
    main()
