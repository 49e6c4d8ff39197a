"""Rating at the edges of time, checked against docs/pricing.md and docs/rules-format.md by hand.

- ``timeOfDay`` windows hold from their ``from`` minute to their ``to`` minute, both included
  (seconds ignored), read in the rule set's ``timeZone``; ``from`` later than ``to`` wraps
  over midnight (rules-format.md, "Times of day").
- Across a daylight-saving change the window and the day of week are read on the local
  clock: on the fall-back day (Paris, 2026-10-25) the local 02:30 exists twice, once at
  +02:00 and once at +01:00, and both are 02:30; on the spring-forward day (2026-03-29) the
  local clock jumps from 01:59:59 to 03:00.
- Accumulator periods (``day``, ``month``) are the local day and month of the rule set's
  time zone: the fall-back day is one day of 25 hours; a month ends at local midnight.
- A version of a usage rule set is in force from its ``validFor.start`` (included) to its
  ``end`` (excluded), and so is a rule with a ``validFor``.

Every case is rated by the reference and in bulk, which must give the same.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bssrules.pricing.usage import AccumulatorKey, RatingState, UsageRecord
from tests.unit.pricing.both_paths import at, book_of, rate

D = Decimal


def usage(id: str, service: str, start: str, volume: Any = 1, unit: str | None = None) -> UsageRecord:
    return UsageRecord(id, "paul", service, at(start), D(str(volume)), unit)


def totals(state: RatingState) -> dict[tuple[str, str], tuple[str, str]]:
    return {(k.accumulator, k.period): (str(t.volume), str(t.amount)) for k, t in state.accumulators.items()}


# ============================================================================== windows

NIGHT = book_of("""
ruleSets:
  - id: calls
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - {id: daily, measure: volume, period: day, when: {usage.service: voice}}
      - {id: monthly, measure: volume, period: month, when: {usage.service: voice}}
    rules:
      - id: night
        when: {usage.service: voice, usage.start: {timeOfDay: {from: "22:00", to: "05:59"}}}
        rate: {amount: 0.01, currency: EUR, per: minute}
      - id: day
        when: {usage.service: voice}
        rate: {amount: 0.10, currency: EUR, per: minute}
""")


@pytest.mark.parametrize(("start", "rule"), [
    ("2026-06-01T21:59:59+02:00", "day"),      # a second before the window
    ("2026-06-01T22:00:00+02:00", "night"),    # its first instant
    ("2026-06-01T23:59:59+02:00", "night"),
    ("2026-06-02T00:00:00+02:00", "night"),    # over midnight, still the window
    ("2026-06-02T05:59:00+02:00", "night"),    # the `to` minute is included ...
    ("2026-06-02T05:59:59.999999+02:00", "night"),  # ... to its last microsecond
    ("2026-06-02T06:00:00+02:00", "day"),
    ("2026-06-02T03:59:59Z", "night"),         # 05:59:59 in Paris
    ("2026-06-02T04:00:00Z", "day"),           # 06:00 in Paris
    ("2026-06-01T20:00:00Z", "night"),         # 22:00 in Paris, 20:00 in UTC
])
def test_a_window_over_midnight_holds_from_its_first_to_the_end_of_its_last_minute_in_the_rule_sets_zone(
        start: str, rule: str) -> None:
    results, _ = rate(NIGHT, [usage("r", "voice", start, 1, "minute")])
    assert (results["r"].rule, str(results["r"].amount)) == (rule, "0.01" if rule == "night" else "0.10")


@pytest.mark.parametrize(("start", "rule"), [
    # spring forward, Sunday 29 March 2026: 02:00 CET is 03:00 CEST
    ("2026-03-28T20:59:59Z", "day"),     # 21:59:59 CET
    ("2026-03-28T21:00:00Z", "night"),   # 22:00 CET
    ("2026-03-29T00:59:59Z", "night"),   # 01:59:59 CET, the last second before the jump
    ("2026-03-29T01:00:00Z", "night"),   # 03:00 CEST, the first after it
    ("2026-03-29T03:59:59Z", "night"),   # 05:59:59 CEST
    ("2026-03-29T04:00:00Z", "day"),     # 06:00 CEST: an hour earlier in UTC than the day before
    ("2026-03-28T05:00:00Z", "day"),     # 06:00 CET the day before
    # fall back, Sunday 25 October 2026: 03:00 CEST is 02:00 CET
    ("2026-10-25T02:30:00+02:00", "night"),  # the first 02:30
    ("2026-10-25T02:30:00+01:00", "night"),  # the second 02:30, an hour later
    ("2026-10-25T04:59:59Z", "night"),   # 05:59:59 CET
    ("2026-10-25T05:00:00Z", "day"),     # 06:00 CET
    ("2026-10-24T19:59:59Z", "day"),     # 21:59:59 CEST the evening before
    ("2026-10-24T20:00:00Z", "night"),   # 22:00 CEST
    ("2026-10-25T20:59:59Z", "day"),     # 21:59:59 CET the evening after
    ("2026-10-25T21:00:00Z", "night"),   # 22:00 CET
])
def test_the_window_is_read_on_the_local_clock_across_both_daylight_saving_changes(start: str, rule: str) -> None:
    results, _ = rate(NIGHT, [usage("r", "voice", start, 1, "minute")])
    assert results["r"].rule == rule


def test_the_fall_back_day_is_one_day_of_25_hours_and_a_month_ends_at_local_midnight() -> None:
    records = [
        usage("a", "voice", "2026-10-24T21:59:59Z", 1, "minute"),   # 23:59:59 CEST, 24 October
        usage("b", "voice", "2026-10-24T22:00:00Z", 1, "minute"),   # 00:00 CEST, 25 October
        usage("c", "voice", "2026-10-25T02:30:00+02:00", 1, "minute"),
        usage("d", "voice", "2026-10-25T02:30:00+01:00", 1, "minute"),
        usage("e", "voice", "2026-10-25T12:00:00+01:00", 1, "minute"),   # day rate
        usage("f", "voice", "2026-10-25T22:59:59Z", 1, "minute"),   # 23:59:59 CET, still 25 October
        usage("g", "voice", "2026-10-25T23:00:00Z", 1, "minute"),   # 00:00 CET, 26 October
        usage("h", "voice", "2026-10-31T22:59:59Z", 1, "minute"),   # 23:59:59 CET, 31 October
        usage("i", "voice", "2026-10-31T23:00:00Z", 1, "minute"),   # 00:00 CET, 1 November
        usage("j", "voice", "2026-03-31T21:59:59Z", 1, "minute"),   # 23:59:59 CEST, 31 March
        usage("k", "voice", "2026-03-31T22:00:00Z", 1, "minute"),   # 00:00 CEST, 1 April
    ]
    _, state = rate(NIGHT, records)
    assert totals(state) == {
        ("calls/daily", "2026-10-24"): ("1", "0.01"),
        ("calls/daily", "2026-10-25"): ("5", "0.14"),   # b, c, d, f at night, e by day: 4 × 0.01 + 0.10
        ("calls/daily", "2026-10-26"): ("1", "0.01"),
        ("calls/daily", "2026-10-31"): ("1", "0.01"),
        ("calls/daily", "2026-11-01"): ("1", "0.01"),
        ("calls/daily", "2026-03-31"): ("1", "0.01"),
        ("calls/daily", "2026-04-01"): ("1", "0.01"),
        ("calls/monthly", "2026-10"): ("8", "0.17"),
        ("calls/monthly", "2026-11"): ("1", "0.01"),
        ("calls/monthly", "2026-03"): ("1", "0.01"),
        ("calls/monthly", "2026-04"): ("1", "0.01"),
    }


EDGES = book_of("""
ruleSets:
  - id: edges
    kind: usage
    timeZone: America/New_York
    rules:
      - id: noon
        when: {usage.service: x, usage.start: {timeOfDay: {from: "12:00", to: "12:00"}}}
        rate: {amount: 1, currency: USD}
      - id: late
        when: {usage.service: x, usage.start: {timeOfDay: {from: "23:00", to: "0:00"}}}
        rate: {amount: 2, currency: USD}
      - id: one-am
        when: {usage.service: x, usage.start: {timeOfDay: {from: "1:00", to: "1:59"}}}
        rate: {amount: 3, currency: USD}
      - id: sunday
        when: {usage.service: x, usage.start: {dayOfWeek: sun}}
        rate: {amount: 4, currency: USD}
      - id: other
        when: {usage.service: x}
        rate: {amount: 5, currency: USD}
""")


@pytest.mark.parametrize(("start", "rule"), [
    ("2026-06-03T11:59:59.999999-04:00", "other"),
    ("2026-06-03T12:00:00-04:00", "noon"),         # a window of one minute
    ("2026-06-03T12:00:59.999999-04:00", "noon"),
    ("2026-06-03T12:01:00-04:00", "other"),
    ("2026-06-03T22:59:59-04:00", "other"),
    ("2026-06-03T23:00:00-04:00", "late"),
    ("2026-06-04T00:00:59-04:00", "late"),         # "0:00" is midnight's minute, included
    ("2026-06-04T00:01:00-04:00", "other"),
    # New York falls back on Sunday 1 November 2026: 01:30 happens twice, both in the window
    ("2026-11-01T01:30:00-04:00", "one-am"),
    ("2026-11-01T01:30:00-05:00", "one-am"),
    ("2026-11-01T07:00:00Z", "sunday"),            # 02:00 EST
    # and springs forward on Sunday 8 March 2026: 02:00 EST is 03:00 EDT
    ("2026-03-08T06:59:59Z", "one-am"),            # 01:59:59 EST
    ("2026-03-08T07:00:00Z", "sunday"),            # 03:00 EDT
    ("2026-03-09T03:59:59Z", "late"),              # 23:59:59 EDT, still Sunday 8 March
    ("2026-03-09T04:30:00Z", "other"),             # 00:30 EDT, Monday
])
def test_windows_of_one_minute_ending_at_midnight_and_days_of_week_across_new_york_changes(
        start: str, rule: str) -> None:
    results, _ = rate(EDGES, [usage("r", "x", start)])
    assert results["r"].rule == rule


def test_a_rule_set_without_a_time_zone_reads_its_windows_in_utc() -> None:
    book = book_of("""
ruleSets:
  - id: utc
    kind: usage
    rules:
      - id: night
        when: {usage.service: data, usage.start: {timeOfDay: {from: "23:00", to: "00:59"}}}
        rate: {amount: 0.002, currency: EUR, per: MB}
      - id: std
        when: {usage.service: data}
        rate: {amount: 0.01, currency: EUR, per: MB}
""")
    results, _ = rate(book, [
        usage("a", "data", "2026-03-30T22:59:59Z", 10, "MB"),
        usage("b", "data", "2026-03-31T01:00:00+02:00", 10, "MB"),   # 23:00 UTC
        usage("c", "data", "2026-03-31T00:59:59Z", 10, "MB"),
        usage("d", "data", "2026-03-31T01:00:00Z", 10, "MB"),
    ])
    assert {k: (r.rule, str(r.amount)) for k, r in results.items()} == {
        "a": ("std", "0.10"), "b": ("night", "0.02"), "c": ("night", "0.02"), "d": ("std", "0.10")}


# ============================================================================== versions and periods

VERSIONS = book_of("""
ruleSets:
  - id: movies
    kind: usage
    version: 1
    validFor: {end: "2026-09-01T00:00:00+02:00"}
    accumulators:
      - {id: spend, measure: amount, thresholds: [{id: cap, at: 8, action: block, reason: {code: movieCap, label: 8 EUR a month}}]}
    rules:
      - id: movie
        when: {usage.service: movie}
        rate: {amount: 4.00, currency: EUR, per: movie}
  - id: movies
    kind: usage
    version: 2
    validFor: {start: "2026-09-01T00:00:00+02:00"}
    timeZone: Europe/Paris
    accumulators:
      - {id: spend, measure: amount, thresholds: [{id: cap, at: 8, action: block, reason: {code: movieCap, label: 8 EUR a month}}]}
    rules:
      - id: promo
        validFor: {start: "2026-09-02T00:00:00+02:00", end: "2026-09-03T00:00:00+02:00"}
        when: {usage.service: movie}
        rate: {amount: 1.00, currency: EUR, per: movie}
      - id: movie
        when: {usage.service: movie}
        rate: {amount: 4.50, currency: EUR, per: movie}
""")


@pytest.mark.parametrize(("start", "rule", "amount"), [
    ("2026-08-31T21:59:59Z", "movie", "4.00"),   # 23:59:59 in Paris: version 1
    ("2026-08-31T22:00:00Z", "movie", "4.50"),   # 00:00 in Paris: version 2 starts (included)
    ("2026-09-01T22:00:00Z", "promo", "1.00"),   # the promotion's first instant
    ("2026-09-02T21:59:59Z", "promo", "1.00"),   # its last second
    ("2026-09-02T22:00:00Z", "movie", "4.50"),   # its end is excluded
])
def test_a_version_and_a_rule_are_in_force_from_their_start_included_to_their_end_excluded(
        start: str, rule: str, amount: str) -> None:
    results, _ = rate(VERSIONS, [usage("r", "movie", start)])
    assert (results["r"].rule, str(results["r"].amount)) == (rule, amount)


def test_a_block_threshold_reached_exactly_blocks_the_next_record_of_the_local_month_only() -> None:
    results, state = rate(VERSIONS, [
        usage("a", "movie", "2026-09-01T10:00:00Z"),   # 4.50
        usage("b", "movie", "2026-09-01T11:00:00Z"),   # 9.00: reached, still rated
        usage("c", "movie", "2026-09-02T10:00:00Z"),   # blocked, whatever its rule
        usage("d", "movie", "2026-09-30T21:59:59Z"),   # 23:59:59 on 30 September in Paris: blocked
        usage("e", "movie", "2026-09-30T22:00:00Z"),   # 1 October in Paris: a new month
    ])
    assert {k: (r.status, str(r.amount), [x["code"] for x in r.reasons]) for k, r in results.items()} == {
        "a": ("rated", "4.50", []), "b": ("rated", "4.50", []), "c": ("rejected", "0", ["movieCap"]),
        "d": ("rejected", "0", ["movieCap"]), "e": ("rated", "4.50", [])}
    assert [(e.threshold, str(e.value), e.period) for e in results["b"].events] == [("cap", "9.00", "2026-09")]
    assert state.accumulators[AccumulatorKey("movies/spend", "paul", "2026-10")].amount == D("4.50")


DAILY_CAP = book_of("""
ruleSets:
  - id: calls
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - id: daily
        measure: volume
        period: day
        when: {usage.service: voice}
        thresholds:
          - {id: hour, at: 60, action: block, crossing: rateUpToCap, reason: {code: dailyCap, label: An hour a day}}
    rules:
      - id: voice
        when: {usage.service: voice}
        rate: {amount: 0.10, currency: EUR, per: minute}
""")


def test_a_daily_cap_reached_at_the_second_0230_of_the_fall_back_day_lasts_until_local_midnight() -> None:
    results, state = rate(DAILY_CAP, [
        usage("a", "voice", "2026-10-25T02:30:00+02:00", 40, "minute"),
        usage("b", "voice", "2026-10-25T02:30:00+01:00", 30, "minute"),   # 20 rated, 10 refused
        usage("c", "voice", "2026-10-25T23:59:59+01:00", 1, "minute"),    # same local day: rejected
        usage("d", "voice", "2026-10-26T00:00:00+01:00", 1, "minute"),    # next local day
    ])
    assert (results["b"].status, str(results["b"].rated_volume), str(results["b"].refused_volume),
            str(results["b"].amount)) == ("rated", "20", "10", "2.00")
    assert [x["code"] for x in results["c"].reasons] == ["dailyCap"]
    assert (results["d"].status, str(results["d"].amount)) == ("rated", "0.10")
    assert totals(state) == {("calls/daily", "2026-10-25"): ("60", "6.00"),
                             ("calls/daily", "2026-10-26"): ("1", "0.10")}
