"""The reference evaluator: decides a condition in Python and explains every test.

The rule engine (durable-rules) takes the decisions; this evaluator explains them (which
test failed, with the value seen) and is the oracle the engine is checked against in the
differential property tests. Both follow the same semantics: a test of an absent
attribute is false (only ``exists: false`` holds), and ``not`` negates.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from bssrules.rules.conditions import All, Any_, Condition, Not, Test, TimeWindow
from bssrules.rules.facts import WEEKDAYS, local_minute

UTC = ZoneInfo("UTC")
# How an empty group is explained: a rule with no condition at all holds, always.
NO_CONDITION, NO_ALTERNATIVE = "always (no condition)", "never (no alternative)"


def test_holds(test: Test, values: Mapping[str, Any], zone: ZoneInfo = UTC) -> bool:
    """Whether one test holds for typed fact values."""
    if test.attribute not in values:
        return test.op == "exists" and test.value is False
    # Fact values and operands are typed by the attribute (str, Decimal, bool, datetime, lists
    # of str): their comparisons give a bool.
    actual, op, expected = values[test.attribute], test.op, test.value
    if op == "exists":
        return expected is True
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op == "lt":
        return bool(actual < expected)
    if op == "lte":
        return bool(actual <= expected)
    if op == "gt":
        return bool(actual > expected)
    if op == "gte":
        return bool(actual >= expected)
    if op == "in":
        return actual in expected
    if op == "notIn":
        return actual not in expected
    if op == "between":
        return bool(expected[0] <= actual <= expected[1])
    if op == "timeOfDay":
        window: TimeWindow = expected
        return window.contains(local_minute(actual, zone)[0])
    if op == "dayOfWeek":
        return local_minute(actual, zone)[1] in expected
    if op == "contains":
        return expected in actual
    if op == "notContains":
        return expected not in actual
    if op == "containsAny":
        return any(v in actual for v in expected)
    if op == "containsAll":
        return all(v in actual for v in expected)
    raise ValueError(f"unknown operator {op}")


def holds(condition: Condition, values: Mapping[str, Any], zone: ZoneInfo = UTC) -> bool:
    """Whether a condition holds for typed fact values."""
    if isinstance(condition, Test):
        return test_holds(condition, values, zone)
    if isinstance(condition, All):
        return all(holds(c, values, zone) for c in condition.items)
    if isinstance(condition, Any_):
        return any(holds(c, values, zone) for c in condition.items)
    return not holds(condition.item, values, zone)


@dataclass
class Explanation:
    """Why a condition held or not: for a test, the value seen; for a group, its parts."""

    condition: str
    result: bool
    actual: Any = None
    present: bool = True
    parts: list["Explanation"] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": self.condition, "result": self.result}
        if not self.parts:
            out["actual"] = _shown(self.actual) if self.present else "(absent)"
        else:
            out["parts"] = [p.to_dict() for p in self.parts]
        return out

    def failed_tests(self) -> list["Explanation"]:
        """The tests that made the whole come out as it did, for a short message."""
        if not self.parts:
            return [self]
        deciding = [p for p in self.parts if p.result == self.result] if self.condition.startswith("any") else \
            [p for p in self.parts if p.result is False] if self.result is False else []
        return [leaf for p in deciding for leaf in p.failed_tests()]


def _shown(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (list, tuple)):
        return [_shown(v) for v in value]
    return value


def explain(condition: Condition, values: Mapping[str, Any], zone: ZoneInfo = UTC) -> Explanation:
    """The evaluation tree of a condition, with the actual value of every test."""
    if isinstance(condition, Test):
        present = condition.attribute in values
        actual: Any = values.get(condition.attribute)
        if present and condition.op in ("timeOfDay", "dayOfWeek"):
            minute, weekday = local_minute(actual, zone)
            actual = f"{minute // 60:02d}:{minute % 60:02d}" if condition.op == "timeOfDay" else WEEKDAYS[weekday - 1]
        return Explanation(str(condition), test_holds(condition, values, zone), actual, present)
    if isinstance(condition, Not):
        inner = explain(condition.item, values, zone)
        return Explanation(f"not {inner.condition}", not inner.result, parts=[inner])
    if not condition.items:  # a rule without a condition (no when, no combination): say so, not "all"
        always = isinstance(condition, All)
        return Explanation(NO_CONDITION if always else NO_ALTERNATIVE, always, actual=always)
    parts = [explain(c, values, zone) for c in condition.items]
    if isinstance(condition, All):
        return Explanation("all", all(p.result for p in parts), parts=parts)
    return Explanation("any", any(p.result for p in parts), parts=parts)
