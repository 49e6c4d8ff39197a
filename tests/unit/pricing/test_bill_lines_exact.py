"""A bill of any fees, in any currency, is exact: every line at its currency's minor unit
(2 decimals for EUR, 0 for JPY, 3 for KWD), the lines add up to the bill's total, and no
discount takes off more than its charge — whatever the amounts, dates and durations (a
property of :func:`bssrules.pricing.billing.bill`)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.money import Money, quantum
from bssrules.pricing.billing import BillingPeriod, Discount, OneTimeFee, RecurringFee, UsageTotal, bill

UTC = dt.timezone.utc
CURRENCIES = ("EUR", "JPY", "KWD")
amounts = st.decimals(min_value=Decimal(0), max_value=Decimal("99999999.99999999"), places=8)
instants = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC))
months = st.sampled_from(["2026-02", "2028-02", "2026-03", "2026-04", "2026-10", "2026-12"])


@st.composite
def discounts(draw: st.DrawFn, currency: str) -> tuple[Discount, ...]:
    return tuple(Discount(f"d{i}", Money(draw(amounts), currency), draw(st.none() | st.integers(0, 1_000_000)))
                 for i in range(draw(st.integers(0, 3))))


@st.composite
def accounts(draw: st.DrawFn) -> tuple[str, list[RecurringFee], list[OneTimeFee], list[UsageTotal]]:
    fees, once, usage = [], [], []
    for i in range(draw(st.integers(0, 4))):
        currency = draw(st.sampled_from(CURRENCIES))
        start = draw(instants)
        end = draw(st.none() | instants.filter(lambda e, s=start: e > s))
        fees.append(RecurringFee(f"p{i}", "fee", "fee", Money(draw(amounts), currency),
                                 draw(st.sampled_from(["day", "week", "month", "year"])), draw(st.integers(1, 12)),
                                 start, end, draw(discounts(currency))))
    for i in range(draw(st.integers(0, 3))):
        currency = draw(st.sampled_from(CURRENCIES))
        once.append(OneTimeFee(f"o{i}", "once", "once", Money(draw(amounts), currency), draw(instants),
                               draw(discounts(currency))))
    for i in range(draw(st.integers(0, 2))):
        currency = draw(st.sampled_from(CURRENCIES))
        usage.append(UsageTotal(f"u{i}", "data", Money(draw(amounts), currency).rounded(), draw(st.integers(1, 9))))
    return draw(months), fees, once, usage


@settings(max_examples=300, deadline=None)
@given(accounts())
def test_every_line_is_at_the_minor_unit_and_the_lines_add_up_to_the_total(
        drawn: tuple[str, list[RecurringFee], list[OneTimeFee], list[UsageTotal]]) -> None:
    month, fees, once, usage = drawn
    for made in bill("ba", BillingPeriod.month(month), fees, usage, once):
        q = quantum(made.currency)
        for item in made.items:
            assert item.amount.currency == made.currency
            assert item.amount.amount == item.amount.amount.quantize(q), (item.kind, item.amount)
        assert made.total.amount == sum((i.amount.amount for i in made.items), Decimal(0))
        assert made.total.amount.as_tuple().exponent == q.as_tuple().exponent
        charge = None
        for item in made.items:  # a charge is followed by its discounts: never below zero together
            if item.kind in ("oneTimeCharge", "recurringCharge"):
                charge = item.amount.amount
            elif item.kind == "discount":
                assert charge is not None and item.amount.amount < 0
                charge += item.amount.amount
                assert charge >= 0, made.items


def test_a_one_time_charge_of_more_decimals_than_its_currency_is_rounded_half_up() -> None:
    at = dt.datetime(2026, 6, 10, tzinfo=UTC)
    made = bill("ba", BillingPeriod.month("2026-06"), [], [], [
        OneTimeFee("p", "x", "x", Money(Decimal("999.5"), "JPY"), at),
        OneTimeFee("q", "x", "x", Money(Decimal("9.995"), "EUR"), at, (Discount("d", Money(Decimal("0.004"), "EUR")),))])
    assert [(b.currency, [i.amount.amount for i in b.items], b.total.amount) for b in made] == [
        ("EUR", [Decimal("10.00")], Decimal("10.00")), ("JPY", [Decimal("1000")], Decimal("1000"))]


def test_a_discount_beyond_the_calendar_lasts_as_long_as_the_product() -> None:
    # ends in January of the year 10000, which no date has: it covers the rest of November 9999
    start = dt.datetime(9999, 11, 16, tzinfo=UTC)
    fee = RecurringFee("p", "x", "x", Money(Decimal("30.00"), "EUR"), "month", 1, start,
                       discounts=(Discount("d", Money(Decimal("30.00"), "EUR"), 2),))
    [november] = bill("ba", BillingPeriod.month("9999-11"), [fee], [])
    assert [i.amount.amount for i in november.items] == [Decimal("15.00"), Decimal("-15.00")]
    fee = RecurringFee("p", "x", "x", Money(Decimal("31.00"), "EUR"), "month", 1, dt.datetime(2026, 1, 1, tzinfo=UTC),
                       discounts=(Discount("d", Money(Decimal("31.00"), "EUR"), 10 ** 6),))
    [june] = bill("ba", BillingPeriod.month("2026-06"), [fee], [])
    assert [i.amount.amount for i in june.items] == [Decimal("31.00"), Decimal("-31.00")]
