"""Bulk rating decides conditions on facts rating has, and on facts it lacks, as the reference.

A usage record is rated knowing the usage, ``now``, the party's id and classification and its
offerings; a split billing rule set decides a charge with ``charge.*`` and the party's facts.
Any other fact is absent there (``party.segment``, ``channel.id``, ``accumulated.*`` …), and a
test of an absent fact is false but for ``exists: false`` and what ``not`` makes of it
(docs/rules-format.md). Random conditions over present, empty and absent facts — in rules,
``appliesTo``, prerequisites, accumulators' ``when`` and split billing rules — must give the
same results both ways.

(Left out here, and reproduced apart: ``charge.offering`` in a usage rule set and
``usage.offering`` in a split billing one, which bulk rating sees and the reference does not.)
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssrules.pricing.usage import RatingState, Subscriber, UsageRecord
from tests.property.test_bulk_equals_reference import assert_bulk_equals_reference, book_of

UTC = dt.timezone.utc
START = dt.datetime(2026, 6, 13, 22, 30, tzinfo=UTC)  # a Saturday, 00:30 on Sunday in Paris
NUMBERS = ["accumulated.amount", "accumulated.volume", "usage.volume", "party.age", "charge.amount"]
TEXTS = ["party.segment", "usage.type", "usage.country", "party.id", "party.classification", "channel.id",
         "usage.unit", "charge.currency", "usage.service", "charge.service", "charge.usageType", "charge.type"]
LISTS = ["inventory.offerings", "inventory.activeOfferings", "present.productOfferings"]
INSTANTS = ["now", "usage.start"]


@st.composite
def conditions(draw: st.DrawFn, offering: str | None, depth: int = 0) -> dict[str, Any]:
    """A condition; ``offering`` names the offering fact the rule set's kind has, if any."""
    kind = draw(st.sampled_from(["number", "text", "list", "instant"] + (["any", "all", "not"] if depth < 2 else [])))
    if kind == "number":
        op = draw(st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte", "between", "exists", "in", "notIn"]))
        value: Any = {"between": [Decimal(0), Decimal(5)], "exists": draw(st.booleans()),
                      "in": [Decimal(0), Decimal(1)], "notIn": [Decimal(0), Decimal(1)]}.get(
            op, Decimal(draw(st.sampled_from([0, 1, 5]))))
        return {draw(st.sampled_from(NUMBERS)): {op: value}}
    if kind == "text":
        op = draw(st.sampled_from(["eq", "ne", "in", "notIn", "exists"]))
        value = {"in": ["a", "", "x1"], "notIn": ["a", "x1"], "exists": draw(st.booleans())}.get(
            op, draw(st.sampled_from(["a", "", "o1", "VIP", "data", "min", "usage", "EUR"])))
        return {draw(st.sampled_from(TEXTS + ([offering] * 4 if offering else []))): {op: value}}
    if kind == "list":
        op = draw(st.sampled_from(["contains", "notContains", "containsAny", "containsAll", "exists"]))
        value = {"containsAny": ["o1", "o2"], "containsAll": ["o1", "o2"], "exists": draw(st.booleans())}.get(op, "o1")
        return {draw(st.sampled_from(LISTS)): {op: value}}
    if kind == "instant":
        op = draw(st.sampled_from(["timeOfDay", "dayOfWeek", "lt", "gte", "exists"]))
        value = {"timeOfDay": {"from": "23:00", "to": "01:00"}, "dayOfWeek": ["sat", "sun"],
                 "exists": draw(st.booleans())}.get(op, "2026-06-14T00:00:00Z")
        return {draw(st.sampled_from(INSTANTS)): {op: value}}
    if kind == "not":
        return {"not": draw(conditions(offering, depth + 1))}
    return {kind: draw(st.lists(conditions(offering, depth + 1), min_size=1, max_size=2))}


def offering_tests(offering: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from([{offering: "o1"}, {offering: {"ne": "zz"}}, {offering: {"exists": True}},
                            {offering: {"exists": False}}, {"not": {offering: "o1"}}])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[UsageRecord], dict[str, Subscriber]]:
    usage = st.one_of(conditions("usage.offering"), offering_tests("usage.offering"))
    rules: list[dict[str, Any]] = [{"id": f"r{i}", "when": draw(usage),
                                    "rate": {"amount": "1", "currency": draw(st.sampled_from(["EUR", "JPY"])),
                                             "per": "min"}}
                                   for i in range(draw(st.integers(1, 3)))]
    rules.append({"id": "last", "rate": {"amount": "2", "currency": "EUR", "per": "min"}})
    rule_set: dict[str, Any] = {
        "id": "u", "kind": "usage", "timeZone": "Europe/Paris", "rules": rules,
        "accumulators": [{"id": "a", "measure": "amount", "when": draw(usage), "thresholds": [
            {"id": "t", "at": "3", "action": "block", "reason": {"code": "c", "label": "cap"}}]}]}
    if draw(st.booleans()):
        rule_set["appliesTo"] = draw(usage)
    if draw(st.booleans()):
        rule_set["prerequisites"] = [{"id": "p", "when": draw(usage), "reason": {"code": "pc", "label": "needs"}}]
    split = {"id": "split", "kind": "splitBilling", "default": "payer",
             "rules": [{"id": "s", "when": draw(st.one_of(conditions("charge.offering"),
                                                          offering_tests("charge.offering"))), "payer": "a"}]}
    subscriber = Subscriber("s0", draw(st.sampled_from([None, "", "x1"])), draw(st.sampled_from([None, "", "VIP"])),
                            draw(st.sampled_from([None, "", "o1"])),
                            tuple(draw(st.lists(st.sampled_from(["o1", "o2"]), unique=True))),
                            {"payer": "P", "a": "A"}, "split")
    records = [UsageRecord(f"x{i}", "s0", draw(st.sampled_from(["data", "voice"])), START + dt.timedelta(minutes=37 * i),
                           Decimal(draw(st.sampled_from([0, 1, 2]))), draw(st.sampled_from([None, "min", "s"])),
                           draw(st.sampled_from([None, "", "a", "data"])), draw(st.sampled_from([None, True, False])),
                           draw(st.sampled_from([None, "", "a"])))
               for i in range(draw(st.integers(1, 5)))]
    return [rule_set, split], records, {"s0": subscriber}


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(scenarios())
def test_conditions_on_present_empty_and_absent_facts_decide_as_the_reference(scenario) -> None:
    rule_sets, records, subscribers = scenario
    assert_bulk_equals_reference(book_of(rule_sets), records, subscribers, RatingState())
