"""Rating at the edges of amounts and volumes, checked against docs/pricing.md by hand.

- Tiers: graduated prices each unit at its own tier; volume prices every unit at the tier
  the whole volume falls in, a volume equal to an ``upTo`` falling in that tier; a record
  sent in another unit is converted exactly first (5,000,000 kB are 5 GB).
- Rounding: half-up to the currency's minor unit (cent, yen, thousandth of a KWD), once.
- Who rates: ``appliesTo``, prerequisites, the first rule whose ``when`` holds
  (``usage.volume`` as sent), the first rule set by id that rates.
- Thresholds reached at exactly ``at``; ``changeRate`` from the next record on; caps that
  cut a record (volume and amount), the refused part in the record's unit.
- Buckets valid from ``validFrom`` included to ``validTo`` excluded; money buckets down to
  their floor exactly, a charge never paid in part.
- Shares split to the cent by the largest remainder, ties to the first share, the parts
  adding up to the charge.

Every case is rated by the reference and in bulk, which must give the same.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from bssrules.pricing.usage import AccumulatorKey, Bucket, RatedUsage, RatingState, Subscriber, UsageRecord
from tests.unit.pricing.both_paths import at, book_of, rate

D = Decimal


def usage(id: str, service: str, volume: Any, unit: str | None = None, minute: int = 0, subscriber: str = "paul",
          start: str | None = None) -> UsageRecord:
    when = at(start) if start else dt.datetime(2026, 6, 10, 8, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=minute)
    return UsageRecord(id, subscriber, service, when, D(str(volume)), unit)


def outcome(result: RatedUsage) -> tuple[str, ...]:
    return (result.status, str(result.rated_volume), str(result.amount), str(result.refused_volume),
            ",".join(r["code"] for r in result.reasons))


# ============================================================================== tiers and units

TIERS = book_of("""
ruleSets:
  - id: video
    kind: usage
    rules:
      - id: graduated
        when: {usage.service: graduated}
        rate:
          currency: EUR
          per: GB
          tiers: [{upTo: 5, amount: 2.00}, {upTo: 20, amount: 1.50}, {amount: 1.00}]
      - id: volume
        when: {usage.service: volume}
        rate:
          currency: EUR
          per: GB
          tierMode: volume
          tiers: [{upTo: 5, amount: 2.00}, {upTo: 20, amount: 1.50}, {amount: 1.00}]
      - id: by-the-minute
        when: {usage.service: voice}
        rate:
          currency: EUR
          per: minute
          tiers: [{upTo: 1, amount: 1.00}, {amount: 0.50}]
""")


@pytest.mark.parametrize(("service", "volume", "unit", "amount"), [
    ("graduated", "5", "GB", "10.00"),
    ("graduated", "5000", "MB", "10.00"),
    ("graduated", "5000000", "kB", "10.00"),
    ("graduated", "5000000000", "B", "10.00"),
    ("graduated", "5000001", "kB", "10.00"),      # 10 + 0.000001 × 1.50 = 10.0000015
    ("graduated", "5.5", "GB", "10.75"),
    ("graduated", "20", "GB", "32.50"),           # 10 + 15 × 1.50
    ("graduated", "0.02", "TB", "32.50"),
    ("graduated", "20.001", "GB", "32.50"),       # 32.50 + 0.001
    ("graduated", "20.005", "GB", "32.51"),       # 32.505, half-up
    ("volume", "5", "GB", "10.00"),               # equal to upTo: the first tier
    ("volume", "5000", "MB", "10.00"),
    ("volume", "4.999999999", "GB", "10.00"),     # 9.999999998
    ("volume", "5000001", "kB", "7.50"),          # 5.000001 × 1.50 = 7.5000015
    ("volume", "20000", "MB", "30.00"),
    ("volume", "20000.000001", "MB", "20.00"),    # beyond 20 GB: every GB at 1.00
    ("voice", "60", "s", "1.00"),
    ("voice", "120", "s", "1.50"),
    ("voice", "90", "s", "1.25"),
])
def test_tiers_at_their_exact_bounds_after_an_exact_conversion(service: str, volume: str, unit: str,
                                                                 amount: str) -> None:
    results, _ = rate(TIERS, [usage("r", service, volume, unit)])
    assert str(results["r"].amount) == amount


UNITS = book_of("""
ruleSets:
  - id: units
    kind: usage
    rules:
      - {id: kb, when: {usage.service: kb}, rate: {amount: 0.001, currency: EUR, per: kB}}
      - {id: yen, when: {usage.service: yen}, rate: {amount: 0.5, currency: JPY, per: s}}
      - {id: dinar, when: {usage.service: dinar}, rate: {amount: 0.0005, currency: KWD, per: MB}}
      - {id: minute, when: {usage.service: minute}, rate: {amount: 0.6, currency: EUR, per: minute}}
""")


@pytest.mark.parametrize(("service", "volume", "unit", "rated", "amount"), [
    ("kb", "1", "MB", "1000", "1.00"),
    ("kb", "1500", "B", "1.5", "0.00"),       # 0.0015
    ("kb", "5000", "B", "5", "0.01"),         # 0.005, half-up
    ("yen", "1", "s", "1", "1"),              # 0.5 yen, half-up
    ("yen", "3", "s", "3", "2"),              # 1.5 yen
    ("yen", "5", "s", "5", "3"),              # 2.5 yen
    ("yen", "1", "minute", "60", "30"),
    ("dinar", "3", "MB", "3", "0.002"),       # 0.0015 KWD, half-up to the thousandth
    ("dinar", "0.001", "GB", "1.000", "0.001"),
    ("minute", "90", "s", "1.5", "0.90"),
    ("minute", "100", "s", "1.666666666667", "1.00"),   # half-even to 12 decimals, then 1.0000000000002
    ("minute", "1", "h", "60", "36.00"),
])
def test_units_convert_exactly_and_the_charge_is_rounded_half_up_to_the_minor_unit(
        service: str, volume: str, unit: str, rated: str, amount: str) -> None:
    results, _ = rate(UNITS, [usage("r", service, volume, unit)])
    assert (str(results["r"].rated_volume), str(results["r"].amount)) == (rated, amount)


# ============================================================================== who rates

CLASSES = book_of("""
ruleSets:
  - id: a-gold
    kind: usage
    timeZone: Europe/Paris
    appliesTo: {party.classification: {in: [GOLD, VIP]}}
    prerequisites:
      - id: has-plan
        when: {inventory.activeOfferings: {containsAny: [plan-a, plan-b]}}
        reason: {code: noPlan, label: A plan is needed}
      - id: has-data
        when: {inventory.activeOfferings: data-option}
        reason: {code: noDataOption, label: The data option is needed}
    rules:
      - id: gold-weekend
        when: {usage.service: data, usage.start: {dayOfWeek: [sat, sun]}}
        rate: {amount: 0, currency: EUR, per: MB}
      - id: gold-big
        when: {usage.service: data, usage.volume: {gte: 1000}}
        rate: {amount: 0.001, currency: EUR, per: MB}
      - id: gold
        when: {usage.service: data}
        rate: {amount: 0.005, currency: EUR, per: MB}
  - id: b-rest
    kind: usage
    appliesTo: {party.classification: {ne: VIP}}
    rules:
      - id: std
        when: {usage.service: data}
        rate: {amount: 0.01, currency: EUR, per: MB}
""")
CLASSED = {
    "gold": Subscriber("gold", classification="GOLD", active_offerings=("plan-a", "data-option"), payers={"payer": "BA-G"}),
    "gold-no-plan": Subscriber("gold-no-plan", classification="GOLD", active_offerings=("data-option",),
                               payers={"payer": "BA-G2"}),
    "vip": Subscriber("vip", classification="VIP", payers={"payer": "BA-V"}),
    "nobody": Subscriber("nobody", payers={"payer": "BA-N"}),
}


def test_class_conditions_prerequisites_and_the_first_rule_set_by_id_that_rates() -> None:
    results, _ = rate(CLASSES, [
        usage("g1", "data", 10, "MB", subscriber="gold", start="2026-03-28T22:59:59Z"),   # Sat 23:59:59 CET
        usage("g2", "data", 10, "MB", subscriber="gold", start="2026-03-29T21:59:59Z"),   # Sun 23:59:59 CEST
        usage("g3", "data", 10, "MB", subscriber="gold", start="2026-03-29T22:00:00Z"),   # Mon 00:00 CEST
        usage("g4", "data", 1000, "MB", subscriber="gold", start="2026-03-30T10:00:00Z"),
        usage("g5", "data", 1, "GB", subscriber="gold", start="2026-03-30T10:01:00Z"),    # usage.volume is 1, as sent
        usage("g6", "data", "999.999", "MB", subscriber="gold", start="2026-03-30T10:02:00Z"),
        usage("h1", "data", 10, "MB", subscriber="gold-no-plan", start="2026-03-30T10:00:00Z"),
        usage("v1", "data", 10, "MB", subscriber="vip", start="2026-03-30T10:00:00Z"),
        usage("n1", "data", 10, "MB", subscriber="nobody", start="2026-03-30T10:00:00Z"),
    ], subscribers=CLASSED)
    assert {k: (r.rule, str(r.amount)) for k, r in results.items() if r.status == "rated"} == {
        "g1": ("gold-weekend", "0.00"), "g2": ("gold-weekend", "0.00"), "g3": ("gold", "0.05"),
        "g4": ("gold-big", "1.00"), "g5": ("gold", "5.00"), "g6": ("gold", "5.00"),
        "h1": ("std", "0.10"),   # the gold catalog's prerequisite fails, the next by id rates
    }
    # a VIP fails both prerequisites of the gold catalog, which say more than b-rest's notApplicable
    assert [r["code"] for r in results["v1"].reasons] == ["noPlan", "noDataOption"]
    # no classification: `in` and `ne` are both false on an absent attribute
    assert {r["code"] for r in results["n1"].reasons} == {"notApplicable"}


# ============================================================================== thresholds and caps

THRESHOLDS = book_of("""
ruleSets:
  - id: m
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - id: vol
        measure: volume
        when: {usage.service: data}
        thresholds:
          - {id: n100, at: 100, action: notify}
          - {id: cr200, at: 200, action: changeRate, rate: {amount: 0.001, currency: EUR, per: MB}}
          - {id: b300, at: 300, action: block, reason: {code: dataBlocked, label: 300 MB a month}}
      - id: cap
        measure: volume
        when: {usage.service: capped}
        thresholds:
          - {id: c1, at: 1, action: block, crossing: rateUpToCap, reason: {code: capGB, label: 1 GB a month}}
      - id: spend
        measure: amount
        when: {usage.service: voice}
        thresholds:
          - {id: s1, at: 1, action: block, crossing: rateUpToCap, reason: {code: spend, label: 1 EUR a month}}
    rules:
      - {id: data, when: {usage.service: data}, rate: {amount: 0.01, currency: EUR, per: MB}}
      - {id: capped, when: {usage.service: capped}, rate: {amount: 1, currency: EUR, per: GB}}
      - {id: voice, when: {usage.service: voice}, rate: {amount: 0.07, currency: EUR, per: minute}}
""")


def test_thresholds_reached_exactly_notify_change_the_rate_from_the_next_record_and_block() -> None:
    results, state = rate(THRESHOLDS, [
        usage("d1", "data", 100, "MB", 0),        # 100: notify
        usage("d2", "data", "99.999", "MB", 1),   # 199.999
        usage("d3", "data", "0.001", "MB", 2),    # 200 exactly: still the rule's rate, 0.00001
        usage("d4", "data", 100, "MB", 3),        # at 0.001: 0.10, reaches 300, still rated
        usage("d5", "data", 0, "MB", 4),          # blocked, even of no volume
    ])
    assert {k: outcome(r) for k, r in results.items()} == {
        "d1": ("rated", "100", "1.00", "0", ""), "d2": ("rated", "99.999", "1.00", "0", ""),
        "d3": ("rated", "0.001", "0.00", "0", ""), "d4": ("rated", "100", "0.10", "0", ""),
        "d5": ("rejected", "0", "0", "0", "dataBlocked")}
    assert [[e.threshold for e in results[k].events] for k in ("d1", "d2", "d3", "d4")] == [
        ["n100"], [], ["cr200"], ["b300"]]
    assert state.accumulators[AccumulatorKey("m/vol", "paul", "2026-06")].volume == D(300)


def test_caps_cut_the_crossing_record_in_its_own_unit_and_refuse_the_rest() -> None:
    results, state = rate(THRESHOLDS, [
        usage("c1", "capped", 333, "MB", 0),
        usage("c2", "capped", 333, "MB", 1),
        usage("c3", "capped", 335, "MB", 2),    # 334 MB left below 1 GB
        usage("c4", "capped", 1, "MB", 3),
        usage("v1", "voice", 10, "minute", 0),  # 0.70
        usage("v2", "voice", 10, "minute", 1),  # 0.30 left: 0.30 / 0.07 = 4.285714 minutes (millionths)
        usage("v3", "voice", 1, "s", 2),
    ])
    assert {k: outcome(r) for k, r in results.items()} == {
        "c1": ("rated", "0.333", "0.33", "0", ""), "c2": ("rated", "0.333", "0.33", "0", ""),
        "c3": ("rated", "0.334", "0.33", "1", "capGB"), "c4": ("rejected", "0", "0", "0", "capGB"),
        "v1": ("rated", "10", "0.70", "0", ""), "v2": ("rated", "4.285714", "0.30", "5.714286", "spend"),
        "v3": ("rejected", "0", "0", "0", "spend")}
    assert state.accumulators[AccumulatorKey("m/cap", "paul", "2026-06")].volume == D(1)


def test_an_amount_cap_cuts_a_record_sent_in_seconds_at_millionths_of_the_rates_minute() -> None:
    results, _ = rate(THRESHOLDS, [usage("w1", "voice", 900, "s")])
    # 1 EUR at 0.07 a minute: 14.285714 minutes (0.99999998 EUR), 857.14284 s; 42.85716 s refused
    assert outcome(results["w1"]) == ("rated", "14.285714", "1.00", "42.85716", "spend")


def test_a_capped_month_ends_at_local_midnight() -> None:
    results, _ = rate(THRESHOLDS, [usage("x1", "capped", 2, "GB", start="2026-06-30T21:59:59Z"),
                                   usage("x2", "capped", 2, "GB", start="2026-06-30T22:00:00Z")])
    assert [(outcome(r), r.events[0].period) for r in results.values()] == [
        (("rated", "1", "1.00", "1", "capGB"), "2026-06"), (("rated", "1", "1.00", "1", "capGB"), "2026-07")]


TIERED_CAP = book_of("""
ruleSets:
  - id: m
    kind: usage
    accumulators:
      - id: spend
        measure: amount
        when: {usage.service: data}
        thresholds:
          - {id: stop, at: 10, action: block, crossing: rateUpToCap, reason: {code: spend, label: 10 EUR a month}}
    rules:
      - id: data
        when: {usage.service: data}
        rate: {currency: EUR, per: GB, tiers: [{upTo: 1, amount: 6}, {amount: 3}]}
""")


def test_an_amount_cap_follows_the_tiers_and_a_unit_bucket_serves_the_first_units() -> None:
    # 3 GB would cost 6 + 2 × 3 = 12: 1 + 4/3 GB fit 10 EUR, in millionths of a GB 2.333333 (9.999999)
    results, _ = rate(TIERED_CAP, [usage("a", "data", 3, "GB")])
    assert outcome(results["a"]) == ("rated", "2.333333", "10.00", "0.666667", "spend")
    # 500 MB from the bucket first, then 2.333333 GB charged: 2833.333 MB rated, 166.667 MB refused
    state = RatingState(buckets={"b": Bucket("b", "paul", "MB", D(500))})
    results, new_state = rate(TIERED_CAP, [usage("b", "data", 3000, "MB")], state)
    assert outcome(results["b"]) == ("rated", "2.333333", "10.00", "166.667", "spend")
    assert [(b, str(v)) for b, v in results["b"].buckets] == [("b", "500")]
    assert new_state.buckets["b"].remaining == 0


TOTAL_TIERS = book_of("""
ruleSets:
  - id: m
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - id: md
        measure: volume
        when: {usage.service: data}
        thresholds:
          - id: cr
            at: 1000
            action: changeRate
            rate:
              currency: EUR
              per: GB
              tiersCount: {accumulator: md}
              tiers: [{upTo: 2, amount: 1.00}, {amount: 0.50}]
          - {id: cap, at: 3000, action: block, crossing: rateUpToCap, reason: {code: cap, label: 3 GB a month}}
    rules:
      - id: data
        when: {usage.service: data}
        rate:
          currency: EUR
          per: MB
          tiersCount: {accumulator: md}
          tiers: [{upTo: 1000, amount: 0.02}, {amount: 0.01}]
""")


def test_a_changed_rate_counts_the_months_total_in_its_own_unit_up_to_a_cap() -> None:
    results, state = rate(TOTAL_TIERS, [
        usage("a", "data", 1000, "MB", 0),     # exactly the first tier: 20.00, reaches cr
        usage("b", "data", "1.5", "GB", 1),    # 1 GB -> 2.5 GB: 1 × 1.00 + 0.5 × 0.50
        usage("c", "data", 1000, "MB", 2),     # 2.5 -> 3 GB (the cap): 0.5 × 0.50, 500 MB refused
        usage("d", "data", 1, "MB", 3),
    ])
    assert {k: outcome(r) for k, r in results.items()} == {
        "a": ("rated", "1000", "20.00", "0", ""), "b": ("rated", "1.5", "1.25", "0", ""),
        "c": ("rated", "0.5", "0.25", "500", "cap"), "d": ("rejected", "0", "0", "0", "cap")}
    assert state.accumulators[AccumulatorKey("m/md", "paul", "2026-06")].volume == D(3000)


# ============================================================================== buckets and money

BUCKETS = book_of("""
ruleSets:
  - id: m
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - {id: month-data, measure: volume, when: {usage.service: data}}
    rules:
      - id: data
        when: {usage.service: data}
        rate:
          currency: EUR
          per: MB
          tiersCount: {accumulator: month-data}
          tiers: [{upTo: 1000, amount: 0.02}, {upTo: 2000, amount: 0.01}, {amount: 0.005}]
      - {id: sms, when: {usage.service: sms}, rate: {amount: 0.10, currency: EUR, per: message}}
""")


def test_buckets_serve_from_valid_from_included_and_money_goes_down_to_the_floor_exactly() -> None:
    state = RatingState(buckets={
        "day": Bucket("day", "paul", "MB", D(300), services=("data",),
                      valid_from=at("2026-06-15T00:00:00+02:00"), valid_to=at("2026-06-16T00:00:00+02:00")),
        "late": Bucket("late", "paul", "MB", D(50), services=("data",), valid_to=at("2026-06-15T21:59:59Z")),
        "eur": Bucket("eur", "paul", "EUR", D("0.30"), services=("sms",), floor=D("-0.20")),
    })
    results, new_state = rate(BUCKETS, [
        usage("d1", "data", 1000, "MB", start="2026-06-14T21:59:59Z"),  # day not yet valid; late takes 50
        usage("d2", "data", 500, "MB", start="2026-06-14T22:00:00Z"),   # 00:00 on the 15th: day serves 300
        usage("d3", "data", "0.7", "GB", start="2026-06-15T21:59:59Z"),  # both used up: 1500 -> 2200
        usage("d4", "data", 1, "MB", start="2026-06-30T21:59:59Z"),     # June, third tier: 0.005
        usage("d5", "data", 1, "MB", start="2026-06-30T22:00:00Z"),     # July: first tier again
        usage("s1", "sms", 5, "message", start="2026-06-15T10:00:00Z"),  # 0.50: 0.30 -> -0.20, the floor
        usage("s2", "sms", 0, "message", start="2026-06-15T10:01:00Z"),  # nothing to pay
        usage("s3", "sms", 1, "message", start="2026-06-15T10:02:00Z"),  # never paid in part
    ], state)
    assert {k: (r.status, str(r.amount), str(r.prepaid), [(b, str(v)) for b, v in r.buckets])
            for k, r in results.items()} == {
        "d1": ("rated", "19.00", "0", [("late", "50")]),     # 950 MB of the first tier
        "d2": ("rated", "2.00", "0", [("day", "300")]),       # 1000 -> 1300: 200 at 0.01
        "d3": ("rated", "6.00", "0", []),                     # 500 × 0.01 + 200 × 0.005
        "d4": ("rated", "0.01", "0", []),                     # 0.005, half-up
        "d5": ("rated", "0.02", "0", []),
        "s1": ("rated", "0.50", "0.50", [("eur", "0.50")]),
        "s2": ("rated", "0.00", "0.00", []),
        "s3": ("rejected", "0", "0", []),
    }
    assert [r["code"] for r in results["s3"].reasons] == ["insufficientBalance"]
    assert {k: str(b.remaining) for k, b in new_state.buckets.items()} == {"day": "0", "late": "0", "eur": "-0.20"}


def test_a_bucket_serves_until_just_before_valid_to() -> None:
    end = "2026-06-15T22:00:00Z"
    state = RatingState(buckets={"b": Bucket("b", "paul", "message", D(5), valid_to=at(end))})
    results, new_state = rate(BUCKETS, [usage("s1", "sms", 1, "message", start="2026-06-15T21:59:59.999999Z"),
                                        usage("s2", "sms", 1, "message", start=end)], state)
    assert [(str(r.amount), [(b, str(v)) for b, v in r.buckets]) for r in results.values()] == [
        ("0.00", [("b", "1")]), ("0.10", [])]
    assert new_state.buckets["b"].remaining == 4


# ============================================================================== shares

SHARES = book_of("""
ruleSets:
  - id: m
    kind: usage
    rules:
      - {id: cent, when: {usage.service: cent}, rate: {amount: 0.01, currency: EUR}}
      - {id: yen, when: {usage.service: yen}, rate: {amount: 1, currency: JPY}}
      - {id: fils, when: {usage.service: fils}, rate: {amount: 0.001, currency: KWD}}
  - id: split
    kind: splitBilling
    default: a
    rules:
      - {id: thirds, when: {charge.service: cent}, shares: [{payer: a, weight: 1}, {payer: b, weight: 1}, {payer: c, weight: 1}]}
      - {id: uneven, when: {charge.service: yen}, shares: [{payer: a, weight: 33.3}, {payer: b, weight: 33.3}, {payer: c, weight: 33.4}]}
      - {id: ninths, when: {charge.service: fils}, shares: [{payer: a, weight: 2}, {payer: b, weight: 7}]}
""")
FAMILY = {"f": Subscriber("f", payers={"a": "BA-A", "b": "BA-B", "c": "BA-C"}, split_billing="split")}


@pytest.mark.parametrize(("service", "count", "parts"), [
    ("cent", 1, ["0.01", "0.00", "0.00"]),     # three equal remainders: the first share
    ("cent", 2, ["0.01", "0.01", "0.00"]),
    ("cent", 4, ["0.02", "0.01", "0.01"]),
    ("cent", 5, ["0.02", "0.02", "0.01"]),
    ("cent", 100, ["0.34", "0.33", "0.33"]),
    ("cent", 101, ["0.34", "0.34", "0.33"]),
    ("yen", 1, ["0", "0", "1"]),               # 0.333, 0.333, 0.334: the largest remainder
    ("yen", 2, ["1", "0", "1"]),               # 0.666, 0.666, 0.668: c, then a (tie, first)
    ("yen", 3, ["1", "1", "1"]),
    ("yen", 100, ["33", "33", "34"]),
    ("fils", 1, ["0.000", "0.001"]),           # 2/9 and 7/9 of a fils
    ("fils", 5, ["0.001", "0.004"]),           # 1.11 and 3.89 fils
    ("fils", 10, ["0.002", "0.008"]),          # 2.22 and 7.78 fils
])
def test_shares_are_split_to_the_minor_unit_by_the_largest_remainder_and_add_up(
        service: str, count: int, parts: list[str]) -> None:
    results, _ = rate(SHARES, [usage("r", service, count, subscriber="f")], subscribers=FAMILY)
    result = results["r"]
    assert [str(c.amount) for c in result.charges] == parts
    assert sum(c.amount for c in result.charges) == result.amount


ROUNDED_SPLIT = book_of("""
ruleSets:
  - id: m
    kind: usage
    rules:
      - {id: x, when: {usage.service: x}, rate: {amount: 0.001, currency: EUR, per: MB}}
  - id: sb
    kind: splitBilling
    validFor: {end: "2026-07-01T00:00:00+02:00"}
    default: holder
    rules:
      - {id: big, when: {charge.amount: {gte: 10}}, payer: employer}
""")


def test_split_billing_sees_the_rounded_charge_and_is_in_force_until_its_end_excluded() -> None:
    subscribers = {"f": Subscriber("f", payers={"holder": "BA-H", "employer": "BA-E"}, split_billing="sb")}
    results, _ = rate(ROUNDED_SPLIT, [
        usage("a", "x", 9995, "MB", subscriber="f", start="2026-06-10T10:00:00Z"),       # 9.995: 10.00
        usage("b", "x", "9994.999", "MB", subscriber="f", start="2026-06-10T10:01:00Z"),  # 9.994999: 9.99
        usage("c", "x", 100, "MB", subscriber="f", start="2026-06-30T21:59:59Z"),
        usage("d", "x", 100, "MB", subscriber="f", start="2026-06-30T22:00:00Z"),        # July in Paris
    ], subscribers=subscribers)
    assert {k: (r.status, [(c.payer, str(c.amount)) for c in r.charges], [x["code"] for x in r.reasons])
            for k, r in results.items()} == {
        "a": ("rated", [("employer", "10.00")], []), "b": ("rated", [("holder", "9.99")], []),
        "c": ("rated", [("holder", "0.10")], []), "d": ("rejected", [], ["noSplitBilling"])}
