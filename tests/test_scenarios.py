"""Scenario files beside each order (``rules/orders/*.scenarios.yaml``), run as tests.

Each scenario is named as a sentence a lawyer would sign; the runner builds its events,
evaluates the order at the scenario's instant and compares every expectation it states.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any

import pytest

from tipstaff.engine.datafile import load_yaml
from tipstaff.engine.evaluate import Evaluator
from tipstaff.engine.events import Event, event_from_json
from tipstaff.engine.order import load_bundled_order

FOLDER = resources.files("tipstaff.rules").joinpath("orders")
FILES = sorted(item.name for item in FOLDER.iterdir() if item.name.endswith(".scenarios.yaml"))
EVALUATOR = Evaluator()


def _scenarios() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    found = []
    for name in FILES:
        document = load_yaml(FOLDER.joinpath(name).read_text(), source=name)
        for scenario in document["scenarios"]:
            found.append((name, document, scenario))
    return found


SCENARIOS = _scenarios()


def _events(document: dict[str, Any], scenario: dict[str, Any]) -> list[Event]:
    raw = list(document.get("timelines", {}).get(scenario.get("timeline"), []))
    raw += scenario.get("events", [])
    raw += scenario.get("add", [])
    dropped = set(scenario.get("drop", []))
    case = document["order"]
    return [event_from_json({"case": case, **item}, source=scenario["name"])
            for item in raw if item["id"] not in dropped]


def test_every_shipped_order_has_scenarios() -> None:
    """Both shipped orders carry a scenario file."""
    assert FILES == ["model-stipulated-protective-order.scenarios.yaml",
                     "west-v-dizon.scenarios.yaml"]
    assert len(SCENARIOS) >= 30


@pytest.mark.parametrize("file,document,scenario", SCENARIOS,
                         ids=[s["name"] for _, _, s in SCENARIOS])
def test_scenario(file: str, document: dict[str, Any], scenario: dict[str, Any]) -> None:
    """The findings match what the scenario's sentence says."""
    order = load_bundled_order(document["order"])
    at = dt.datetime.fromisoformat(scenario["at"])
    report = EVALUATOR.evaluate(order, _events(document, scenario), at=at)
    expect = scenario["expect"]
    if "compliant" in expect:
        assert report.compliant is expect["compliant"], report.to_dict()
    for term_id, wanted in expect.get("terms", {}).items():
        got = report.finding(term_id).to_dict()
        for key, value in wanted.items():
            assert got[key] == value, f"{term_id}.{key}: {got[key]!r} != {value!r}\n{got}"
    if "violations" in expect:
        got_violations = {v.term: sorted(v.events) for v in report.violations}
        assert got_violations == {k: sorted(v) for k, v in expect["violations"].items()}
