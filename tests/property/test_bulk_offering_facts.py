"""Which offering a rule set sees, in bulk as in the reference (online): a usage rule set sees
``usage.offering`` and not ``charge.offering``; a split billing rule set sees ``charge.offering``
and not ``usage.offering`` (docs/pricing.md, Split billing). Bulk gave both rule sets both
facts (one map of the subscription's facts): a split rule on ``usage.offering`` billed another
payer than online, and a usage rule, ``appliesTo``, prerequisite or accumulator ``when`` on
``charge.offering`` rated (or counted) what online rejects (found by a review of bulk against
the reference)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from bssrules.pricing.usage import RatingState, Subscriber, UsageRecord
from tests.property.test_bulk_equals_reference import assert_bulk_equals_reference, book_of

START = dt.datetime(2026, 6, 10, 10, tzinfo=dt.timezone.utc)
SUBSCRIBERS = {"s0": Subscriber("s0", "p", None, "o1", ("o1",), {"payer": "P", "a": "A"}, "split"),
               "s1": Subscriber("s1", "p", None, "o2", ("o2",), {"payer": "Q", "a": "B"}, "split")}
RECORDS = [UsageRecord(f"x{i}", f"s{i % 2}", "voice", START + dt.timedelta(minutes=i), Decimal(1), "min")
           for i in range(4)]
STANDARD = {"id": "standard", "rate": {"amount": "1.00", "currency": "EUR", "per": "min"}}
SPECIAL = {"id": "special", "rate": {"amount": "3.00", "currency": "EUR", "per": "min"}}


def _book(usage: dict[str, Any], split_when: dict[str, Any] | None = None) -> Any:
    split: dict[str, Any] = {"id": "split", "kind": "splitBilling", "default": "payer", "rules": []}
    if split_when is not None:
        split["rules"].append({"id": "to-a", "when": split_when, "payer": "a"})
    return book_of([{"id": "u", "kind": "usage", **usage}, split])


@pytest.mark.parametrize("offering", ["usage.offering", "charge.offering"])
@pytest.mark.parametrize("test", [{"eq": "o1"}, {"exists": True}, {"ne": "o1"}])
def test_a_split_billing_rule_sees_the_charges_offering_only(offering: str, test: dict[str, Any]) -> None:
    condition = {offering: test["eq"]} if "eq" in test else {offering: test}
    assert_bulk_equals_reference(_book({"rules": [STANDARD]}, condition), RECORDS, SUBSCRIBERS, RatingState())


@pytest.mark.parametrize("offering", ["usage.offering", "charge.offering"])
@pytest.mark.parametrize("place", ["rule", "appliesTo", "prerequisite", "accumulator"])
def test_a_usage_rule_set_sees_the_usages_offering_only(offering: str, place: str) -> None:
    condition = {offering: "o1"}
    usage: dict[str, Any] = {"rules": [{**SPECIAL, "when": condition} if place == "rule" else SPECIAL, STANDARD]
                             if place == "rule" else [STANDARD]}
    if place == "appliesTo":
        usage["appliesTo"] = condition
    elif place == "prerequisite":
        usage["prerequisites"] = [{"id": "needs-o1", "when": condition,
                                   "reason": {"code": "noO1", "label": "needs o1"}}]
    elif place == "accumulator":
        usage["accumulators"] = [{"id": "spend", "measure": "amount", "when": condition,
                                  "thresholds": [{"id": "t", "at": "1", "action": "notify"}]}]
    assert_bulk_equals_reference(_book(usage), RECORDS, SUBSCRIBERS, RatingState())
