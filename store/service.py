"""Store operations that combine the repository with the engine: recording events together
with the findings they cause (one transaction), and evaluating a stored case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from tipstaff.engine.evaluate import CaseReport, Evaluator
from tipstaff.engine.events import Event
from tipstaff.store import repo
from tipstaff.store.models import CaseRow

_EVALUATOR: Evaluator | None = None


def evaluator() -> Evaluator:
    """The process's one evaluator (durable_rules is single-threaded; so is this)."""
    global _EVALUATOR
    if _EVALUATOR is None:
        _EVALUATOR = Evaluator()
    return _EVALUATOR


@dataclass(frozen=True, slots=True)
class Recorded:
    added: int
    skipped: int
    cases: int


def evaluate_case(session: Session, case: CaseRow, at: dt.datetime) -> tuple[CaseReport, int]:
    """The case's findings at ``at`` from its stored events; and the last event seq."""
    order = repo.order_of(session, case=case)
    events, through = repo.list_events(session, case_id=case.id)
    return evaluator().evaluate(order, events, at=at, case_id=case.id), through


def record_events(engine: Engine, events: Sequence[Event], *, at: dt.datetime, actor: str
                  ) -> Recorded:
    """Append events (idempotently) and the findings they cause, all in one transaction.

    ``at`` is the recording instant, read once by the caller; findings are evaluated as of it.
    Any error rolls back everything: nothing is half-written.
    """
    by_case: dict[str, list[Event]] = {}
    for item in events:
        by_case.setdefault(item.case, []).append(item)
    added_total = skipped_total = 0
    recorded: dict[str, list[str]] = {}
    with Session(engine, expire_on_commit=False) as session, session.begin():
        cases = repo.get_cases(session, case_ids=list(by_case))
        outcome = repo.add_events_many(session, cases=cases, events=by_case, at=at)
        for case_id, (added, skipped) in outcome.items():
            added_total += len(added)
            skipped_total += len(skipped)
            if added:
                recorded[case_id] = [e.id for e in added]
        stored = repo.list_events_many(session, case_ids=list(recorded))
        items = []
        for case_id in recorded:
            case = cases[case_id]
            case_events, through = stored[case_id]
            order = repo.order_of(session, case=case)
            report = evaluator().evaluate(order, case_events, at=at, case_id=case_id)
            items.append((case, report, through))
        repo.add_findings_many(session, items=items, at=at)
        if recorded:
            # One audit record per transaction, naming every case and event it wrote.
            subject = next(iter(recorded)) if len(recorded) == 1 else f"{len(recorded)} cases"
            repo.add_audit(session, at=at, actor=actor, action="event.add", subject=subject,
                           detail={"events": recorded})
    return Recorded(added=added_total, skipped=skipped_total, cases=len(by_case))
