"""The bill of one account for one month: pro-rated fees, discounts while they last, usage."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bssrules.money import Money
from bssrules.pricing.billing import BillingPeriod, Discount, RecurringFee, UsageTotal, bill

UTC = dt.timezone.utc
JUNE = BillingPeriod.month("2026-06")  # 30 days


def _fee(start: dt.datetime, amount: str = "9.99", end: dt.datetime | None = None,
         discounts: tuple[Discount, ...] = (), period: str = "month") -> RecurringFee:
    return RecurringFee("p1", "fee", "Monthly fee", Money(Decimal(amount), "EUR"), period, 1, start, end, discounts)


def test_a_month_is_the_calendar_month_in_utc() -> None:
    assert (JUNE.start, JUNE.end) == (dt.datetime(2026, 6, 1, tzinfo=UTC), dt.datetime(2026, 7, 1, tzinfo=UTC))
    assert BillingPeriod.month("2026-12").end == dt.datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="YYYY-MM"):
        BillingPeriod.month("June")


def test_a_whole_month_costs_the_monthly_amount() -> None:
    (made,) = bill("ba", JUNE, [_fee(dt.datetime(2026, 1, 1, tzinfo=UTC))], [])
    assert [(i.kind, i.amount.amount) for i in made.items] == [("recurringCharge", Decimal("9.99"))]


def test_a_product_started_mid_month_pays_its_share_rounded_half_up() -> None:
    # active from the 16th: 15 of 30 days → 9.99 × 0.5 = 4.995 → 5.00
    (made,) = bill("ba", JUNE, [_fee(dt.datetime(2026, 6, 16, tzinfo=UTC))], [])
    assert made.total.amount == Decimal("5.00")


def test_a_product_terminated_mid_month_pays_until_it_ended() -> None:
    (made,) = bill("ba", JUNE, [_fee(dt.datetime(2026, 1, 1, tzinfo=UTC), "30.00",
                                     end=dt.datetime(2026, 6, 11, tzinfo=UTC))], [])
    assert made.total.amount == Decimal("10.00")


def test_the_month_a_product_ends_is_pro_rated_by_the_rule_of_the_month_it_starts() -> None:
    # active until the 16th: 15 of 30 days → 9.99 × 0.5 = 4.995 → 5.00, as a start on the 16th
    sixteenth = dt.datetime(2026, 6, 16, tzinfo=UTC)
    (ended,) = bill("ba", JUNE, [_fee(dt.datetime(2026, 1, 1, tzinfo=UTC), end=sixteenth)], [])
    (started,) = bill("ba", JUNE, [_fee(sixteenth)], [])
    assert ended.total.amount == started.total.amount == Decimal("5.00")
    assert ended.items[0].coverage == (JUNE.start, sixteenth)


def test_a_product_started_and_ended_in_the_month_pays_only_the_time_between() -> None:
    start, end = dt.datetime(2026, 6, 10, 6, tzinfo=UTC), dt.datetime(2026, 6, 20, 18, tzinfo=UTC)
    half = Discount("half price", Money(Decimal("6.00"), "EUR"), duration_periods=1)
    (made,) = bill("ba", JUNE, [_fee(start, "12.00", end=end, discounts=(half,))], [])
    # 10.5 of 30 days: 12.00 × 0.35 = 4.20; the discount lasts as long as the product: 6.00 × 0.35 = 2.10
    assert [(i.kind, i.amount.amount, i.coverage) for i in made.items] == [
        ("recurringCharge", Decimal("4.20"), (start, end)), ("discount", Decimal("-2.10"), (start, end))]
    assert made.items[0].detail["share"] == Decimal("0.350000")


def test_nothing_is_billed_for_a_product_outside_the_month() -> None:
    assert bill("ba", JUNE, [_fee(dt.datetime(2026, 7, 2, tzinfo=UTC))], []) == []


def test_a_discount_applies_for_its_duration_counted_from_the_product_start() -> None:
    discount = Discount("welcome", Money(Decimal("5.00"), "EUR"), duration_periods=3)
    fee = _fee(dt.datetime(2026, 4, 1, tzinfo=UTC), "5.00", discounts=(discount,))
    (june,) = bill("ba", JUNE, [fee], [])  # April, May, June: the third month still has it
    assert june.total.amount == Decimal("0.00")
    (july,) = bill("ba", BillingPeriod.month("2026-07"), [fee], [])
    assert july.total.amount == Decimal("5.00")


def test_usage_items_and_the_total_add_up_per_currency() -> None:
    usage = [UsageTotal("p1", "data", Money(Decimal("12.34"), "EUR"), 7),
             UsageTotal("p2", "sms", Money(Decimal("1.00"), "USD"), 2)]
    eur, usd = bill("ba", JUNE, [_fee(dt.datetime(2026, 1, 1, tzinfo=UTC))], usage)
    assert (eur.currency, usd.currency) == ("EUR", "USD")
    assert eur.total.amount == Decimal("22.33") == sum((i.amount.amount for i in eur.items), Decimal(0))
    assert usd.total.amount == Decimal("1.00")
    assert eur.items[-1].detail == {"service": "data", "records": 7}


def test_a_weekly_price_is_charged_per_second_of_its_week() -> None:
    (made,) = bill("ba", JUNE, [_fee(dt.datetime(2026, 6, 24, tzinfo=UTC), "7.00", period="week")], [])
    assert made.total.amount == Decimal("7.00")  # 24 June → 1 July: exactly one week


def test_a_discount_covers_months_from_the_start_date_pro_rated_at_both_ends() -> None:
    half = Discount("half price", Money(Decimal("10.00"), "EUR"), duration_periods=2)  # 16 June → 16 August
    fee = _fee(dt.datetime(2026, 6, 16, tzinfo=UTC), "20.00", discounts=(half,))
    (june,) = bill("ba", JUNE, [fee], [])
    assert [(i.kind, i.amount.amount) for i in june.items] == [("recurringCharge", Decimal("10.00")),
                                                              ("discount", Decimal("-5.00"))]
    (july,) = bill("ba", BillingPeriod.month("2026-07"), [fee], [])
    assert july.total.amount == Decimal("10.00")
    (august,) = bill("ba", BillingPeriod.month("2026-08"), [fee], [])
    # 15 of 31 days discounted: 10.00 × 15/31 = 4.838… → 4.84
    assert [(i.kind, i.amount.amount) for i in august.items] == [("recurringCharge", Decimal("20.00")),
                                                                ("discount", Decimal("-4.84"))]


def test_a_discount_ends_at_the_same_instant_however_its_start_is_written() -> None:
    """30 January 23:30 UTC written with +01:00 (31 January 00:30) counted its month in that
    offset: the discount ran to 28 February 23:30 (+01:00) for one product and to 28 February
    23:30 UTC, an hour more, for the other — 9.64 and 9.99 off February (a commitments review)."""
    one_month = Discount("welcome", Money(Decimal("10.00"), "EUR"), duration_periods=1)
    paris = dt.timezone(dt.timedelta(hours=1))
    starts = [dt.datetime(2026, 1, 31, 0, 30, tzinfo=paris), dt.datetime(2026, 1, 30, 23, 30, tzinfo=UTC)]
    februaries = [bill("ba", BillingPeriod.month("2026-02"), [_fee(start, "20.00", discounts=(one_month,))], [])[0]
                  for start in starts]
    discounts = [[i.amount.amount for i in made.items if i.kind == "discount"] for made in februaries]
    assert discounts[0] == discounts[1] == [Decimal("-9.99")]  # 27 days 23.5 hours of 28 days: 9.9925…


def test_one_time_fees_are_billed_in_the_month_the_product_started_with_their_discounts() -> None:
    from bssrules.pricing.billing import OneTimeFee

    fee = OneTimeFee("p1", "tablet", "Tablet", Money(Decimal("379.00"), "EUR"), dt.datetime(2026, 6, 5, tzinfo=UTC),
                     (Discount("with a plan", Money(Decimal("50.00"), "EUR")),))
    (june,) = bill("ba", JUNE, [], [], [fee])
    assert [(i.kind, i.amount.amount) for i in june.items] == [("oneTimeCharge", Decimal("379.00")),
                                                              ("discount", Decimal("-50.00"))]
    assert bill("ba", BillingPeriod.month("2026-07"), [], [], [fee]) == []
