"""The durable_rules adapter absorbs the library's measured sharp edges."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tipstaff.engine.errors import TipstaffError
from tipstaff.engine.rete import RuleMatcher

RULES: dict[str, dict[str, Any]] = {
    "copy": {"all": [{"m": {"type": "copy_made"}}]},
    "copy-by-plaintiff": {"all": [{"m": {"$and": [{"type": "copy_made"}, {"by": "plaintiff"}]}}]},
    "returned": {"all": [{"m": {"type": "documents_returned"}}]},
}


def test_every_matching_rule_sees_every_fact() -> None:
    """Facts are not consumed by the first rule: both copy rules fire for one event."""
    matcher = RuleMatcher()
    matcher.register("t1", RULES)
    matches = matcher.match("t1", "case-1", [
        {"id": "e1", "type": "copy_made", "by": "plaintiff"},
        {"id": "e2", "type": "unrelated"},
        {"id": "e3", "type": "documents_returned"},
    ])
    assert sorted((m.rule, m.fact_id) for m in matches) == [
        ("copy", "e1"), ("copy-by-plaintiff", "e1"), ("returned", "e3")]


def test_sessions_do_not_outlive_a_call() -> None:
    """2,000 distinct case ids (past the 1,024 live-session limit) evaluate without error."""
    matcher = RuleMatcher()
    matcher.register("t2", RULES)
    for n in range(2000):
        assert len(matcher.match("t2", f"case-{n}", [{"id": "e", "type": "copy_made"}])) == 1


def test_a_ruleset_name_cannot_be_redefined() -> None:
    """Ruleset names are versioned by callers; redefinition is refused clearly."""
    matcher = RuleMatcher()
    matcher.register("t3", RULES)
    with pytest.raises(TipstaffError, match="already defined"):
        matcher.register("t3", RULES)


def test_a_rule_that_does_not_pin_the_type_is_refused() -> None:
    """A negation-only rule (which makes durable_rules spin) is refused at registration."""
    matcher = RuleMatcher()
    with pytest.raises(TipstaffError, match="type"):
        matcher.register("t4", {"bad": {"all": [{"m": {"$nex": {"x": 1}}}]}})


def test_duplicate_or_missing_fact_ids_are_refused() -> None:
    """Every fact needs its own id, or durable_rules may drop it silently."""
    matcher = RuleMatcher()
    matcher.register("t5", RULES)
    with pytest.raises(TipstaffError, match="twice"):
        matcher.match("t5", "c", [{"id": "e", "type": "copy_made"},
                                  {"id": "e", "type": "copy_made"}])
    with pytest.raises(TipstaffError, match="id"):
        matcher.match("t5", "c", [{"type": "copy_made"}])


def test_use_from_another_thread_is_refused() -> None:
    """The matcher is single-threaded; another thread gets an error, not a corrupt session."""
    matcher = RuleMatcher()
    matcher.register("t6", RULES)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            matcher.match("t6", "c", [{"id": "e", "type": "copy_made"}])
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "single-threaded" in str(errors[0])


def test_many_facts_no_rule_matches_are_harmless() -> None:
    """Thousands of facts of an untested type in one session (which crashed durable_rules
    when asserted) are skipped, and matching still works after them."""
    matcher = RuleMatcher()
    matcher.register("t7", RULES)
    facts = [{"id": f"v{n}", "type": "document_viewed"} for n in range(5000)]
    facts.append({"id": "c", "type": "copy_made", "by": "plaintiff"})
    matches = matcher.match("t7", "c", facts)
    assert sorted(m.rule for m in matches) == ["copy", "copy-by-plaintiff"]


def test_an_exception_inside_an_action_is_raised_not_swallowed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """durable_rules stores an action's exception in the session state; the adapter raises it."""
    import tipstaff.engine.rete as rete

    def broken(**_: object) -> None:
        raise ValueError("the action broke")

    matcher = RuleMatcher()
    matcher.register("t8", RULES)
    monkeypatch.setattr(rete, "Match", broken)
    with pytest.raises(rete.RuleActionError, match="the action broke"):
        matcher.match("t8", "c", [{"id": "e", "type": "copy_made"}])
    monkeypatch.undo()
    assert len(matcher.match("t8", "c", [{"id": "e", "type": "copy_made"}])) == 1
