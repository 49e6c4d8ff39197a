"""A converted volume has at most 12 decimals, in the reference as in bulk rating
(docs/pricing.md, Units). ``units.convert`` kept every decimal of a conversion that comes out
exact however many it needs — 0.5 B is 0.0000000000005 TB, a 12-decimal minute is a
14-decimal hour — and those reached bucket debits, balances, refused volumes and totals:
bulk rating (12 decimals) then disagreed with the reference, and the state the reference
handed back could not be read back as bulk state ("more than 12 decimals"). Found by a
rating review."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bssrules.pricing.bulk import BulkState, rate_chunk, rated_usages, records_frame, subscribers_frame
from bssrules.pricing.rating import rate_records
from bssrules.pricing.units import convert
from bssrules.pricing.usage import Bucket, RatingState, Subscriber, UsageRecord
from bssrules.rules.project import load_project_texts

START = dt.datetime(2026, 6, 1, 10, tzinfo=dt.timezone.utc)
PAUL = {"paul": Subscriber("paul", payers={"payer": "BA-PAUL"})}
VOICE = """
ruleSets:
  - id: calls
    kind: usage
    rules:
      - {id: voice, when: {usage.service: voice}, rate: {amount: 0.015, currency: EUR, per: minute}}
"""
CAPPED = """
ruleSets:
  - id: calls
    kind: usage
    accumulators:
      - id: spend
        measure: amount
        thresholds:
          - {id: stop, at: 0.05, action: block, crossing: rateUpToCap, reason: {code: spendCap, label: 5 cents}}
    rules:
      - {id: voice, when: {usage.service: voice}, rate: {amount: 0.015, currency: EUR, per: minute}}
"""


@pytest.mark.parametrize("volume, unit, to, expected", [
    ("0.5", "B", "TB", "0E-12"),  # 5E-13: half to even, down
    ("1.5", "B", "TB", "2E-12"),  # 1.5E-12: half to even, up
    ("0.9", "B", "TB", "1E-12"),
    ("0.333333333333", "min", "h", "0.005555555556"),  # 0.00555555555555
    ("100", "s", "min", "1.666666666667"),  # (as before: a fraction that does not terminate)
    ("90", "s", "min", "1.5"),  # (as before: exact)
    ("1", "B", "TB", "1E-12"),  # (as before: 12 decimals, exact)
])
def test_a_converted_volume_keeps_at_most_12_decimals(volume: str, unit: str, to: str, expected: str) -> None:
    converted = convert(Decimal(volume), unit, to)
    assert converted == Decimal(expected)
    assert converted is not None and -converted.as_tuple().exponent <= 12  # type: ignore[operator]


def _both(rules: str, records: list[UsageRecord], state: RatingState) -> tuple[list, RatingState]:  # type: ignore[type-arg]
    book = load_project_texts({"rules.yaml": rules}).rules
    results, after = rate_records(records, PAUL, book, state)
    frame, bulk_after = rate_chunk(records_frame(records), subscribers_frame(PAUL), book,
                                   BulkState.from_rating_state(state))
    assert rated_usages(frame) == results
    # the reference's state is one bulk rating can take back (it raised: more than 12 decimals)
    assert BulkState.from_rating_state(after).to_rating_state() == after == bulk_after.to_rating_state()
    return results, after


def test_an_hour_bucket_debited_for_minutes_keeps_12_decimals_in_both_paths() -> None:
    state = RatingState({"s": Bucket("s", "paul", "s", Decimal(100), precedence=1),
                         "h": Bucket("h", "paul", "h", Decimal("0.01"))})
    results, after = _both(VOICE, [UsageRecord("r", "paul", "voice", START, Decimal(2), "min")], state)
    assert dict(results[0].buckets) == {"s": Decimal(100), "h": Decimal("0.005555555556")}
    assert after.buckets["h"].remaining == Decimal("0.004444444444")


def test_the_part_refused_at_a_cap_keeps_12_decimals_in_both_paths() -> None:
    state = RatingState({"m": Bucket("m", "paul", "minute", Decimal("0.333333333333"))})
    results, _ = _both(CAPPED, [UsageRecord("r", "paul", "voice", START, Decimal(1), "h")], state)
    refused = results[0].refused_volume
    assert -refused.as_tuple().exponent <= 12  # type: ignore[operator]
    assert refused == Decimal("0.938889444444")
