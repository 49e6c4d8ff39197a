"""Capped rating: a ``block`` threshold with ``crossing: rateUpToCap`` rates the record that
would take its accumulator past ``at`` only up to the cap, and refuses the rest.

Volume caps cut the record to the volume that takes the total exactly to ``at`` (in the
record's unit, rounded down to 12 decimals where it does not come out exact); amount caps to
the largest volume whose charge before rounding fits the headroom (rounded down to the minor
unit). Buckets, prepaid money, split billing and events see the rated part only; the refused
part is stated on the result with the threshold's reason. Every case is also rated in bulk,
which must give the same, field by field.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bssrules.pricing.bulk import BulkState, rate_chunk, records_frame, subscribers_frame
from bssrules.pricing.bulk_io import rate_file
from bssrules.pricing.usage import (
    AccumulatorKey, AccumulatorTotal, Bucket, RatedUsage, RatingState, Subscriber, UsageRecord,
)
from bssrules.rules.book import RuleBook
from tests.unit.pricing.both_paths import rate as rate_both
from bssrules.rules.model import Threshold
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
      - id: data-cap
        description: 1 GB of data a month, then nothing; the session crossing it is cut.
        measure: volume
        period: month
        when: {usage.service: data}
        thresholds:
          - {id: warn-800, at: 800, action: notify}
          - id: cap
            at: 1000
            action: block
            crossing: rateUpToCap
            reason: {code: dataCapReached, label: The 1 GB of the month is used}
      - id: spend
        description: 5 EUR of voice a month at most.
        measure: amount
        period: month
        when: {usage.service: voice}
        thresholds:
          - id: stop
            at: 5
            action: block
            crossing: rateUpToCap
            reason: {code: spendCapReached, label: 5 EUR of calls a month at most}
      - id: daily-calls
        measure: volume
        period: day
        when: {usage.service: voice}
        thresholds:
          - id: one-hour
            at: 60
            action: block
            crossing: rateUpToCap
            reason: {code: dailyCallsCap, label: One hour of calls a day}
      - id: in-full
        measure: volume
        period: month
        when: {usage.service: sms}
        thresholds:
          - {id: ten, at: 10, action: block, reason: {code: smsCap, label: Ten messages a month}}
    rules:
      - id: data
        when: {usage.service: data}
        rate: {amount: 0.01, currency: EUR, per: MB}
      - id: voice
        when: {usage.service: voice}
        rate: {amount: 0.10, currency: EUR, per: min}
      - id: sms
        when: {usage.service: sms}
        rate: {amount: 0.10, currency: EUR, per: message}

  - id: family
    kind: splitBilling
    rules:
      - {id: halves, shares: [{payer: holder, weight: 1}, {payer: company, weight: 1}]}
"""


def book_of(text: str = RULES) -> RuleBook:
    return load_project_texts({"rules.yaml": text}).rules


BOOK = book_of()
PAUL = Subscriber("paul", payers={"payer": "BA-PAUL"})
FANNY = Subscriber("fanny", payers={"holder": "BA-FANNY", "company": "BA-ACME"}, split_billing="family")
SUBSCRIBERS = {s.id: s for s in (PAUL, FANNY)}


def usage(id: str, service: str, volume: Any, unit: str, minutes: int = 0, subscriber: str = "paul") -> UsageRecord:
    return UsageRecord(id, subscriber, service, JUNE + dt.timedelta(minutes=minutes), D(str(volume)), unit)


def total(accumulator: str, volume: Any = 0, amount: Any = 0, reached: tuple[str, ...] = (), subscriber: str = "paul",
          period: str = "2026-06") -> tuple[AccumulatorKey, AccumulatorTotal]:
    return (AccumulatorKey(f"mobile/{accumulator}", subscriber, period),
            AccumulatorTotal(D(str(volume)), D(str(amount)), reached))


def rate(records: list[UsageRecord], state: RatingState = RatingState(), book: RuleBook = BOOK,
         subscribers: dict[str, Subscriber] = SUBSCRIBERS) -> tuple[dict[str, RatedUsage], RatingState]:
    """Rated by the reference, and in bulk too: both must give the same."""
    return rate_both(book, records, state, subscribers)


def summary(result: RatedUsage) -> dict[str, Any]:
    return {"status": result.status, "rated": str(result.rated_volume), "refused": str(result.refused_volume),
            "amount": str(result.amount), "reasons": [r["code"] for r in result.reasons]}


def events(result: RatedUsage) -> list[tuple[str, str, str]]:
    return [(e.accumulator, e.threshold, str(e.value)) for e in result.events]


# ------------------------------------------------------------------------------ the model


def test_a_threshold_rates_the_crossing_record_in_full_unless_it_says_otherwise() -> None:
    threshold = Threshold.model_validate({"id": "t", "at": 5, "action": "block", "reason": {"code": "c", "label": "l"}})
    assert threshold.crossing == "rateInFull" and not threshold.caps


@pytest.mark.parametrize("action", ["notify", "changeRate"])
def test_only_a_block_threshold_rates_up_to_its_cap(action: str) -> None:
    raw: dict[str, Any] = {"id": "t", "at": 5, "action": action, "crossing": "rateUpToCap"}
    if action == "changeRate":
        raw["rate"] = {"amount": 1, "currency": "EUR"}
    with pytest.raises(ValidationError, match="only a block threshold rates up to its cap"):
        Threshold.model_validate(raw)


def test_crossing_takes_only_the_two_words_it_knows() -> None:
    with pytest.raises(ValidationError):
        Threshold.model_validate({"id": "t", "at": 5, "action": "block", "crossing": "rateToCap",
                                  "reason": {"code": "c", "label": "l"}})


# ------------------------------------------------------------------------------ volume caps


def test_the_record_crossing_a_volume_cap_is_rated_up_to_it_and_the_rest_is_refused_with_the_reason() -> None:
    results, state = rate([usage("d1", "data", 700, "MB"), usage("d2", "data", "0.5", "GB", 1),
                           usage("d3", "data", 1, "MB", 2)])
    assert summary(results["d1"]) == {"status": "rated", "rated": "700", "refused": "0", "amount": "7.00",
                                      "reasons": []}
    # 300 MB were left below the cap: 0.3 GB of the 0.5 GB session is refused, in the record's unit
    assert summary(results["d2"]) == {"status": "rated", "rated": "300.0", "refused": "0.2", "amount": "3.00",
                                      "reasons": ["dataCapReached"]}
    assert results["d2"].reasons[0]["threshold"] == "mobile/data-cap/cap"
    assert events(results["d2"]) == [("mobile/data-cap", "warn-800", "1000"), ("mobile/data-cap", "cap", "1000")]
    assert summary(results["d3"]) == {"status": "rejected", "rated": "0", "refused": "0", "amount": "0",
                                      "reasons": ["dataCapReached"]}
    data = state.accumulators[AccumulatorKey("mobile/data-cap", "paul", "2026-06")]
    assert (data.volume, data.amount, data.reached) == (D(1000), D("10.00"), ("warn-800", "cap"))


def test_a_record_taking_the_total_exactly_to_the_cap_is_rated_in_full() -> None:
    results, _ = rate([usage("d1", "data", 1000, "MB"), usage("d2", "data", 1, "MB", 1)])
    assert summary(results["d1"])["refused"] == "0" and results["d1"].reasons == ()
    assert [e.threshold for e in results["d1"].events] == ["warn-800", "cap"]
    assert summary(results["d2"])["reasons"] == ["dataCapReached"]


def test_a_threshold_rating_in_full_rates_the_crossing_record_whole_as_before() -> None:
    results, _ = rate([usage("m1", "sms", 8, "message"), usage("m2", "sms", 5, "message", 1),
                       usage("m3", "sms", 1, "message", 2)])
    assert summary(results["m2"]) == {"status": "rated", "rated": "5", "refused": "0", "amount": "0.50",
                                      "reasons": []}
    assert summary(results["m3"])["reasons"] == ["smsCap"]


def test_seconds_are_cut_to_the_minutes_left_exactly() -> None:
    # 59.5 minutes called today: 30 s of a 120 s call are rated
    state = RatingState({}, dict([total("daily-calls", "59.5", "5.95", period="2026-06-10")]))
    results, new_state = rate([usage("v1", "voice", 120, "s")], state)
    assert summary(results["v1"]) == {"status": "rated", "rated": "0.5", "refused": "90", "amount": "0.05",
                                      "reasons": ["dailyCallsCap"]}
    assert new_state.accumulators[AccumulatorKey("mobile/daily-calls", "paul", "2026-06-10")].volume == D(60)


def test_a_cap_that_does_not_come_out_exact_in_the_records_unit_is_rounded_down_and_still_reached() -> None:
    book = book_of(RULES.replace("rate: {amount: 0.10, currency: EUR, per: min}",
                                 "rate: {amount: 0.002, currency: EUR, per: s}")
                        .replace("at: 60\n", "at: 3600\n"))
    state = RatingState({}, dict([total("daily-calls", 3500, period="2026-06-10")]))
    results, new_state = rate([usage("v1", "voice", 2, "min")], state, book)  # 100 s left: 1.666… min
    assert summary(results["v1"]) == {"status": "rated", "rated": "99.999999999960", "refused": "0.333333333334",
                                      "amount": "0.20", "reasons": ["dailyCallsCap"]}
    daily = new_state.accumulators[AccumulatorKey("mobile/daily-calls", "paul", "2026-06-10")]
    assert daily.volume == D(3600) and daily.reached == ("one-hour",)


def test_unit_buckets_serve_the_part_up_to_the_cap_only() -> None:
    state = RatingState({"b": Bucket("b", "paul", "MB", D(500))}, dict([total("data-cap", 900, "9.00", ("warn-800",))]))
    results, new_state = rate([usage("d1", "data", 300, "MB")], state)
    assert summary(results["d1"]) == {"status": "rated", "rated": "0", "refused": "200", "amount": "0.00",
                                      "reasons": ["dataCapReached"]}
    assert results["d1"].buckets == (("b", D(100)),)
    assert new_state.buckets["b"].remaining == D(400)


# ------------------------------------------------------------------------------ amount caps


def test_the_call_crossing_a_spending_cap_is_rated_for_what_the_money_left_buys() -> None:
    state = RatingState({}, dict([total("spend", 48, "4.80")]))
    results, new_state = rate([usage("v1", "voice", 300, "s"), usage("v2", "voice", 60, "s", 10)], state)
    # 0.20 EUR left at 0.10 a minute: 2 minutes of the 5
    assert summary(results["v1"]) == {"status": "rated", "rated": "2", "refused": "180", "amount": "0.20",
                                      "reasons": ["spendCapReached"]}
    assert events(results["v1"]) == [("mobile/spend", "stop", "5.00")]
    assert summary(results["v2"])["reasons"] == ["spendCapReached"]
    assert new_state.accumulators[AccumulatorKey("mobile/spend", "paul", "2026-06")].amount == D("5.00")


def test_a_price_that_does_not_divide_the_headroom_charges_it_to_the_cent_and_the_cap_is_reached() -> None:
    book = book_of(RULES.replace("rate: {amount: 0.10, currency: EUR, per: min}",
                                 "rate: {amount: 0.03, currency: EUR, per: min}"))
    state = RatingState({}, dict([total("spend", 160, "4.90")]))
    results, new_state = rate([usage("v1", "voice", 10, "min")], state, book)
    # 0.10 EUR buys 3.333333 minutes (to the millionth of a minute), charged 0.10 once rounded
    assert summary(results["v1"]) == {"status": "rated", "rated": "3.333333", "refused": "6.666667",
                                      "amount": "0.10", "reasons": ["spendCapReached"]}
    spend = new_state.accumulators[AccumulatorKey("mobile/spend", "paul", "2026-06")]
    assert spend.amount == D("5.00") and spend.reached == ("stop",)


def test_graduated_tiers_are_followed_up_to_the_headroom() -> None:
    book = book_of(RULES.replace("rate: {amount: 0.10, currency: EUR, per: min}",
                                 "rate: {currency: EUR, per: min, tiers: [{upTo: 10, amount: 0.20}, {amount: 0.05}]}")
                        .replace("at: 60\n", "at: 600\n"))
    # 90 min would cost 2.00 + 80 * 0.05 = 6.00: the first 10 cost 2.00, the 3.00 left buy 60 more
    results, _ = rate([usage("v1", "voice", 90, "min")], book=book)
    assert summary(results["v1"]) == {"status": "rated", "rated": "70", "refused": "20", "amount": "5.00",
                                      "reasons": ["spendCapReached"]}
    # within the first tier: 1.00 left buys 5 min at 0.20
    state = RatingState({}, dict([total("spend", 0, 4)]))
    results, _ = rate([usage("v2", "voice", 30, "min")], state, book)
    assert summary(results["v2"]) == {"status": "rated", "rated": "5", "refused": "25", "amount": "1.00",
                                      "reasons": ["spendCapReached"]}


def test_with_volume_tiers_the_largest_volume_that_fits_is_rated_even_in_a_cheaper_tier() -> None:
    book = book_of(RULES.replace("rate: {amount: 0.10, currency: EUR, per: min}",
                                 "rate: {currency: EUR, per: min, tierMode: volume, "
                                 "tiers: [{upTo: 10, amount: 1.00}, {amount: 0.25}]}"))
    state = RatingState({}, dict([total("spend", 0, 1)]))
    results, _ = rate([usage("v1", "voice", 30, "min")], state, book)  # 7.50 > 4.00 left
    # 4 min (4.00) fit, but 16 min in the second tier (4.00) are more
    assert summary(results["v1"]) == {"status": "rated", "rated": "16", "refused": "14", "amount": "4.00",
                                      "reasons": ["spendCapReached"]}


def test_a_headroom_below_the_minor_unit_leaves_nothing_to_rate_and_the_record_is_rejected() -> None:
    book = book_of(RULES.replace("at: 5\n", "at: 5.005\n"))
    state = RatingState({}, dict([total("spend", 50, "5.00")]))
    results, new_state = rate([usage("v1", "voice", 60, "s")], state, book)
    assert summary(results["v1"]) == {"status": "rejected", "rated": "0", "refused": "0", "amount": "0",
                                      "reasons": ["spendCapReached"]}
    assert new_state.accumulators == state.accumulators  # a rejected record counts nowhere


def test_a_cap_already_below_the_total_rejects_what_would_add_to_it() -> None:
    """A new version may put ``at`` below a total: nothing is left below the cap; a record
    that adds nothing is rated, and marks the cap reached."""
    state = RatingState({}, dict([total("data-cap", 1200, "12.00", ("warn-800",))]))
    results, new_state = rate([usage("d1", "data", 5, "MB"), usage("d2", "data", 0, "MB", 1),
                               usage("d3", "data", 1, "MB", 2)], state)
    assert summary(results["d1"])["status"] == "rejected" and summary(results["d1"])["reasons"] == ["dataCapReached"]
    assert summary(results["d2"]) == {"status": "rated", "rated": "0", "refused": "0", "amount": "0.00",
                                      "reasons": []}
    assert events(results["d2"]) == [("mobile/data-cap", "cap", "1200")]
    assert summary(results["d3"])["reasons"] == ["dataCapReached"]
    assert new_state.accumulators[AccumulatorKey("mobile/data-cap", "paul", "2026-06")].reached == ("warn-800", "cap")


def test_prepaid_money_and_split_billing_see_the_rated_part_only() -> None:
    state = RatingState({"eur": Bucket("eur", "paul", "EUR", D("1.50"))},
                        dict([total("spend", 40, "4.00"), total("spend", 40, "4.00", subscriber="fanny")]))
    results, new_state = rate([usage("p1", "voice", 20, "min"), usage("f1", "voice", 15, "min", 0, "fanny")], state)
    paul, fanny = results["p1"], results["f1"]
    assert (paul.status, paul.amount, paul.prepaid, paul.refused_volume) == ("rated", D("1.00"), D("1.00"), D(10))
    assert paul.buckets == (("eur", D("1.00")),) and new_state.buckets["eur"].remaining == D("0.50")
    assert [(c.payer, c.amount) for c in fanny.charges] == [("holder", D("0.50")), ("company", D("0.50"))]
    assert fanny.refused_volume == D(5)


def test_a_prepaid_balance_too_low_for_the_rated_part_rejects_the_record_as_before() -> None:
    state = RatingState({"eur": Bucket("eur", "paul", "EUR", D("0.50"))}, dict([total("spend", 40, "4.00")]))
    results, _ = rate([usage("p1", "voice", 20, "min")], state)
    assert summary(results["p1"])["reasons"] == ["insufficientBalance"]


# ------------------------------------------------------------------------- several accumulators


def test_of_several_caps_counting_a_record_the_smallest_headroom_wins() -> None:
    # 0.50 EUR left this month buys 5 minutes; 3 minutes are left today: the daily cap cuts
    state = RatingState({}, dict([total("spend", 45, "4.50"), total("daily-calls", 57, "5.70", period="2026-06-10")]))
    results, new_state = rate([usage("v1", "voice", 10, "min")], state)
    assert summary(results["v1"]) == {"status": "rated", "rated": "3", "refused": "7", "amount": "0.30",
                                      "reasons": ["dailyCallsCap"]}
    assert events(results["v1"]) == [("mobile/daily-calls", "one-hour", "60")]
    spend = new_state.accumulators[AccumulatorKey("mobile/spend", "paul", "2026-06")]
    assert (spend.amount, spend.reached) == (D("4.80"), ())  # counts the rated part; 0.20 left
    # the other way round: the money runs out first
    state = RatingState({}, dict([total("spend", 48, "4.80"), total("daily-calls", 50, "5.00", period="2026-06-10")]))
    results, new_state = rate([usage("v2", "voice", 10, "min")], state)
    assert summary(results["v2"]) == {"status": "rated", "rated": "2", "refused": "8", "amount": "0.20",
                                      "reasons": ["spendCapReached"]}
    daily = new_state.accumulators[AccumulatorKey("mobile/daily-calls", "paul", "2026-06-10")]
    assert (daily.volume, daily.reached) == (D(52), ())


CHEAPER = """          - {id: cheaper, at: 2, action: changeRate, rate: {amount: 0.05, currency: EUR, per: min}}
          - id: stop
            at: 5"""


def test_a_change_of_rate_reached_before_prices_the_part_up_to_the_cap() -> None:
    book = book_of(RULES.replace("          - id: stop\n            at: 5", CHEAPER))
    state = RatingState({}, dict([total("spend", 30, "3.00", ("cheaper",))]))
    results, _ = rate([usage("v1", "voice", 60, "min")], state, book)
    assert summary(results["v1"]) == {"status": "rated", "rated": "40", "refused": "20", "amount": "2.00",
                                      "reasons": ["spendCapReached"]}


def test_a_record_crossing_a_change_of_rate_and_a_cap_is_cut_at_the_rate_it_started_with() -> None:
    book = book_of(RULES.replace("          - id: stop\n            at: 5", CHEAPER))
    state = RatingState({}, dict([total("spend", 10, "1.00")]))
    results, _ = rate([usage("v1", "voice", 60, "min"), usage("v2", "voice", 1, "min", 90)], state, book)
    assert summary(results["v1"]) == {"status": "rated", "rated": "40", "refused": "20", "amount": "4.00",
                                      "reasons": ["spendCapReached"]}
    assert [e.threshold for e in results["v1"].events] == ["cheaper", "stop"]
    assert summary(results["v2"])["reasons"] == ["spendCapReached"]


# ------------------------------------------------------------------------------ in bulk


def test_bulk_rating_cuts_at_the_cap_without_the_reference() -> None:
    records = [usage("d1", "data", 700, "MB"), usage("d2", "data", "0.5", "GB", 1), usage("d3", "data", 1, "MB", 2),
               usage("v1", "voice", 300, "s", 3)]
    state = RatingState({}, dict([total("spend", 48, "4.80")]))
    frame, _ = rate_chunk(records_frame(records), subscribers_frame(SUBSCRIBERS), BOOK,
                          BulkState.from_rating_state(state))
    assert set(frame["rated_by"]) == {"bulk"}
    assert frame["refused_volume"].to_list() == [0, D("0.2"), 0, 180]
    assert frame["reason_code"].to_list() == [None, "dataCapReached", "dataCapReached", "spendCapReached"]


def test_the_rated_file_states_the_refused_part(tmp_path: Path) -> None:
    (tmp_path / "usage.csv").write_text("id,subscriber,service,start,volume,unit\n"
                                        "d1,paul,data,2026-06-10T08:00:00Z,700,MB\n"
                                        "d2,paul,data,2026-06-10T09:00:00Z,0.5,GB\n", encoding="utf-8")
    (tmp_path / "subscribers.csv").write_text("id,payers\npaul,\"{\"\"payer\"\": \"\"BA-PAUL\"\"}\"\n",
                                              encoding="utf-8")
    summary_ = rate_file(BOOK, tmp_path / "usage.csv", tmp_path / "subscribers.csv", tmp_path / "rated.csv")
    assert (summary_.rated, summary_.partly_rated) == (2, 1)
    lines = (tmp_path / "rated.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    assert "refusedVolume" in header
    d2 = next(line for line in lines if line.startswith("d2,"))
    assert ",300,0.2,3.00," in d2 and "dataCapReached" in d2
