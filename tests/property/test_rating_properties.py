"""Properties of the reference rating (bssrules.pricing.rating.rate_records) over generated
records, buckets and rates: money and units are conserved, charges are monotone in volume
for flat and graduated rates, accumulators hold exactly what they counted, and rating a
stream in one call or in two consecutive calls passing the state is the same. Graduated tiers
over the month's total charge each record what it adds on top of the month, and a month cut
into records costs, before rounding, what its total does.

Each runs on the catalog below and on its capped variant, whose roaming budget, home data and
daily messages stop at caps that rate the crossing record up to them (``crossing:
rateUpToCap``): a capped total never passes its cap, and what a cap refuses is accounted for.

The expected values are computed here independently of rating.py (payer parts with
:func:`bssrules.money.allocate`, periods with zoneinfo), from what the rule text says.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssrules.money import Money, allocate, quantum
from bssrules.pricing.rates import charge, exact_charge, tier_split
from bssrules.pricing.rating import rate_records, rating_order
from bssrules.pricing.usage import (
    AccumulatorKey, AccumulatorTotal, Bucket, RatedUsage, RatingState, Subscriber, UsageRecord,
)
from bssrules.rules.book import RuleBook
from bssrules.rules.project import load_project_texts
from bssrules.rules.model import Rate

RULES = """
ruleSets:
  - id: mobile
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - id: roaming-budget
        measure: amount
        period: month
        when: {usage.roaming: true}
        thresholds:
          - {id: warn-40, at: 40, action: notify}
          - id: stop-50
            at: 50
            action: block
            reason: {code: roamingBudgetReached, label: The data-roaming budget of 50 EUR is reached}
      - id: home-data
        measure: volume
        period: month
        when: {usage.service: data, not: {usage.roaming: true}}
        thresholds:
          - {id: slow-lane, at: 100, action: changeRate, rate: {amount: 0.001, currency: EUR, per: MB}}
      - id: daily-sms
        measure: volume
        period: day
        when: {usage.service: sms}
        thresholds:
          - {id: twenty, at: 20, action: notify}
    rules:
      - id: roaming-data
        when: {usage.service: data, usage.roaming: true}
        rate: {amount: 2.00, currency: EUR, per: MB}
      - id: home-data
        when: {usage.service: data}
        rate: {amount: 0.0123, currency: EUR, per: MB}
      - id: sms
        when: {usage.service: sms}
        rate: {amount: 0.10, currency: EUR, per: message}
      - id: voice
        when: {usage.service: voice}
        rate: {currency: EUR, per: minute, tiers: [{upTo: 10, amount: 0.07}, {upTo: 60, amount: 0.05}, {amount: 0.02}]}

  - id: family-split
    kind: splitBilling
    default: holder
    rules:
      - id: roaming-to-company
        when: {charge.usageType: roaming}
        payer: company
      - id: voice-shared
        when: {charge.service: voice}
        shares: [{payer: holder, weight: 70}, {payer: company, weight: 30}]
"""
CAPPED_RULES = RULES.replace("""            at: 50
            action: block
""", """            at: 50
            action: block
            crossing: rateUpToCap
""").replace("""          - {id: slow-lane, at: 100, action: changeRate, rate: {amount: 0.001, currency: EUR, per: MB}}
""", """          - {id: slow-lane, at: 100, action: changeRate, rate: {amount: 0.001, currency: EUR, per: MB}}
          - {id: home-cap, at: 110, action: block, crossing: rateUpToCap, reason: {code: homeDataCap, label: 110 MB}}
""").replace("""          - {id: twenty, at: 20, action: notify}
""", """          - {id: twenty, at: 20, action: notify}
          - {id: sms-cap, at: 30, action: block, crossing: rateUpToCap, reason: {code: smsCap, label: 30 a day}}
""")
BOOK = load_project_texts({"rules.yaml": RULES}).rules
CAPPED_BOOK = load_project_texts({"rules.yaml": CAPPED_RULES}).rules
CAPS = {"mobile/roaming-budget": ("stop-50", Decimal(50), "amount"),  # of the capped book: threshold, at, measure
        "mobile/home-data": ("home-cap", Decimal(110), "volume"),
        "mobile/daily-sms": ("sms-cap", Decimal(30), "volume")}
CAP_CODES = {"roamingBudgetReached", "homeDataCap", "smsCap"}
books = st.sampled_from([BOOK, CAPPED_BOOK])
PARIS = ZoneInfo("Europe/Paris")
UNITS = {"data": "MB", "sms": "message", "voice": "minute"}
SUBSCRIBERS = {
    "paul": Subscriber("paul", payers={"payer": "BA-PAUL"}),
    "fanny": Subscriber("fanny", payers={"holder": "BA-FANNY", "company": "BA-ACME"}, split_billing="family-split"),
    "pia": Subscriber("pia"),  # prepaid: money buckets only
    "hugo": Subscriber("hugo", payers={"holder": "BA-HUGO"}, split_billing="family-split"),  # no company account
}
BEGIN = dt.datetime(2026, 6, 28, tzinfo=dt.timezone.utc)  # the stream crosses the end of June in Paris
EXAMPLES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

volumes = st.decimals(min_value=0, max_value=5, places=2) | st.decimals(min_value=0, max_value=120, places=2)
amounts = st.decimals(min_value=0, max_value=30, places=2)
minutes = st.integers(0, 6 * 24 * 60)  # six days across the end of June in Paris


@st.composite
def streams(draw: Any, max_size: int = 30) -> list[UsageRecord]:
    rows = draw(st.lists(st.tuples(st.sampled_from(sorted(SUBSCRIBERS)), st.sampled_from(["data", "data", "sms",
                                                                                          "voice"]),
                                   minutes, volumes, st.booleans()), max_size=max_size))
    return [UsageRecord(f"u{i:03d}", subscriber, service, BEGIN + dt.timedelta(minutes=minute), volume,
                        unit=UNITS[service], roaming=roaming if service == "data" else None,
                        type="roaming" if service == "data" and roaming else None)
            for i, (subscriber, service, minute, volume, roaming) in enumerate(rows)]


@st.composite
def states(draw: Any) -> RatingState:
    buckets: list[Bucket] = []
    for subscriber in sorted(SUBSCRIBERS):
        for n in range(draw(st.integers(0, 3))):
            unit = draw(st.sampled_from(["MB", "message", "minute"]))
            valid_from = draw(st.none() | minutes.map(lambda m: BEGIN + dt.timedelta(minutes=m)))
            buckets.append(Bucket(f"{subscriber}-{unit}-{n}", subscriber, unit, draw(volumes),
                                  precedence=draw(st.integers(1, 3)),
                                  services=draw(st.sampled_from([(), ("data",), ("sms",), ("voice", "sms")])),
                                  valid_from=valid_from,
                                  valid_to=None if valid_from is None else valid_from + dt.timedelta(days=2)))
    for n in range(draw(st.integers(0, 2))):
        buckets.append(Bucket(f"pia-eur-{n}", "pia", "EUR", draw(amounts), precedence=draw(st.integers(1, 3)),
                              floor=draw(st.sampled_from([Decimal(0), Decimal(-5), None]))))
    totals: dict[AccumulatorKey, AccumulatorTotal] = {}
    for subscriber in draw(st.lists(st.sampled_from(sorted(SUBSCRIBERS)), unique=True)):
        spent = draw(st.sampled_from([Decimal("49.99"), Decimal(50), Decimal(55)])  # June's roaming so far
                     | st.decimals(min_value=0, max_value=60, places=2))
        reached = tuple(t for t, level in (("warn-40", 40), ("stop-50", 50)) if spent >= level)
        totals[AccumulatorKey("mobile/roaming-budget", subscriber, "2026-06")] = AccumulatorTotal(
            spent / 2, spent, reached)
    return RatingState({b.id: b for b in buckets}, totals)


def paris_period(instant: dt.datetime, period: str) -> str:
    return instant.astimezone(PARIS).strftime("%Y-%m" if period == "month" else "%Y-%m-%d")


def by_id(results: list[RatedUsage]) -> dict[str, RatedUsage]:
    return {r.record.id: r for r in results}


# --- conservation --------------------------------------------------------------------------


@EXAMPLES
@given(streams(), states(), books)
def test_every_record_is_kept_and_each_charge_adds_up_to_its_amount_less_the_prepaid_part(
        records: list[UsageRecord], state: RatingState, book: RuleBook) -> None:
    results, _ = rate_records(records, SUBSCRIBERS, book, state)
    assert sorted(r.record.id for r in results) == sorted(r.id for r in records)
    for result in results:
        record = result.record
        if result.status == "rejected":
            assert result.reasons and result.charges == () and result.buckets == () and result.events == ()
            continue
        assert result.amount == result.prepaid + result.billed
        assert result.amount == result.amount.quantize(Decimal("0.01"))
        assert all(c.amount >= 0 for c in result.charges)
        money_taken = sum((n for b, n in result.buckets if state.buckets[b].is_money), Decimal(0))
        units_taken = sum((n for b, n in result.buckets if not state.buckets[b].is_money), Decimal(0))
        assert money_taken == result.prepaid
        # what unit buckets took, what was charged and what a cap refused: the whole record
        assert units_taken + result.rated_volume + result.refused_volume == record.volume
        assert result.refused_volume >= 0
        assert [r["code"] for r in result.reasons] in ([], *([c] for c in CAP_CODES))
        assert bool(result.reasons) == (result.refused_volume > 0)
        if result.prepaid:
            assert result.charges == ()  # a prepaid charge is paid whole from money buckets


@EXAMPLES
@given(streams(), states(), books)
def test_each_billing_account_is_charged_the_sum_of_its_parts_per_period(records: list[UsageRecord],
                                                                        state: RatingState, book: RuleBook) -> None:
    """The parts are recomputed here from the split billing rules as written."""
    results, _ = rate_records(records, SUBSCRIBERS, book, state)
    charged: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for result in results:
        month = paris_period(result.record.start, "month")
        for c in result.charges:
            charged[(c.billing_account, month)] += c.amount
        if result.status != "rated" or not result.billed:
            continue
        subscriber, record = SUBSCRIBERS[result.record.subscriber], result.record
        if subscriber.split_billing is None:
            roles: list[tuple[str, int]] = [("payer", 1)]
        elif record.roaming:
            roles = [("company", 1)]
        elif record.service == "voice":
            roles = [("holder", 70), ("company", 30)]
        else:
            roles = [("holder", 1)]
        parts = allocate(Money(result.billed, "EUR"), [w for _, w in roles])
        assert sum((p.amount for p in parts), Decimal(0)) == result.billed
        for (role, _), part in zip(roles, parts):
            expected[(subscriber.payers[role], month)] += part.amount
    assert {k: v for k, v in charged.items() if v} == {k: v for k, v in expected.items() if v}
    # hugo's company role has no account: its roaming is never billed, always rejected
    for result in results:
        if result.record.subscriber == "hugo" and result.record.roaming and result.status == "rated":
            assert result.amount == 0 or result.prepaid == result.amount


@EXAMPLES
@given(streams(), states(), books)
def test_buckets_neither_create_nor_lose_units(records: list[UsageRecord], state: RatingState, book: RuleBook) -> None:
    results, new_state = rate_records(records, SUBSCRIBERS, book, state)
    taken: dict[str, Decimal] = defaultdict(Decimal)
    for result in results:
        for bucket_id, amount in result.buckets:
            assert amount > 0
            taken[bucket_id] += amount
    assert set(new_state.buckets) == set(state.buckets)
    for bucket_id, before in state.buckets.items():
        after = new_state.buckets[bucket_id]
        assert before.remaining == after.remaining + taken[bucket_id]
        assert after == Bucket(**{**before.__dict__, "remaining": after.remaining})  # only the balance changes
        if not before.is_money:
            assert after.remaining >= 0
        elif before.floor is not None:
            assert after.remaining >= min(before.floor, before.remaining)


# --- accumulators -----------------------------------------------------------------------------


@EXAMPLES
@given(streams(), states(), books)
def test_an_accumulator_holds_the_sum_of_what_the_records_it_counted(records: list[UsageRecord],
                                                                    state: RatingState, book: RuleBook) -> None:
    """Of a record a cap cut, the rated part: the volume less what was refused."""
    results, new_state = rate_records(records, SUBSCRIBERS, book, state)
    expected: dict[AccumulatorKey, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for key, total in state.accumulators.items():
        expected[key] = [total.volume, total.amount]
    for result in results:
        if result.status != "rated":
            continue
        record = result.record
        counted = [("roaming-budget", "month")] if record.roaming else []
        if record.service == "data" and not record.roaming:
            counted.append(("home-data", "month"))
        if record.service == "sms":
            counted.append(("daily-sms", "day"))
        for accumulator, period in counted:
            key = AccumulatorKey(f"mobile/{accumulator}", record.subscriber, paris_period(record.start, period))
            expected[key][0] += record.volume - result.refused_volume
            expected[key][1] += result.amount
    assert {k: (t.volume, t.amount) for k, t in new_state.accumulators.items()} == {
        k: (v, a) for k, (v, a) in expected.items()}
    for key, total in new_state.accumulators.items():
        if key.accumulator == "mobile/roaming-budget":
            assert ("stop-50" in total.reached) == (total.amount >= 50)
            assert ("warn-40" in total.reached) == (total.amount >= 40)


@EXAMPLES
@given(streams(), states())
def test_a_capped_total_never_passes_its_cap_and_the_record_crossing_it_takes_it_there_exactly(
        records: list[UsageRecord], state: RatingState) -> None:
    """The roaming budget's price (2.00 EUR a MB) divides every cent: the cap is met exactly."""
    results, new_state = rate_records(records, SUBSCRIBERS, CAPPED_BOOK, state)
    for key, total in new_state.accumulators.items():
        threshold, at, measure = CAPS[key.accumulator]
        before = state.accumulators.get(key, AccumulatorTotal())
        value, start = (total.volume, before.volume) if measure == "volume" else (total.amount, before.amount)
        if start <= at:
            assert value <= at, f"{key} passed its cap: {value}"
        assert (threshold in total.reached) == (value >= at or threshold in before.reached)
    for result in results:
        if result.refused_volume:
            threshold = result.reasons[0]["threshold"]
            key = AccumulatorKey(threshold.rsplit("/", 1)[0], result.record.subscriber,
                                 paris_period(result.record.start, "day" if "sms" in threshold else "month"))
            assert any(e.threshold == threshold.rsplit("/", 1)[1] for e in result.events)
            if key.accumulator == "mobile/roaming-budget":
                assert result.amount == charge(Rate(amount=Decimal(2), currency="EUR", per="MB"), result.rated_volume)


@EXAMPLES
@given(streams(), states(), books)
def test_once_the_budget_is_reached_roaming_is_rejected_until_the_next_month(records: list[UsageRecord],
                                                                           state: RatingState, book: RuleBook) -> None:
    results, _ = rate_records(records, SUBSCRIBERS, book, state)
    spent: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for key, total in state.accumulators.items():
        spent[(key.subscriber, key.period)] = total.amount
    for result in results:  # in rating order
        record = result.record
        if not record.roaming:
            continue
        key = (record.subscriber, paris_period(record.start, "month"))
        if spent[key] >= 50:
            assert [r["code"] for r in result.reasons] == ["roamingBudgetReached"]
        elif result.status == "rated":
            spent[key] += result.amount
            if book is CAPPED_BOOK:
                assert spent[key] <= 50
        else:
            assert [r["code"] for r in result.reasons] in (["insufficientBalance"], ["noBillingAccount"])


# --- monotony ---------------------------------------------------------------------------------


@st.composite
def graduated_rates(draw: Any) -> Rate:
    limits = sorted(set(draw(st.lists(st.decimals(min_value="0.5", max_value=500, places=1), max_size=4))))
    prices = draw(st.lists(st.decimals(min_value=0, max_value=3, places=4), min_size=len(limits) + 1,
                           max_size=len(limits) + 1))
    tiers = [{"upTo": limit, "amount": price} for limit, price in zip(limits, prices)] + [{"amount": prices[-1]}]
    currency = draw(st.sampled_from(["EUR", "JPY", "KWD"]))
    return Rate.model_validate({"currency": currency, "tiers": tiers})


@settings(max_examples=300, deadline=None)
@given(graduated_rates(), st.decimals(min_value=0, max_value=1000, places=3),
       st.decimals(min_value=0, max_value=1000, places=3))
def test_graduated_charges_never_decrease_with_the_volume(rate: Rate, a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    assert charge(rate, low) <= charge(rate, high)
    # nor jump: the extra volume costs at most the dearest tier's price, give or take the rounding
    dearest = max(t.amount for t in rate.tiers)
    assert charge(rate, high) - charge(rate, low) <= dearest * (high - low) + quantum(rate.currency)


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=5, places=4), st.sampled_from(["EUR", "JPY"]),
       st.decimals(min_value=0, max_value=1000, places=3), st.decimals(min_value=0, max_value=1000, places=3))
def test_flat_charges_never_decrease_with_the_volume(price: Decimal, currency: str, a: Decimal, b: Decimal) -> None:
    flat = Rate.model_validate({"currency": currency, "amount": price})
    low, high = sorted((a, b))
    assert charge(flat, low) <= charge(flat, high)


@EXAMPLES
@given(st.sampled_from(["voice", "data", "sms"]), st.booleans(), volumes, volumes)
def test_a_rated_record_costs_no_less_for_more_volume(service: str, roaming: bool, a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    start = BEGIN + dt.timedelta(hours=1)
    records = [UsageRecord(name, "paul", service, start, volume, unit=UNITS[service],
                           roaming=roaming if service == "data" else None)
               for name, volume in (("low", low), ("high", high))]
    # rated separately: in one call, the first would count towards the other's thresholds
    (one,), _ = rate_records(records[:1], SUBSCRIBERS, BOOK)
    (two,), _ = rate_records(records[1:], SUBSCRIBERS, BOOK)
    assert one.status == two.status == "rated"
    assert one.amount <= two.amount


# --- chunks and order -----------------------------------------------------------------------


@EXAMPLES
@given(streams(), states(), st.integers(0, 6 * 24 * 60), books)
def test_rating_in_two_consecutive_calls_passing_the_state_is_rating_in_one(records: list[UsageRecord],
                                                                           state: RatingState, cut: int,
                                                                           book: RuleBook) -> None:
    split = BEGIN + dt.timedelta(minutes=cut)
    whole, whole_state = rate_records(records, SUBSCRIBERS, book, state)
    first, middle = rate_records([r for r in records if r.start < split], SUBSCRIBERS, book, state)
    second, end = rate_records([r for r in records if r.start >= split], SUBSCRIBERS, book, middle)
    assert by_id(first + second) == by_id(whole)
    assert end == whole_state


@EXAMPLES
@given(streams(), states(), st.sampled_from(sorted(SUBSCRIBERS)))
def test_rating_subscribers_apart_is_rating_them_together(records: list[UsageRecord], state: RatingState,
                                                         who: str) -> None:
    """A chunk of subscribers can be rated anywhere: the others' records change nothing."""
    whole, whole_state = rate_records(records, SUBSCRIBERS, BOOK, state)
    mine, mine_state = rate_records([r for r in records if r.subscriber == who], SUBSCRIBERS, BOOK, state)
    assert mine == [r for r in whole if r.record.subscriber == who]
    assert {k: v for k, v in mine_state.buckets.items() if v.subscriber == who} == {
        k: v for k, v in whole_state.buckets.items() if v.subscriber == who}


@EXAMPLES
@given(st.data(), streams(max_size=20), states())
def test_rating_does_not_depend_on_the_order_of_the_input(data: Any, records: list[UsageRecord],
                                                         state: RatingState) -> None:
    shuffled = data.draw(st.permutations(records))
    expected = rate_records(records, SUBSCRIBERS, BOOK, state)
    assert rate_records(shuffled, SUBSCRIBERS, BOOK, state) == expected
    assert [r.record for r in expected[0]] == sorted(records, key=rating_order)


# --- tiers over the period's total ------------------------------------------------------------


def graduated_cost(rate: Rate, volume: Decimal) -> Decimal:
    """What ``volume`` costs from the first tier, read off the tiers here (not rates.py)."""
    cost, floor = Decimal(0), Decimal(0)
    for tier in rate.tiers:
        ceiling = volume if tier.up_to is None else min(tier.up_to, volume)
        cost += tier.amount * max(ceiling - floor, Decimal(0))
        floor = ceiling if tier.up_to is None else tier.up_to
    return cost


@settings(max_examples=300, deadline=None)
@given(graduated_rates(), st.lists(st.decimals(min_value=0, max_value=300, places=3), max_size=8))
def test_a_period_cut_into_records_costs_before_rounding_what_its_total_costs(rate: Rate,
                                                                             volumes: list[Decimal]) -> None:
    position = Decimal(0)
    total = Decimal(0)
    for volume in volumes:
        total += exact_charge(rate, volume, position)
        split = tier_split(rate, volume, position)
        assert sum((units for _, units in split), Decimal(0)) == volume
        assert all(units > 0 for _, units in split) and [i for i, _ in split] == sorted({i for i, _ in split})
        position += volume
    assert total == graduated_cost(rate, position)


@EXAMPLES
@given(graduated_rates(), st.lists(st.tuples(st.integers(0, 40 * 24 * 60), st.decimals(min_value=0, max_value=300,
                                                                                         places=2),
                                             st.sampled_from(["MB", "GB"])), max_size=12),
       st.decimals(min_value=0, max_value=600, places=1))
def test_tiers_over_the_month_charge_each_record_the_units_it_adds_on_top_of_the_month(
        rate: Rate, usages: list[tuple[int, Decimal, str]], before: Decimal) -> None:
    tiers = [{"upTo": str(t.up_to), "amount": str(t.amount)} if t.up_to is not None else {"amount": str(t.amount)}
             for t in rate.tiers]
    book = load_project_texts({"rules.yaml": f"""
ruleSets:
  - id: data-month
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - {{id: month, measure: volume, period: month}}
    rules:
      - id: data
        rate: {{currency: {rate.currency}, per: MB, tiersCount: {{accumulator: month}}, tiers: {tiers}}}
"""}).rules
    start = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    records = [UsageRecord(f"u{i:02d}", "ana", "data", start + dt.timedelta(minutes=m), volume, unit)
               for i, (m, volume, unit) in enumerate(usages)]
    state = RatingState(accumulators={AccumulatorKey("data-month/month", "ana", "2026-06"): AccumulatorTotal(before)})
    results, after = rate_records(records, {"ana": Subscriber("ana", payers={"payer": "BA"})}, book, state)
    month: dict[str, Decimal] = {"2026-06": before}
    for result in results:  # in rating order: each sees the month the earlier ones left
        period = paris_period(result.record.start, "month")
        megabytes = result.record.volume * (1000 if result.record.unit == "GB" else 1)
        so_far = month.get(period, Decimal(0))
        added = graduated_cost(rate, so_far + megabytes) - graduated_cost(rate, so_far)
        assert result.amount == Money(added, rate.currency).rounded().amount, result
        month[period] = so_far + megabytes
    assert {k.period: t.volume for k, t in after.accumulators.items()} == month
