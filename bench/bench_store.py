"""Import + evaluate throughput on SQLite and PostgreSQL, status latency, cold start.

In the same run, two ceilings: raw durable_rules ``post()`` of the same events (the engine
alone), and a bare SQLAlchemy Core batch insert of the same rows (the database alone). Then
Tipstaff's own path: ``store.service.record_events`` (events + hash chain + evaluation +
findings + deadline versions + audit, one transaction per batch of cases). Status latency
(p50/p99) for one case with 1,000 events; cold start: a fresh process to the first correct
status of one case in a store holding every case. Prints figures; asserts nothing.

Cold start at scale (``--cold-cases``): a separate store is seeded with that many cases of
``--cold-events-per-case`` events each -- the order, cases, parties and events with each
case's hash chain exactly as :mod:`tipstaff.store.repo` computes it, written with SQLAlchemy
Core bulk inserts in chunks (no evaluation: ``status`` evaluates from the events). Then a
fresh ``tipstaff status CASE --json --at DATE`` process is timed from start to exit, its JSON
is compared with an in-process evaluation of the same events, and its peak RSS is read from
GNU time. Before the first run the venv, the standard library and (SQLite) the database file
are evicted from the OS page cache (``posix_fadvise(DONTNEED)``), so that process reads them
from disk; a second run on another case evicts only the database, a third is all warm.
PostgreSQL's server keeps its own caches.

    .venv/bin/python bench/bench_store.py [--cases 10000] [--events-per-case 10]
        [--postgres postgresql://postgres@127.0.0.1:5432/test] [--batch 500]
        [--cold-cases 100000 --cold-events-per-case 10 [--cold-only] [--keep]]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, Text, create_engine, text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).parent))
from bench_evaluate import _case_lines, _raw_rates

from tipstaff.engine.events import Event, parse_events_jsonl
from tipstaff.engine.order import load_bundled_order
from tipstaff.store import db, repo, service
from tipstaff.store.models import CaseRow, EventRow, PartyRow
from tipstaff.when import as_of

NOW = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
AT = dt.datetime(2016, 1, 1, 12, tzinfo=dt.UTC)
ZONE = "America/Los_Angeles"
COLD_AT = "2016-01-01"


def _cases(n: int, per: int) -> list[tuple[str, list[Event]]]:
    return [(f"case-{i}", parse_events_jsonl("\n".join(_case_lines(i, per)), source="bench"))
            for i in range(n)]


def _open_cases(engine: Engine, case_ids: list[str]) -> None:
    order = load_bundled_order("west-v-dizon")
    content = resources.files("tipstaff.rules").joinpath("orders",
                                                         "west-v-dizon.yaml").read_text()
    with Session(engine) as session, session.begin():
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


def _drop_postgres_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


# -- cold start at scale ----------------------------------------------------------------------

def _timeline(n: int, per: int) -> list[Event]:
    """Case ``case-n``'s events (every 7th case has a copy made: a violation)."""
    return parse_events_jsonl("\n".join(_case_lines(n, per)), source="bench")


def _templates(per: int) -> dict[bool, list[dict[str, Any]]]:
    """A case's event rows as ``repo._event_values`` makes them, with and without the copy;
    from case to case only ``case_id`` and the hash chain differ."""
    probe = CaseRow(id="template", order_sha256="", court="", zone=ZONE, caption="",
                    opened_utc=NOW)
    return {copy: [repo._event_values(probe, event, NOW) for event in _timeline(n, per)]
            for copy, n in ((True, 0), (False, 1))}


def _chained(case_id: str, template: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One case's event rows with its hash chain, as ``repo.add_events_many`` computes it."""
    prev = repo.GENESIS
    rows = []
    for values in template:
        row = values | {"case_id": case_id, "prev_hash": prev}
        row["hash"] = prev = repo._digest(prev, repo._event_payload(row))
        rows.append(row)
    return rows


def _seed(url: str, cases: int, per: int, chunk: int) -> tuple[float, int]:
    """Seed ``cases`` cases; (seconds, events written)."""
    began = time.perf_counter()
    engine = db.make_engine(url)
    db.init(engine)
    order = load_bundled_order("west-v-dizon")
    content = resources.files("tipstaff.rules").joinpath("orders",
                                                         "west-v-dizon.yaml").read_text()
    with Session(engine) as session, session.begin():
        repo.add_order(session, order=order, content=content, at=NOW)
    templates = _templates(per)
    opened = NOW.replace(tzinfo=None)
    cases_table = CaseRow.__table__  # type: ignore[attr-defined]
    parties_table = PartyRow.__table__  # type: ignore[attr-defined]
    events_table = EventRow.__table__  # type: ignore[attr-defined]
    written = 0
    for start in range(0, cases, chunk):
        numbers = range(start, min(start + chunk, cases))
        events = [row for n in numbers for row in _chained(f"case-{n}", templates[n % 7 == 0])]
        with engine.begin() as connection:  # one transaction per chunk
            connection.execute(cases_table.insert(), [
                {"id": f"case-{n}", "order_sha256": order.sha256, "court": order.court,
                 "zone": ZONE, "caption": order.caption, "opened_utc": opened}
                for n in numbers])
            connection.execute(parties_table.insert(), [
                {"case_id": f"case-{n}", "party_id": p.id, "name": p.name,
                 "roles": ",".join(p.roles), "contact": p.contact, "active": True,
                 "email": None, "webhook": None}
                for n in numbers for p in order.parties.values()])
            connection.execute(events_table.insert(), events)
        written += len(events)
    with Session(engine) as session, session.begin():
        repo.add_audit(session, at=NOW, actor="bench", action="bench.seed",
                       subject=f"{cases} cases", detail={"events": written})
    engine.dispose()
    if url.startswith("sqlite"):
        # Fold the write-ahead log into the database, as a long-running store would have.
        with sqlite3.connect(url.split("///", 1)[1]) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - began, written


def _check_chains(url: str, case_ids: list[str]) -> None:
    """Recompute the stored chains of a few cases with the repo's own functions."""
    engine = db.make_engine(url)
    table = EventRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        for case_id in case_ids:
            prev = repo.GENESIS
            rows = connection.execute(table.select().where(table.c.case_id == case_id)
                                      .order_by(table.c.seq)).all()
            assert rows, case_id
            for row in rows:
                values = dict(row._mapping)
                if (values["prev_hash"] != prev
                        or values["hash"] != repo._digest(prev, repo._event_payload(values))):
                    raise SystemExit(f"seeded chain broken: {case_id} {values['event_id']}")
                prev = values["hash"]
    engine.dispose()


def _evict(*paths: Path) -> int:
    """Drop files (every file under a directory) from the OS page cache, so the next reader
    goes to disk; the number of files."""
    count = 0
    for path in paths:
        files = path.rglob("*") if path.is_dir() else [path]
        for file in files:
            if not file.is_file() or file.is_symlink():
                continue
            try:
                fd = os.open(file, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                count += 1
            finally:
                os.close(fd)
    return count


def _sqlite_files(url: str) -> list[Path]:
    path = Path(url.split("///", 1)[1])
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _timed_status(url: str, case_id: str) -> tuple[float, float | None, dict[str, Any]]:
    """A fresh ``tipstaff status`` process: (seconds from start to exit, its peak RSS in MiB,
    its JSON).

    The RSS comes from GNU time (``/usr/bin/time -f %M``), whose small process forks the
    child: Linux carries a process's peak RSS across ``exec``, so ``wait4`` on a child forked
    straight from this (large) process would report this process's RSS instead of the child's.
    """
    env = dict(os.environ) | {"TIPSTAFF_DATABASE_URL": url}
    tipstaff = str(Path(sys.executable).parent / "tipstaff")
    gnu_time = Path("/usr/bin/time")
    with tempfile.NamedTemporaryFile("r") as peak:
        wrapper = [str(gnu_time), "-f", "%M", "-o", peak.name] if gnu_time.exists() else []
        began = time.perf_counter()
        result = subprocess.run([*wrapper, tipstaff, "status", case_id, "--json", "--at",
                                 COLD_AT], env=env, capture_output=True, check=False)
        elapsed = time.perf_counter() - began
        if result.returncode not in (0, 1):
            raise SystemExit(f"status failed ({result.returncode}): {result.stderr.decode()}")
        rss = int(peak.read().split()[-1]) / 1024 if wrapper else None  # after any exit note
    return elapsed, rss, json.loads(result.stdout)


def _cold_at_scale(label: str, url: str, args: argparse.Namespace) -> None:
    cases, per = args.cold_cases, args.cold_events_per_case
    seconds, written = _seed(url, cases, per, args.cold_chunk)
    print(f"{label}: seeded {cases:,} cases, {written:,} events (hash-chained, Core bulk "
          f"inserts, {args.cold_chunk:,} cases per transaction) in {seconds:.1f} s "
          f"({written / seconds:,.0f} events/s)")
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        print(f"{label}: database file {path.stat().st_size / 2**20:,.0f} MiB")
    last = cases - 1
    _check_chains(url, [f"case-{n}" for n in sorted({0, 1, cases // 2, last})])
    order = load_bundled_order("west-v-dizon")
    at = as_of(COLD_AT, zone=ZONE, now=NOW)
    code = [Path(sys.prefix), Path(sys.base_prefix) / "lib"]  # the venv, the stdlib
    began = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "tipstaff"), "--help"],
                   capture_output=True, check=True)
    print(f"{label}: for scale, `tipstaff --help` (interpreter and CLI imports, no "
          f"database): {time.perf_counter() - began:.2f} s")
    sqlite = url.startswith("sqlite")
    plan = [("database, venv and stdlib evicted from the page cache" if sqlite else
             "venv and stdlib evicted from the page cache; server caches warm",
             [*(_sqlite_files(url) if sqlite else []), *code]),
            ("database evicted" if sqlite else "server caches warm",
             _sqlite_files(url) if sqlite else []),
            ("repeated, all warm", [])]
    numbers = (last, cases // 2 // 7 * 7, last)  # the middle one has a copy: a violation
    for (state, evict), n in zip(plan, numbers, strict=True):
        case_id = f"case-{n}"
        _evict(*evict)
        elapsed, rss, got = _timed_status(url, case_id)
        expected = service.evaluator().evaluate(order, _timeline(n, per), at=at,
                                                case_id=case_id).to_dict()
        if got != json.loads(json.dumps(expected)):
            raise SystemExit(f"{label}: status of {case_id} differs from the in-process "
                             "evaluation of the same events")
        print(f"{label}: fresh `tipstaff status {case_id} --json` ({state}), "
              f"{cases:,} cases / {written:,} events stored: {elapsed:.2f} s to a correct "
              f"status (compliant={got['compliant']}), peak RSS "
              + (f"{rss:,.0f} MiB" if rss is not None else "n/a (no /usr/bin/time)"))


def _cold_bench(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="tipstaff-cold-"))
    path = folder / "cold.sqlite3"
    try:
        _cold_at_scale("SQLite", f"sqlite:///{path}", args)
    finally:
        if not args.keep:
            shutil.rmtree(folder)
        else:
            print(f"kept {path}")
    if args.postgres:
        url, name = _postgres_database(args.postgres)
        try:
            _cold_at_scale("PostgreSQL", url, args)
        finally:
            if not args.keep:
                _drop_postgres_database(args.postgres, name)
            else:
                print(f"kept {url}")


def _import_bench(args: argparse.Namespace) -> None:
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
    name = None
    if args.postgres:
        url, name = _postgres_database(args.postgres)
        targets.append(("PostgreSQL", url))
    try:
        _measure(targets, cases, args, same)
    finally:
        shutil.rmtree(folder)
        if name is not None:
            _drop_postgres_database(args.postgres, name)


def _measure(targets: list[tuple[str, str]], cases: list[tuple[str, list[Event]]],
             args: argparse.Namespace, same: float) -> None:
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


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--batch", type=int, default=500, help="cases per transaction")
    parser.add_argument("--postgres", default=None, help="admin URL of a PostgreSQL server")
    parser.add_argument("--cold-cases", type=int, default=0,
                        help="also seed a separate store with this many cases and time a "
                             "fresh `tipstaff status` on it (e.g. 100000)")
    parser.add_argument("--cold-events-per-case", type=int, default=10)
    parser.add_argument("--cold-chunk", type=int, default=5_000,
                        help="cases per seeding transaction")
    parser.add_argument("--cold-only", action="store_true",
                        help="skip the import and latency measurements")
    parser.add_argument("--keep", action="store_true",
                        help="keep the seeded cold-start stores (default: removed)")
    args = parser.parse_args()
    if not args.cold_only:
        _import_bench(args)
    if args.cold_cases:
        _cold_bench(args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
