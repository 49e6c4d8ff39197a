"""Rule tests written as data next to the rules: given facts, the decision expected.

What a test may expect of each kind of decision, and of what type, is :data:`EXPECTATIONS`:
``bssrules check`` holds every test to it (and its facts to the fact model) so that a test
cannot pass the check and then fail on its own spelling.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Collection, Mapping, NamedTuple

from bssrules.catalog.catalog import Origin
from bssrules.catalog.types import parse_instant
from bssrules.errors import BssRulesError, did_you_mean
from bssrules.rules.book import RuleBook
from bssrules.rules.decisions import Decision, decide, fact_values
from bssrules.rules.facts import FACT_ATTRIBUTES, FactError, typed_facts, unknown_fact_paths
from bssrules.rules.model import RuleTest


def summary(decision: Decision) -> dict[str, Any]:
    """The comparable face of a decision: what ``expect`` may state, per kind."""
    out = decision.outcome
    if decision.kind == "eligibility":
        return {"qualified": out["qualified"], "reasons": [r["code"] for r in out["reasons"]],
                "rules": [r["rule"] for r in out["reasons"]],
                "alternates": [r["alternate"] for r in out["reasons"] if "alternate" in r]}
    if decision.kind == "compatibility":
        return {"valid": out["valid"], "violations": [v["rule"] for v in out["violations"]]}
    if decision.kind == "usage":
        result = {"status": out["status"], "rule": out.get("rule"),
                  "reasons": [r["code"] for r in out.get("reasons", [])],
                  "provisioningId": out.get("provisioningId")}
        if "rate" in out:
            result["amount"] = out["rate"].get("amount")
        return result
    if decision.kind == "splitBilling":
        return {"payer": out["payer"], "rule": out["rule"]}
    if decision.kind == "settlement":
        return {"rules": [line["rule"] for line in out["lines"]]}
    if decision.kind == "routing":
        return {"assignTo": out["assignTo"], "rule": out["rule"]}
    if decision.kind == "discount":
        return {"discounts": out["discounts"]}
    return {"violated": out["violated"], "violations": [v["rule"] for v in out["violations"]],
            "severities": [v["severity"] for v in out["violations"]]}


class Expected(NamedTuple):
    """The type of one expectation: what it is, as said in messages, and the test of a value."""

    what: str
    accepts: Callable[[Any], bool]
    rules: str = ""  # "one" or "list": the value names rules of the rule set ("default" too for "one")
    options: tuple[str, ...] = ()


def _text(value: Any) -> bool:  # compared as written; a number is compared as a number
    return value is not None and not isinstance(value, (bool, list, dict))


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(_text(v) for v in value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


BOOLEAN = Expected("true or false", lambda v: isinstance(v, bool))
TEXTS = Expected("a list of codes or ids", _texts)
RULES = Expected("a list of rule ids", _texts, rules="list")
RULE = Expected("a rule id (or nothing)", lambda v: v is None or _text(v), rules="one")
TEXT = Expected("an id (or nothing)", lambda v: v is None or _text(v))

# What a rule test may expect of each kind of decision (the keys of :func:`summary`).
EXPECTATIONS: dict[str, dict[str, Expected]] = {
    "eligibility": {"qualified": BOOLEAN, "reasons": TEXTS, "rules": RULES, "alternates": TEXTS},
    "compatibility": {"valid": BOOLEAN, "violations": RULES},
    "usage": {"status": Expected("rated or rejected", lambda v: v in ("rated", "rejected"),
                                 options=("rated", "rejected")),
              "rule": RULE, "reasons": TEXTS, "provisioningId": TEXT, "amount": Expected("a number", _number)},
    "splitBilling": {"payer": TEXT, "rule": RULE},
    "settlement": {"rules": RULES},
    "routing": {"assignTo": TEXT, "rule": RULE},
    "discount": {"discounts": RULES},
    "sla": {"violated": BOOLEAN, "violations": RULES, "severities": TEXTS},
}

TestFinding = tuple[tuple[str | int, ...], str, "str | None"]  # (path inside the test, message, suggestion)


def _unknown_key(key: str, kind: str) -> tuple[str, str | None]:
    face = EXPECTATIONS[kind]
    hint = did_you_mean(key, face)
    article = "an" if kind == "eligibility" else "a"  # a usage, a compatibility …
    return (f"'{key}' cannot be expected of {article} {kind} decision"
            + ("" if hint else f"; use one of: {', '.join(face)}")), hint


def expectation_findings(kind: str, expect: Mapping[str, Any], rule_ids: Collection[str],
                         rule_set: str = "") -> list[TestFinding]:
    """What is wrong with the ``expect`` of a test of a rule set of that kind whose rules are
    ``rule_ids`` (empty: not known, not checked): keys it cannot expect, values of the wrong
    type, rules it does not have."""
    found: list[TestFinding] = []
    face = EXPECTATIONS.get(kind)
    if face is None:
        return found
    for key, value in expect.items():
        expected = face.get(key)
        if expected is None:
            message, hint = _unknown_key(key, kind)
            found.append((("expect", key), message, hint))
        elif not expected.accepts(value):
            found.append((("expect", key), f"expected {expected.what} for '{key}', got {_written(value)}",
                          did_you_mean(str(value), expected.options) if expected.options else None))
        elif expected.rules and rule_ids:
            named = [(("expect", key), value)] if expected.rules == "one" else \
                [(("expect", key, i), item) for i, item in enumerate(value)]
            for path, rule in named:
                if rule is not None and str(rule) not in rule_ids and not (expected.rules == "one" and rule == "default"):
                    found.append((path, f"rule set '{rule_set}' has no rule '{rule}'",
                                  did_you_mean(str(rule), rule_ids)))
    return found


def _written(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a mapping"
    return _shown(value)


def fact_findings(test: RuleTest) -> list[TestFinding]:
    """What would stop a test from being decided at all: facts the model does not have or of
    the wrong type, an ``asOf`` that is no date, a ``now`` that contradicts it."""
    found: list[TestFinding] = []
    for path in unknown_fact_paths(test.given):
        found.append((("given", *path.split(".")), f"unknown fact attribute '{path}'",
                      did_you_mean(path, FACT_ATTRIBUTES)))
    for attribute in FACT_ATTRIBUTES:
        try:
            typed_facts(test.given, [attribute])
        except FactError as exc:
            found.append((("given", *attribute.split(".")), f"{attribute}: {exc.message}", None))
    if found:
        return found
    try:
        as_of = decision_instant(test.given, test.as_of)
    except ValueError as exc:
        return [(("asOf",), str(exc), None)]
    try:
        fact_values(test.given, as_of)
    except BssRulesError as exc:
        return [(("given", *getattr(exc, "path", ())), str(exc), None)]
    return found


@dataclass
class TestResult:
    test: RuleTest
    origin: Origin
    passed: bool
    problems: list[str]
    decision: Decision | None


def _same(expected: object, actual: object) -> bool:
    if isinstance(expected, list) and isinstance(actual, list):
        return sorted(map(str, expected)) == sorted(map(str, actual))
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) or hasattr(expected, "as_tuple"):
        try:
            return Decimal(str(expected)) == Decimal(str(actual))
        except Exception:  # noqa: BLE001
            return False
    return expected == actual


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


def decision_instant(facts: Any, as_of: Any = None) -> dt.datetime:
    """The instant a decision is taken for: ``as_of`` if given, else the ``now`` of the
    facts, else the current time."""
    if as_of is None and isinstance(facts, dict) and facts.get("now") is not None:
        as_of = facts["now"]
    if as_of is None:
        return dt.datetime.now(dt.timezone.utc)
    instant = parse_instant(as_of)
    if not isinstance(instant, dt.datetime):
        raise ValueError(f"'{as_of}' is not a date or date-time")
    return instant


def run_test(book: RuleBook, test: RuleTest, origin: Origin) -> TestResult:
    """Run one rule test; problems say what differed."""
    try:
        as_of = decision_instant(test.given, test.as_of)
        compiled = book.in_force(test.rule_set, as_of)
        decision = decide(compiled, test.given, as_of)
    except (BssRulesError, ValueError) as exc:
        return TestResult(test, origin, False, [f"could not decide: {exc}"], None)
    face = summary(decision)
    problems = []
    for key, expected in test.expect.items():
        if key not in face:
            hint = did_you_mean(key, face)
            article = "an" if decision.kind == "eligibility" else "a"  # a usage, a compatibility …
            problems.append(f"'{key}' cannot be expected of {article} {decision.kind} decision"
                            + (f" (did you mean '{hint}'?)" if hint else f"; use one of: {', '.join(face)}"))
        elif not _same(expected, face[key]):
            problems.append(f"expected {key} {_shown(expected)}, got {_shown(face[key])}")
    return TestResult(test, origin, not problems, problems, decision)


def run_tests(book: RuleBook) -> list[TestResult]:
    """Every rule test of the book, in file order."""
    return [run_test(book, test, origin) for test, origin in book.tests]
