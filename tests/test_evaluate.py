"""The evaluator: explanations, many cases, and the limits of durable_rules absorbed."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

from tipstaff.engine.evaluate import Evaluator, compile_order, flatten
from tipstaff.engine.events import Event, parse_events_jsonl
from tipstaff.engine.order import load_bundled_order

WEST = load_bundled_order("west-v-dizon")
MODEL = load_bundled_order("model-stipulated-protective-order")
AT = dt.datetime(2015, 8, 10, 12, tzinfo=dt.timezone(dt.timedelta(hours=-7)))


def _timeline() -> list[Event]:
    text = resources.files("tipstaff.rules").joinpath("orders",
                                                      "west-v-dizon.events.jsonl").read_text()
    return parse_events_jsonl(text, source="west-v-dizon.events.jsonl")


def test_the_sample_timeline_is_compliant_in_august_2015() -> None:
    """The bundled timeline ends with every term kept and D-27 back on time."""
    report = Evaluator().evaluate(WEST, _timeline(), at=AT)
    assert report.compliant, report.to_dict()
    assert report.finding("return-documents").due_date == dt.date(2015, 8, 6)
    assert report.finding("notice-of-production").due_date == dt.date(2013, 11, 18)


def test_a_deadline_explains_itself_with_the_order_text_and_every_step() -> None:
    """return-documents carries the verbatim text, the events relied on and the date steps."""
    finding = Evaluator().evaluate(WEST, _timeline(), at=AT).finding("return-documents")
    payload = finding.to_dict()
    assert "whichever occurs later" in payload["citation"]["text"]
    assert finding.deadline is not None
    rules = [step.rule for step in finding.deadline.steps]
    assert "FRCP 6(a)(1)(A)" in rules
    anchor_text = " ".join(step.text for step in flatten(finding.anchor_steps))
    assert "Fri 2015-07-17" in anchor_text  # the mandate the date rests on
    assert payload["events"] == ["wd-011-return", "wd-012-return-d27"]


def test_the_same_order_serves_many_cases_beyond_the_session_limit() -> None:
    """2,000 cases under one order (past durable_rules' 1,024 live sessions) all evaluate."""
    evaluator = Evaluator()
    copy = {"case": "x", "type": "copy_made", "occurred_at": "2014-01-02", "data": {"by": "west"}}
    serve = {"case": "x", "type": "documents_served", "occurred_at": "2013-11-08",
             "data": {"pages": ["D-1..D-41"]}}
    violated = 0
    for n in range(2000):
        lines = [json.dumps({**serve, "case": f"case-{n}", "id": "s"})]
        if n % 2:
            lines.append(json.dumps({**copy, "case": f"case-{n}", "id": "c"}))
        events = parse_events_jsonl("\n".join(lines), source="gen")
        report = evaluator.evaluate(WEST, events, at=AT, case_id=f"case-{n}")
        violated += report.finding("no-copies").status == "violated"
    assert violated == 1000


def test_compiled_rules_pin_every_event_type() -> None:
    """Every compiled rule tests the event type (durable_rules spins on negation-only rules)."""
    for order in (WEST, MODEL):
        compiled = compile_order(order)
        assert set(compiled.rules) == set(compiled.routes)
        for name, rule in compiled.rules.items():
            pattern = rule["all"][0]["m"]
            tests = pattern.get("$and", [pattern])
            assert any("type" in t for t in tests), name


def test_a_vacated_judgment_puts_the_return_back_to_not_triggered() -> None:
    """Withdrawn anchors recompute: a vacated judgment leaves nothing to return yet."""
    lines = [
        {"case": "west-v-dizon", "type": "documents_served", "occurred_at": "2013-11-08",
         "id": "s", "data": {"pages": ["D-1..D-41"]}},
        {"case": "west-v-dizon", "type": "judgment_entered", "occurred_at": "2014-03-03",
         "id": "j"},
        {"case": "west-v-dizon", "type": "judgment_vacated", "occurred_at": "2014-03-10",
         "id": "v"},
    ]
    events = parse_events_jsonl("\n".join(json.dumps(x) for x in lines), source="gen")
    report = Evaluator().evaluate(WEST, events, at=AT)
    assert report.finding("return-documents").status == "not_triggered"
