"""Evaluation throughput: 100,000 events across 10,000 cases, beside raw durable_rules.

Baseline (the same run): raw durable_rules ``post()`` of the same events, one message each,
into a two-rule ruleset with a plain ``host`` -- the ceiling of the Rete engine alone.
Tipstaff: ``Evaluator.evaluate`` for each case at one instant (rule matching as facts, then
findings with every date computed). Also prints peak RSS with 100,000 cases held as
events in memory (the store, not the engine, holds them in production). Asserts nothing.

    .venv/bin/python bench/bench_evaluate.py [--cases 10000] [--events-per-case 10]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import resource
import time

from durable import engine as durable_engine

from tipstaff.engine.evaluate import Evaluator, as_fact, compile_order
from tipstaff.engine.events import Event, parse_events_jsonl
from tipstaff.engine.order import Order, load_bundled_order

AT = dt.datetime(2016, 1, 1, 12, tzinfo=dt.UTC)


def _case_lines(n: int, per_case: int) -> list[str]:
    base = [
        ("documents_served", "2013-11-08T14:30:00-08:00",
         {"pages": ["D-1..D-28", "D-30..D-37", "D-39..D-41"], "to": "west"}),
        ("item_delivered", "2013-11-12T10:15:00-08:00",
         {"item": "dvd-interview-2009-06-12", "to": "litigation-coordinator",
          "with": ["copy-of-order"]}),
        ("filing_made", "2013-11-14T16:45:00-08:00", {"kind": "opposition"}),
        ("filing_made", "2013-11-15T11:00:00-08:00", {"kind": "notice_of_production"}),
        ("document_viewed", "2013-12-02T13:00:00-08:00", {"pages": ["D-1..D-17"], "by": "west"}),
        ("judgment_entered", "2014-03-03", {}),
        ("notice_of_appeal_filed", "2014-03-20", {}),
        ("appeal_decided", "2015-06-26", {}),
        ("mandate_issued", "2015-07-17", {}),
        ("documents_returned", "2015-07-30T10:00:00-07:00",
         {"pages": ["D-1..D-28", "D-30..D-37", "D-39..D-41"], "to": "defense-counsel"}),
    ]
    lines = []
    for k in range(per_case):
        kind, when, data = base[k % len(base)]
        if n % 7 == 0 and kind == "document_viewed":
            kind, data = "copy_made", {"pages": ["D-3"], "by": "west"}
        lines.append(json.dumps({"case": f"case-{n}", "type": kind, "occurred_at": when,
                                 "id": f"e{k}", "data": data}))
    return lines


class _Host(durable_engine.Host):  # type: ignore[misc]
    def _run(self) -> None:  # no background threads, as in Tipstaff's adapter
        pass


def _raw_rates(cases: list[tuple[str, list[Event]]], order: Order, total: int
               ) -> tuple[float, float]:
    """Events/s for raw ``post()``: a 2-rule ruleset, then the order's compiled ruleset."""
    def count(c: object) -> None:
        pass

    host = _Host()
    host.register_rulesets({"raw": {
        "r1": {"all": [{"m": {"type": "copy_made"}}], "run": count},
        "r2": {"all": [{"m": {"type": "documents_returned"}}], "run": count},
    }})
    began = time.perf_counter()
    for case_id, events in cases:
        for event in events:
            with contextlib.suppress(durable_engine.MessageNotHandledException):
                host.post("raw", {"id": event.id, "sid": case_id, "type": event.type})
        with contextlib.suppress(Exception):
            host.delete_state("raw", case_id)
    raw_rate = total / (time.perf_counter() - began)
    # The same events posted raw into the order's own compiled ruleset (no-op actions): the
    # engine doing this order's matching with nothing of Tipstaff around it.
    compiled = compile_order(order)
    host.register_rulesets({"same": {name: {**rule, "run": count}
                                     for name, rule in compiled.rules.items()}})
    began = time.perf_counter()
    for case_id, events in cases:
        for event in events:
            with contextlib.suppress(durable_engine.MessageNotHandledException):
                host.post("same", as_fact(event) | {"sid": case_id})
        with contextlib.suppress(Exception):
            host.delete_state("same", case_id)
    return raw_rate, total / (time.perf_counter() - began)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--skip-raw", action="store_true",
                        help="measure Tipstaff only (raw durable_rules aborted in one run at "
                             "100,000 sessions of unhandled events here)")
    args = parser.parse_args()
    order = load_bundled_order("west-v-dizon")
    cases: list[tuple[str, list[Event]]] = []
    for n in range(args.cases):
        events = parse_events_jsonl("\n".join(_case_lines(n, args.events_per_case)),
                                    source="bench")
        cases.append((f"case-{n}", events))
    total = sum(len(e) for _, e in cases)
    rss_held = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    raw_rate = same_rate = float("nan")
    if not args.skip_raw:
        raw_rate, same_rate = _raw_rates(cases, order, total)
    evaluator = Evaluator()
    began = time.perf_counter()
    violations = 0
    for case_id, events in cases:
        report = evaluator.evaluate(order, events, at=AT, case_id=case_id)
        violations += len(report.violations)
    ours = time.perf_counter() - began
    rate = total / ours
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.cases:,} cases, {total:,} events (West v. Dizon order, 8 terms)")
    print(f"{'raw post(), 2-rule ruleset (ceiling)':46} {raw_rate:12,.0f} events/s")
    print(f"{'raw post(), the order compiled ruleset':46} {same_rate:12,.0f} events/s")
    print(f"{'tipstaff evaluate (match + findings + dates)':46} {rate:12,.0f} events/s"
          f"   ({args.cases / ours:,.0f} cases/s)")
    print(f"ratio tipstaff/raw 2-rule: {rate / raw_rate:.2f}; tipstaff/raw same ruleset: "
          f"{rate / same_rate:.2f}; violations found: {violations:,}")
    print(f"peak RSS: {peak:,.0f} MiB ({rss_held:,.0f} MiB after loading the events)")


if __name__ == "__main__":
    main()
