"""Import + evaluate throughput on SQLite and PostgreSQL, status latency, cold start.

In the same run, two ceilings: raw durable_rules ``post()`` of the same events (the engine
alone), and a bare SQLAlchemy Core batch insert of the same rows (the database alone). Then
Tipstaff's own path: ``store.service.record_events`` (events + hash chain + evaluation +
findings + deadline versions + audit, one transaction per batch of cases). Status latency
(p50/p99) for one case with 1,000 events; cold start: a fresh process to the first correct
status of one case in a store holding every case. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_store.py [--cases 10000] [--events-per-case 10]
        [--postgres postgresql://postgres@127.0.0.1:5432/test] [--batch 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from importlib import resources
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).parent))
from bench_evaluate import _case_lines, _raw_rates

from tipstaff.engine.events import Event, parse_events_jsonl
from tipstaff.engine.order import load_bundled_order
from tipstaff.store import db, repo, service

NOW = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
AT = dt.datetime(2016, 1, 1, 12, tzinfo=dt.UTC)


def _cases(n: int, per: int) -> list[tuple[str, list[Event]]]:
    return [(f"case-{i}", parse_events_jsonl("\n".join(_case_lines(i, per)), source="bench"))
            for i in range(n)]


def _open_cases(engine: object, case_ids: list[str]) -> None:
    order = load_bundled_order("west-v-dizon")
    content = resources.files("tipstaff.rules").joinpath("orders",
                                                         "west-v-dizon.yaml").read_text()
    with Session(engine) as session, session.begin():  # type: ignore[call-overload]
        repo.add_order(session, order=order, content=content, at=NOW)
        for case_id in case_ids:
            repo.open_case(session, case_id=case_id, order=order, zone="America/Los_Angeles",
                           at=NOW)


def _core_ceiling(url: str, cases: list[tuple[str, list[Event]]]) -> float:
    engine = db.make_engine(url)
    table = Table(f"bench_{uuid.uuid4().hex[:8]}", MetaData(),
                  Column("seq", Integer, primary_key=True), Column("case_id", String(200)),
                  Column("event_id", String(200)), Column("type", String),
                  Column("data", Text))
    table.create(engine)
    rows = [{"case_id": c, "event_id": e.id, "type": e.type, "data": json.dumps(dict(e.data))}
            for c, events in cases for e in events]
    began = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(table.insert(), rows)
    rate = len(rows) / (time.perf_counter() - began)
    table.drop(engine)
    engine.dispose()
    return rate


def _tipstaff_import(url: str, cases: list[tuple[str, list[Event]]], batch: int) -> float:
    engine = db.make_engine(url)
    db.init(engine)
    _open_cases(engine, [c for c, _ in cases])
    total = sum(len(e) for _, e in cases)
    began = time.perf_counter()
    for start in range(0, len(cases), batch):
        chunk = [e for _, events in cases[start:start + batch] for e in events]
        service.record_events(engine, chunk, at=NOW, actor="bench")
    rate = total / (time.perf_counter() - began)
    engine.dispose()
    return rate


def _status_latency(url: str) -> tuple[float, float]:
    engine = db.make_engine(url)
    lines = [json.dumps({"case": "big-case", "type": "document_viewed",
                         "occurred_at": "2014-01-02T10:00:00-08:00", "id": f"v{n}",
                         "data": {"by": "west"}}) for n in range(990)]
    lines += _case_lines(0, 10)
    events = [Event(case="big-case", type=e.type, occurred_at=e.occurred_at, id=e.id,
                    data=e.data) for e in parse_events_jsonl("\n".join(lines), source="b")]
    _open_cases(engine, ["big-case"])
    service.record_events(engine, events, at=NOW, actor="bench")
    timings = []
    for _ in range(200):
        began = time.perf_counter()
        with Session(engine) as session:
            case = repo.get_case(session, case_id="big-case")
            service.evaluate_case(session, case, AT)
        timings.append((time.perf_counter() - began) * 1000)
    engine.dispose()
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


def _cold_start(url: str) -> float:
    env = dict(os.environ) | {"TIPSTAFF_DATABASE_URL": url}
    tipstaff = str(Path(sys.executable).parent / "tipstaff")
    began = time.perf_counter()
    result = subprocess.run([tipstaff, "status", "case-0", "--at", "2016-01-01", "--json"],
                            env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    if result.returncode not in (0, 1) or '"case": "case-0"' not in result.stdout:
        raise SystemExit(f"cold start failed: {result.stderr}")
    return elapsed


def _postgres_database(admin_url: str) -> tuple[str, str]:
    name = f"tipstaff_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--batch", type=int, default=500, help="cases per transaction")
    parser.add_argument("--postgres", default=None, help="admin URL of a PostgreSQL server")
    args = parser.parse_args()
    cases = _cases(args.cases, args.events_per_case)
    total = sum(len(e) for _, e in cases)
    print(f"{args.cases:,} cases, {total:,} events (West v. Dizon), {args.batch} cases per "
          "transaction")
    raw, same = _raw_rates(cases, load_bundled_order("west-v-dizon"), total)
    print(f"{'raw durable_rules post(), 2-rule ruleset':48} {raw:12,.0f} events/s")
    print(f"{'raw durable_rules post(), the order ruleset':48} {same:12,.0f} events/s")
    targets: list[tuple[str, str]] = []
    folder = Path(tempfile.mkdtemp(prefix="tipstaff-bench-"))
    targets.append(("SQLite", f"sqlite:///{folder / 'bench.sqlite3'}"))
    if args.postgres:
        url, _ = _postgres_database(args.postgres)
        targets.append(("PostgreSQL", url))
    for label, url in targets:
        ceiling = _core_ceiling(url, cases)
        ours = _tipstaff_import(url, cases, args.batch)
        p50, p99 = _status_latency(url)
        cold = _cold_start(url)
        print(f"{label}: SQLAlchemy Core batch insert (ceiling) {ceiling:12,.0f} rows/s")
        print(f"{label}: tipstaff import + evaluate           {ours:12,.0f} events/s "
              f"({ours / ceiling:.2f} of Core, {ours / same:.2f} of raw post on the ruleset)")
        print(f"{label}: status, one case of 1,000 events: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        print(f"{label}: cold start to first status ({args.cases:,} cases stored): "
              f"{cold:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
