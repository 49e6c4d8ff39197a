"""A usage rule on the period's totals (``accumulated.amount`` / ``.volume``) never applies: rating
(online and ``bssrules rate``) gives no such fact — the totals act through an accumulator's
thresholds. The facts table and the lint said rating knew them: such a rule was accepted without a
word, and a catalog manager's "beyond 5 EUR this month" price never applied (found by a review of
bulk against the reference: both paths agree, and both ignore it)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from bssrules.pricing.usage import RatingState, Subscriber, UsageRecord
from tests.property.test_bulk_equals_reference import assert_bulk_equals_reference, book_of

RULES = (
    "ruleSets:\n"
    "  - id: u\n"
    "    kind: usage\n"
    "    accumulators:\n"
    "      - id: spend\n"
    "        measure: amount\n"
    "        thresholds: [{id: t, at: 5, action: notify}]\n"
    "    rules:\n"
    "      - id: beyond-5\n"
    "        when: {accumulated.amount: {gte: 5}}\n"
    "        rate: {amount: 0.50, currency: EUR, per: min}\n"
    "      - id: standard\n"
    "        rate: {amount: 1.00, currency: EUR, per: min}\n")


def test_a_usage_rule_on_the_periods_totals_is_warned_as_never_known(load_rules: Any) -> None:
    found = [d for d in load_rules(RULES).warnings if d.code == "unknownWhenRating"]
    assert [(d.line, d.severity, d.path[-2:]) for d in found] == [(10, "warning", ("accumulated.amount", "gte"))]
    assert found[0].message.startswith("'accumulated.amount' is never known when a usage is rated")
    assert "an accumulator's thresholds" in found[0].message


def test_and_indeed_rating_never_applies_it_online_or_in_bulk() -> None:
    """What the warning says: after 10 EUR this month the second record is still at 1.00."""
    book = book_of([{"id": "u", "kind": "usage",
                     "accumulators": [{"id": "spend", "measure": "amount", "thresholds": [
                         {"id": "t", "at": "5", "action": "notify"}]}],
                     "rules": [{"id": "beyond-5", "when": {"accumulated.amount": {"gte": Decimal(5)}},
                                "rate": {"amount": "0.50", "currency": "EUR", "per": "min"}},
                               {"id": "standard", "rate": {"amount": "1.00", "currency": "EUR", "per": "min"}}]}])
    start = dt.datetime(2026, 6, 10, 10, tzinfo=dt.timezone.utc)
    records = [UsageRecord("x1", "s0", "voice", start, Decimal(10), "min"),
               UsageRecord("x2", "s0", "voice", start + dt.timedelta(minutes=30), Decimal(10), "min")]
    frame = assert_bulk_equals_reference(book, records, {"s0": Subscriber("s0", payers={"payer": "P"})},
                                         RatingState())
    assert frame["rule"].to_list() == ["standard", "standard"]
