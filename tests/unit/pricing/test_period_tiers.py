"""Tiers over the period's total: graduated tiers with ``tiersCount: {accumulator: ID}`` price
a record on top of the accumulator's total before it, ``cost(total + volume) - cost(total)``
rounded once, so that a record spanning a tier's bound is split at it exactly.

Buckets serve the first units of a record and the accumulator counts them, so the charged part
sits on top of them; an amount cap walks the tiers from the total; a ``changeRate`` rate may
count the period total too, in a unit of its own (converted exactly); a new period starts back
at the first tier; records are rated in the order (subscriber, start, id). Every case is rated
in bulk as well, which must give the same, field by field — without the reference where it can.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from bssrules.errors import InvalidSource
from bssrules.pricing.bulk import BulkState, rate_chunk, rated_usages, records_frame, subscribers_frame
from bssrules.pricing.caps import affordable
from bssrules.pricing.rates import charge, exact_charge, tier_split
from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import (
    AccumulatorKey, AccumulatorTotal, Bucket, RatedUsage, RatingState, Subscriber, UsageRecord,
)
from bssrules.rules.book import RuleBook
from bssrules.rules.model import Rate
from bssrules.rules.project import load_project_texts

D = Decimal
UTC = dt.timezone.utc
JUNE = dt.datetime(2026, 6, 10, 8, tzinfo=UTC)

RULES = """
ruleSets:
  - id: mobile
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - id: monthly-data
        description: The data of the month, in MB (the data rule's unit).
        measure: volume
        when: {usage.service: data}
        thresholds:
          - id: beyond-5gb
            at: 5000
            action: changeRate
            rate:
              currency: EUR
              per: GB
              tiersCount: {accumulator: monthly-data}
              tiers: [{upTo: 6, amount: 5}, {amount: 4}]
      - id: data-cap
        measure: volume
        when: {usage.service: data}
        thresholds:
          - {id: cap, at: 1500, action: block, crossing: rateUpToCap, reason: {code: dataCap, label: 1.5 GB}}
      - id: spend
        measure: amount
        when: {usage.service: data}
        thresholds:
          - {id: stop, at: 30, action: block, crossing: rateUpToCap, reason: {code: spendCap, label: 30 EUR}}
      - id: daily-calls
        measure: volume
        period: day
        when: {usage.service: voice}
    rules:
      - id: data
        when: {usage.service: data}
        rate:
          currency: EUR
          per: MB
          tiersCount: {accumulator: monthly-data}
          tiers: [{upTo: 1000, amount: 0.02}, {amount: 0.01}]
      - id: voice
        when: {usage.service: voice}
        rate:
          currency: EUR
          per: min
          tiersCount: {accumulator: daily-calls}
          tiers: [{upTo: 10, amount: 0.10}, {amount: 0.05}]
      - id: sms
        when: {usage.service: sms}
        rate:
          currency: EUR
          per: message
          tiers: [{upTo: 10, amount: 0.10}, {amount: 0.05}]
"""


def book_of(text: str = RULES) -> RuleBook:
    return load_project_texts({"rules.yaml": text}).rules


BOOK = book_of()
PAUL = Subscriber("paul", payers={"payer": "BA-PAUL"})
SUBSCRIBERS = {"paul": PAUL}
GRADUATED = Rate.model_validate({"currency": "EUR", "per": "MB", "tiers": [
    {"upTo": 1000, "amount": "0.02"}, {"upTo": 3000, "amount": "0.015"}, {"amount": "0.01"}]})


def usage(id: str, service: str, volume: Any, unit: str | None = None, minutes: int = 0,
          start: dt.datetime = JUNE) -> UsageRecord:
    return UsageRecord(id, "paul", service, start + dt.timedelta(minutes=minutes), D(str(volume)), unit)


def total(accumulator: str, volume: Any = 0, amount: Any = 0, reached: tuple[str, ...] = (),
          period: str = "2026-06") -> tuple[AccumulatorKey, AccumulatorTotal]:
    return (AccumulatorKey(f"mobile/{accumulator}", "paul", period), AccumulatorTotal(D(str(volume)), D(str(amount)),
                                                                                      reached))


def rate(records: list[UsageRecord], state: RatingState = RatingState(), book: RuleBook = BOOK,
         by: str = "bulk") -> tuple[dict[str, RatedUsage], RatingState]:
    """Rated by the reference and in bulk: both must give the same, the bulk path rating the
    records itself (``by``: bulk) or leaving them to the reference."""
    results, new_state = rate_records(records, SUBSCRIBERS, book, state)
    frame, bulk_state = rate_chunk(records_frame(records), subscribers_frame(SUBSCRIBERS), book,
                                   BulkState.from_rating_state(state))
    assert rated_usages(frame) == results
    assert bulk_state.to_rating_state() == new_state
    assert set(frame["rated_by"]) == {by}
    return {r.record.id: r for r in results}, new_state


def amounts(results: dict[str, RatedUsage]) -> dict[str, str]:
    return {id: str(r.amount) for id, r in results.items()}


# ------------------------------------------------------------------------ the exact split


@pytest.mark.parametrize(("position", "volume", "split"), [
    ("0", "600", [(0, "600")]),
    ("600", "600", [(0, "400"), (1, "200")]),
    ("999.5", "1", [(0, "0.5"), (1, "0.5")]),
    ("500", "3000", [(0, "500"), (1, "2000"), (2, "500")]),
    ("1000", "10", [(1, "10")]),
    ("4000", "10", [(2, "10")]),
])
def test_a_volume_on_top_of_a_total_is_split_at_the_bounds_it_spans(position: str, volume: str,
                                                                     split: list[tuple[int, str]]) -> None:
    assert [(i, str(v)) for i, v in tier_split(GRADUATED, D(volume), D(position))] == split
    by_tier = sum((GRADUATED.tiers[i].amount * v for i, v in tier_split(GRADUATED, D(volume), D(position))), D(0))
    assert exact_charge(GRADUATED, D(volume), D(position)) == by_tier


def test_the_charge_from_a_total_is_rounded_once() -> None:
    # 0.5 MB at 0.02 and 0.5 MB at 0.015: 0.0175, rounded once to 0.02 (not 0.01 + 0.01)
    assert exact_charge(GRADUATED, D(1), D("999.5")) == D("0.0175")
    assert charge(GRADUATED, D(1), D("999.5")) == D("0.02")
    # priced from nothing, the same record is the first tier's
    assert charge(GRADUATED, D(1)) == D("0.02") and charge(GRADUATED, D(1000), D(0)) == D("20.00")


def test_records_of_a_month_are_charged_as_one_volume_would_be() -> None:
    """Whatever the cut of the month into records, the charges before rounding add up to the
    charge of the month's total."""
    cuts = [D("1"), D("998.5"), D("1.25"), D("1999.25"), D("700")]
    position, exact = D(0), D(0)
    for volume in cuts:
        exact += exact_charge(GRADUATED, volume, position)
        position += volume
    assert exact == exact_charge(GRADUATED, sum(cuts, D(0)))


def test_an_affordable_part_walks_the_tiers_from_the_total() -> None:
    # from 990 MB: 10 MB at 0.02 (0.20), then 80 MB at 0.015 (1.20): 90 MB for 1.40
    assert affordable(GRADUATED, "MB", D(500), D("1.40"), D(990)) == D(90)
    assert affordable(GRADUATED, "MB", D(500), D("1.40")) == D(70)  # per record: all at 0.02
    assert affordable(GRADUATED, "GB", D(1), D("1.40"), D(990)) == D("0.09")


# ------------------------------------------------------------------------------ rating


def test_a_record_spanning_the_bound_of_the_month_is_split_at_it() -> None:
    results, state = rate([usage("d1", "data", 600, "MB"), usage("d2", "data", "0.6", "GB", 1),
                           usage("d3", "data", 100, "MB", 2)])
    # 600 MB at 0.02; 400 MB at 0.02 + 200 MB at 0.01; 100 MB at 0.01
    assert amounts(results) == {"d1": "12.00", "d2": "10.00", "d3": "1.00"}
    assert results["d2"].rated_volume == D(600)
    assert state.accumulators[total("monthly-data")[0]].volume == D(1300)


def test_tiers_counting_the_record_alone_start_from_the_first_tier_every_time() -> None:
    results, _ = rate([usage("s1", "sms", 8, "message"), usage("s2", "sms", 8, "message", 1)])
    # 8 x 0.10 each; counted over the day, the second would be 2 x 0.10 + 6 x 0.05 = 0.50
    assert amounts(results) == {"s1": "0.80", "s2": "0.80"}


def test_the_total_before_the_chunk_counts() -> None:
    results, _ = rate([usage("d1", "data", 1, "MB")], RatingState(accumulators=dict([total("monthly-data", "999.5")])))
    assert results["d1"].amount == D("0.02")  # 0.5 x 0.02 + 0.5 x 0.01 = 0.015, rounded once


def test_a_new_month_starts_back_at_the_first_tier_in_the_rule_sets_time_zone() -> None:
    state = RatingState(accumulators=dict([total("monthly-data", 2000)]))
    june_30_utc = dt.datetime(2026, 6, 30, 21, 30, tzinfo=UTC)  # 23:30 in Paris: still June
    july_1_paris = dt.datetime(2026, 6, 30, 22, 30, tzinfo=UTC)  # 00:30 in Paris: July
    results, state = rate([usage("june", "data", 10, "MB", start=june_30_utc),
                           usage("july", "data", 10, "MB", start=july_1_paris)], state)
    assert amounts(results) == {"june": "0.10", "july": "0.20"}
    assert state.accumulators[total("monthly-data", period="2026-07")[0]].volume == D(10)


def test_units_a_bucket_serves_count_toward_the_tiers_and_are_served_first() -> None:
    state = RatingState({"b": Bucket("b", "paul", "MB", D(300))}, dict([total("monthly-data", 800)]))
    results, state = rate([usage("d1", "data", 500, "MB")], state)
    # the bucket serves 800-1100, the charged 200 MB sit above 1000: 200 x 0.01 (per record: 4.00)
    assert results["d1"].buckets == (("b", D(300)),)
    assert results["d1"].amount == D("2.00")
    assert state.accumulators[total("monthly-data")[0]].volume == D(1300)


def test_the_units_of_the_record_and_of_the_total_convert_exactly() -> None:
    state = RatingState(accumulators=dict([total("monthly-data", 999)]))
    results, _ = rate([usage("d1", "data", "0.002", "GB")], state)  # 2 MB: 1 at 0.02, 1 at 0.01
    assert results["d1"].amount == D("0.03")


def test_a_change_rate_counting_the_total_converts_it_to_its_own_unit() -> None:
    # beyond 5000 MB, per GB: from 5.2 GB, 0.8 GB at 5 and 0.2 GB at 4
    state = RatingState(accumulators=dict([total("monthly-data", 5200, reached=("beyond-5gb",))]))
    results, _ = rate([usage("d1", "data", 1000, "MB")], state)
    assert results["d1"].amount == D("4.80") and results["d1"].rated_volume == D(1)


def test_a_volume_cap_cuts_the_record_and_the_rest_is_split_at_the_bound() -> None:
    state = RatingState(accumulators=dict([total("monthly-data", 900), total("data-cap", 1200)]))
    results, _ = rate([usage("d1", "data", 500, "MB")], state)
    # the cap leaves 300 MB: 100 at 0.02, 200 at 0.01
    assert (str(results["d1"].amount), str(results["d1"].refused_volume)) == ("4.00", "200")


def test_an_amount_cap_affords_the_part_the_tiers_from_the_total_allow() -> None:
    state = RatingState(accumulators=dict([total("monthly-data", 990), total("spend", amount=29)]))
    results, _ = rate([usage("d1", "data", 200, "MB")], state)
    # 1.00 EUR left: 10 MB at 0.02 (0.20), then 80 MB at 0.01 (0.80); at 0.02 throughout it would be 50 MB
    assert (str(results["d1"].amount), str(results["d1"].rated_volume), str(results["d1"].refused_volume)) \
        == ("1.00", "90", "110")
    assert [r["code"] for r in results["d1"].reasons] == ["spendCap"]


def test_records_are_priced_in_the_order_subscriber_start_id() -> None:
    # given out of order, at the same instant: a first, then b, then the later c
    records = [usage("c", "data", 100, "MB", 5), usage("b", "data", 600, "MB"), usage("a", "data", 600, "MB")]
    results, _ = rate(records)
    assert amounts(results) == {"a": "12.00", "b": "10.00", "c": "1.00"}


def test_minutes_of_a_day_in_seconds() -> None:
    results, state = rate([usage("v1", "voice", 540, "s"), usage("v2", "voice", 120, "s", 10)])
    # 9 min at 0.10; then 1 min at 0.10 and 1 min at 0.05
    assert amounts(results) == {"v1": "0.90", "v2": "0.15"}
    assert state.accumulators[total("daily-calls", period="2026-06-10")[0]].volume == D(11)


def test_usage_the_accumulator_does_not_count_is_priced_on_its_total_by_the_reference() -> None:
    book = book_of(RULES.replace("when: {usage.service: data}\n        thresholds:\n          - id: beyond-5gb",
                                 "when: {usage.service: data, usage.roaming: false}\n        thresholds:\n"
                                 "          - id: beyond-5gb"))
    state = RatingState(accumulators=dict([total("monthly-data", 1000)]))
    roaming = UsageRecord("d1", "paul", "data", JUNE, D(10), "MB", roaming=True)
    results, state = rate([roaming], state, book, by="reference")
    assert results["d1"].amount == D("0.10")  # on top of the 1000 MB, which it does not add to
    assert state.accumulators[total("monthly-data")[0]].volume == D(1000)


# -------------------------------------------------------------------- the YAML and the lint


def test_volume_tiers_cannot_count_a_period_total() -> None:
    with pytest.raises(ValidationError, match="use tierMode: graduated"):
        Rate.model_validate({"currency": "EUR", "per": "MB", "tierMode": "volume", "tiersCount": {"accumulator": "a"},
                             "tiers": [{"upTo": 1, "amount": 1}, {"amount": 0}]})
    with pytest.raises(ValidationError, match="tiersCount belongs to a rate by tiers"):
        Rate.model_validate({"currency": "EUR", "per": "MB", "amount": 1, "tiersCount": {"accumulator": "a"}})
    assert Rate.model_validate({"currency": "EUR", "per": "MB", "tiersCount": "record",
                                "tiers": [{"amount": 1}]}).period_tiers is None


def _refused(text: str) -> str:
    with pytest.raises(InvalidSource) as caught:
        load_project_texts({"rules.yaml": text})
    return str(caught.value)


def test_an_unknown_accumulator_is_refused_at_its_position_with_a_suggestion() -> None:
    message = _refused(RULES.replace("tiersCount: {accumulator: daily-calls}", "tiersCount: {accumulator: dailyCalls}"))
    assert "rules.yaml:47:37: unknown accumulator 'dailyCalls'" in message
    assert "(did you mean 'daily-calls'?)" in message


def test_an_accumulator_of_money_or_of_another_kind_of_unit_is_refused() -> None:
    money = _refused(RULES.replace("tiersCount: {accumulator: daily-calls}", "tiersCount: {accumulator: spend}"))
    assert "accumulator 'spend' has measure: amount" in money
    minutes = _refused(RULES.replace("tiersCount: {accumulator: daily-calls}",
                                     "tiersCount: {accumulator: monthly-data}"))
    assert "rules.yaml:47:37: accumulator 'monthly-data' counts the usage of rule 'data' in MB, which is not of the " \
           "kind of min" in minutes


def test_an_accumulator_that_may_not_count_the_usage_it_prices_is_a_warning() -> None:
    project = load_project_texts({"rules.yaml": RULES.replace(
        "when: {usage.service: voice}\n    rules:", "when: {usage.service: voice, usage.roaming: false}\n    rules:")})
    warnings = [str(w) for w in project.warnings]
    assert any("accumulator 'daily-calls' may not count the usage rule 'voice' rates" in w for w in warnings), warnings


def test_the_yaml_without_tiers_count_counts_the_record() -> None:
    sms = BOOK.in_force("mobile", JUNE).definition.rules[2]  # type: ignore[union-attr]
    assert sms.rate.tiers_count == "record" and sms.rate.period_tiers is None
