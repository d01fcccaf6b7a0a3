"""Due-date computations per second, against the floor cost of the arithmetic.

Baseline (measured in the same run): plain ``datetime`` arithmetic with a precomputed
frozenset of E.D. Cal.'s forward legal holidays -- no explanation, no checks. Tipstaff:
``timecalc.compute`` for FRCP day periods, explanation built lazily (not requested), then the
same with the explanation requested. Prints figures and ratios; asserts nothing.

    .venv/bin/python bench/bench_due.py [--n 200000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from tipstaff.engine.calendar import load_court
from tipstaff.engine.timecalc import compute


def _inputs(n: int) -> list[tuple[dt.date, int]]:
    rng = random.Random(20131104)
    start = dt.date(2010, 1, 1).toordinal()
    end = dt.date(2099, 1, 1).toordinal()
    return [(dt.date.fromordinal(rng.randrange(start, end)), rng.choice([5, 7, 10, 14, 20, 21,
                                                                        28, 30, 60, 90]))
            for _ in range(n)]


def _rate(label: str, fn: object, inputs: list[tuple[dt.date, int]]) -> float:
    assert callable(fn)
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        fn(inputs)
        best = min(best, time.perf_counter() - began)
    rate = len(inputs) / best
    print(f"{label:58} {rate:12,.0f} /s")
    return rate


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    court = load_court("ed-cal")
    holidays = court.closed_days(forward=True)
    one = dt.timedelta(days=1)
    inputs = _inputs(args.n)

    def baseline(items: list[tuple[dt.date, int]]) -> None:
        for trigger, n in items:
            due = trigger + dt.timedelta(days=n)
            while due.weekday() >= 5 or due in holidays:
                due += one

    def tipstaff(items: list[tuple[dt.date, int]]) -> None:
        for trigger, n in items:
            compute(court=court, trigger=trigger, amount=n)

    def tipstaff_mail(items: list[tuple[dt.date, int]]) -> None:
        for trigger, n in items:
            compute(court=court, trigger=trigger, amount=n, service="mail")

    explained = inputs[: max(1, args.n // 20)]

    def tipstaff_explained(items: list[tuple[dt.date, int]]) -> None:
        for trigger, n in items:
            _ = compute(court=court, trigger=trigger, amount=n).steps

    print(f"{args.n:,} FRCP day-period computations, E.D. Cal., triggers 2010-2099")
    base = _rate("baseline: datetime + frozenset of holidays", baseline, inputs)
    fast = _rate("tipstaff compute(), explanation lazy", tipstaff, inputs)
    mail = _rate("tipstaff compute(), service by mail (roll, +3, roll)", tipstaff_mail, inputs)
    full = _rate("tipstaff compute() with .steps (full explanation)", tipstaff_explained,
                 explained)
    print(f"ratio compute()/baseline: {fast / base:.2f}; mail/baseline: {mail / base:.2f}; "
          f"explained/baseline: {full / base:.3f}")


if __name__ == "__main__":
    main()
