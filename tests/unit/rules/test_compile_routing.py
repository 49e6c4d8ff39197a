"""Engine rules per routed alternative (issue 13, item 1): an ``in`` of one attribute or a
``containsAny`` of one list becomes one engine rule per value, each beginning with its plain
tests; the other alternatives stay inside the rule as durable-rules' ``$or``; a rule never
begins with an ``$or``. The engine's answers on such rules are held to the evaluator by the
property tests (tests/property/test_rules_properties.py, test_exact_decisions.py)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from bssrules.rules.compile import compile_condition
from bssrules.rules.conditions import All, Any_, Condition, Not
from bssrules.rules.conditions import Test as Check  # not "Test…": pytest would try to collect it
from bssrules.rules.engine import RuleEngine
from bssrules.rules.evaluate import holds


def _first_keys(rule: dict[str, Any]) -> list[str]:
    tests = rule.get("$and", [rule])
    return [next(iter(test)) for test in tests]


ELIGIBILITY = All((Check("now", "gte", dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)),
                   Any_((Check("offering.id", "in", ("a", "b", "c")),)),
                   Not(All((Check("party.classification", "in", ("VIP", "GOLD")), Check("channel.id", "ne", "web"))))))


def test_an_in_becomes_one_rule_per_value_and_the_other_alternatives_stay_inside() -> None:
    rules = compile_condition(ELIGIBILITY)
    assert len(rules) == 3  # one per offering, not one per offering and alternative of the `not`
    assert sorted(next(t["offering__id"] for t in r["$and"] if "offering__id" in t) for r in rules) == ["a", "b", "c"]
    for rule in rules:
        keys = _first_keys(rule)
        assert keys[-1] == "$or" and "$or" not in keys[:-1], rule  # the plain tests first


def test_a_condition_of_alternatives_only_never_makes_a_rule_begin_with_an_or() -> None:
    rules = compile_condition(Not(Check("party.classification", "in", ("VIP", "GOLD"))))
    assert len(rules) == 2
    assert all(_first_keys(rule)[0] != "$or" for rule in rules), rules


def test_rules_with_their_alternatives_inside_decide_as_the_evaluator() -> None:
    conditions: list[Condition] = [ELIGIBILITY, Not(Check("party.classification", "in", ("VIP", "GOLD")))]
    engine = RuleEngine([(f"r{i}", c) for i, c in enumerate(conditions)])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for offering in ("a", "d"):
        for classification in ("VIP", "SILVER", None):
            for channel in ("web", "shop"):
                values: dict[str, Any] = {"now": now, "offering.id": offering, "channel.id": channel}
                if classification:
                    values["party.classification"] = classification
                expected = {f"r{i}" for i, c in enumerate(conditions) if holds(c, values)}
                assert engine.matching(values) == expected, values
