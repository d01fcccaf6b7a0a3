"""The single adapter around durable_rules (the Rete engine).

Everything Tipstaff knows about durable_rules' sharp edges (measured, see DESIGN.md) lives
here and nowhere else:

* Its ``Host`` starts background threads that dispatch actions and timers on the same
  native handle; concurrent use corrupts a session. :class:`_QuietHost` starts none, and
  :class:`RuleMatcher` refuses calls from any thread but the one that created it.
* An exception inside an action is stored in the session state, not raised. After every
  call the state is checked and a stored exception becomes :class:`RuleActionError`.
* A posted *event* is consumed by the first rule that matches it; a term-by-term evaluation
  needs every rule to see every event, so case events are asserted as *facts*.
* At most 1,024 live sessions per ruleset: each evaluation uses the case id as ``sid`` and
  deletes that session before returning, so no session outlives one call.
* A fact without an explicit unique ``id`` may be rejected as a duplicate: every fact gets
  one, and a repeated id in one call is refused before it reaches the engine.
* ``assert_facts`` (the batch call) lost most matches in a measurement here (6,006 of 39,429
  action firings for 3,000 cases), as ``post_batch`` is known to: facts go in one at a time.
* A ruleset name cannot be redefined: callers version names (e.g. by content hash).
* A rule whose only condition is a negation (``$nex``) makes ``assert_fact`` spin forever
  (measured here): every rule must test the fact's ``type`` for equality.
* Asserting facts that no rule matches crashed the process (``double free or corruption``
  in the C engine) after a few hundred of them in one session, measured here: a fact whose
  type no rule of the ruleset tests is never asserted.
* Its timers read the C wall clock: never used. Legal time is computed by ``timecalc``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from durable import engine as durable_engine

from tipstaff.engine.errors import TipstaffError


class RuleActionError(TipstaffError, RuntimeError):
    """An action inside durable_rules failed; the engine had stored, not raised, the error."""


@dataclass(frozen=True, slots=True)
class Match:
    """Rule ``rule`` matched the fact whose id is ``fact_id``."""

    rule: str
    fact_id: str


class _QuietHost(durable_engine.Host):  # type: ignore[misc]
    """A durable_rules host without its background dispatch threads."""

    def _run(self) -> None:
        """Start nothing: every action runs synchronously inside our own calls."""


class RuleMatcher:
    """Matches facts against named rules, one session per call.

    ``rules`` given to :meth:`register` map a rule name to a durable_rules condition in its
    JSON form, e.g. ``{"all": [{"m": {"$and": [{"type": "copy_made"}, {"by": "plaintiff"}]}}]}``.
    Not thread-safe by design: use one instance per engine thread.
    """

    def __init__(self) -> None:
        self._owner = threading.get_ident()
        self._matches: list[Match] = []
        self._registered: set[str] = set()
        self._types: dict[str, frozenset[str]] = {}
        self._host = _QuietHost()

    def register(self, name: str, rules: Mapping[str, Mapping[str, Any]]) -> None:
        """Define ruleset ``name``; a name can be defined once (durable_rules has no removal)."""
        self._check_thread()
        if name in self._registered:
            raise TipstaffError(f"ruleset {name} is already defined; version its name")
        for rule, condition in rules.items():
            if not _tests_type(condition):
                raise TipstaffError(f"rule {rule} must test the fact's type for equality")
        definition = {rule: {**condition, "run": self._action_for(rule)}
                      for rule, condition in rules.items()}
        self._host.register_rulesets({name: definition})
        self._registered.add(name)
        self._types[name] = frozenset(t for condition in rules.values()
                                      for t in _types_tested(condition))

    def match(self, name: str, sid: str, facts: Sequence[Mapping[str, Any]]) -> list[Match]:
        """Assert ``facts`` in a fresh session ``sid`` and return every rule match, in order.

        Each fact must carry a unique ``id``. The session is deleted before returning.
        """
        self._check_thread()
        seen: set[str] = set()
        for fact in facts:
            fact_id = fact.get("id")
            if not isinstance(fact_id, str) or not fact_id:
                raise TipstaffError("every fact needs a non-empty string id")
            if fact_id in seen:
                raise TipstaffError(f"fact id {fact_id} appears twice in one evaluation")
            seen.add(fact_id)
        self._matches = []
        wanted = self._types[name]
        try:
            for fact in facts:
                if fact.get("type") not in wanted:
                    continue  # see the module docstring: unmatched facts crash the engine
                try:
                    state = self._host.assert_fact(name, {**fact, "sid": sid})
                except durable_engine.MessageNotHandledException:
                    continue  # no rule cares about this fact
                if isinstance(state, dict) and "exception" in state:
                    raise RuleActionError(f"a rule action failed for fact {fact['id']}: "
                                          f"{state['exception']}")
            return list(self._matches)
        finally:
            self._delete_session(name, sid)
            self._matches = []

    def _delete_session(self, name: str, sid: str) -> None:
        try:
            self._host.delete_state(name, sid)
        except Exception as exc:  # durable_rules raises a bare Exception for "no such sid"
            if "error code" not in str(exc):
                raise

    def _action_for(self, rule: str) -> Any:
        def action(c: Any) -> None:  # durable_rules wants a one-argument function
            self._matches.append(Match(rule=rule, fact_id=str(c.m["id"])))

        return action

    def _check_thread(self) -> None:
        if threading.get_ident() != self._owner:
            raise TipstaffError("RuleMatcher is single-threaded: durable_rules corrupts a "
                                "session used from two threads")


def _types_tested(condition: Mapping[str, Any]) -> list[str]:
    """The event types a rule's patterns pin."""
    found = []
    for pattern in condition.get("all") or condition.get("any") or []:
        test = pattern.get("m", {}) if isinstance(pattern, Mapping) else {}
        tests = test.get("$and", [test]) if isinstance(test, Mapping) else []
        found += [t["type"] for t in tests
                  if isinstance(t, Mapping) and isinstance(t.get("type"), str)]
    return found


def _tests_type(condition: Mapping[str, Any]) -> bool:
    """Whether every pattern of a rule pins the fact ``type`` (see the module docstring)."""
    patterns = condition.get("all") or condition.get("any") or []
    for pattern in patterns:
        test = pattern.get("m", {}) if isinstance(pattern, Mapping) else {}
        tests = test.get("$and", [test]) if isinstance(test, Mapping) else []
        if not any(isinstance(t, Mapping) and isinstance(t.get("type"), str) for t in tests):
            return False
    return bool(patterns)
