"""Rule tests written as data next to the rules: given facts, the decision expected."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bssrules.catalog.catalog import Origin
from bssrules.catalog.types import parse_instant
from bssrules.errors import BssRulesError, did_you_mean
from bssrules.rules.book import RuleBook
from bssrules.rules.decisions import Decision, decide
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
