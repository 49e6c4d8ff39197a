"""Early termination arithmetic, checked by hand (a product manager's review of
bssrules.pricing.commitments): a term counted in UTC whatever offset its start was written
with, and the recurring charges left counted as a bill counts them — a discount never more
than what is left of its price's charge."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bssrules.money import Money
from bssrules.pricing.billing import BillingPeriod, Discount, RecurringFee, bill
from bssrules.pricing.commitments import Recurring, remaining_recurring, term_end, term_in_force

UTC = dt.timezone.utc
PARIS_WINTER = dt.timezone(dt.timedelta(hours=1))


def _eur(value: str) -> Money:
    return Money(Decimal(value), "EUR")


def test_a_term_ends_at_the_same_instant_whatever_offset_its_start_is_written_with() -> None:
    # 31 January 00:30 in Paris is 30 January 23:30 UTC: a month later, as bills count months
    # (in UTC), is 28 February 23:30 UTC — not 28 February 00:30 in Paris, a day sooner
    in_paris = dt.datetime(2026, 1, 31, 0, 30, tzinfo=PARIS_WINTER)
    in_utc = dt.datetime(2026, 1, 30, 23, 30, tzinfo=UTC)
    assert in_paris == in_utc
    assert term_end(in_paris, 1, "month") == term_end(in_utc, 1, "month") == dt.datetime(2026, 2, 28, 23, 30,
                                                                                         tzinfo=UTC)
    # the renewal in force on 28 February at noon is still the first term
    at = dt.datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert term_in_force(in_paris, 1, "month", "renew", at) == term_in_force(in_utc, 1, "month", "renew", at)
    assert term_in_force(in_paris, 1, "month", "renew", at)[1] == dt.datetime(2026, 2, 28, 23, 30, tzinfo=UTC)


# 13 392 seconds before 1 August: 0.5 % of July's 2 678 400 seconds
LATE_JULY = dt.datetime(2026, 7, 31, 20, 16, 48, tzinfo=UTC)
SEPTEMBER = dt.datetime(2026, 9, 1, tzinfo=UTC)


def test_two_discounts_take_off_no_more_than_their_price_s_charge_as_on_a_bill() -> None:
    # a 10.00 price with two 5.00 discounts (nothing to pay), and a 31.00 price
    prices = [Recurring("box", _eur("10.00"), "month"),
              Recurring("box", _eur("-5.00"), "month"), Recurring("box", _eur("-5.00"), "month"),
              Recurring("line", _eur("31.00"), "month")]
    # July, 0.5 % of it: box 0.05, its discounts 0.025 -> 0.03 then what is left, 0.02: 0.00;
    # line 0.155 -> 0.16. August: box 10 - 5 - 5 = 0, line 31.00. In all 31.16, not 31.15
    assert remaining_recurring(prices, LATE_JULY, SEPTEMBER) == {"EUR": _eur("31.16")}


def test_the_charges_left_are_the_bill_run_s_lines_of_each_month_added_up() -> None:
    prices = [Recurring("box", _eur("10.00"), "month"),
              Recurring("box", _eur("-5.00"), "month"), Recurring("box", _eur("-5.00"), "month")]
    fee = RecurringFee("p", "box", "box", _eur("10.00"), "month", 1, LATE_JULY, SEPTEMBER,
                       (Discount("a", _eur("5.00")), Discount("b", _eur("5.00"))))
    billed = sum((item.amount for label in ("2026-07", "2026-08")
                  for made in bill("ba", BillingPeriod.month(label), [fee], []) for item in made.items), _eur("0"))
    assert billed == _eur("0.00")
    assert remaining_recurring(prices, LATE_JULY, SEPTEMBER) == {"EUR": billed}


def test_the_charges_left_count_from_the_utc_month_of_a_termination_written_with_an_offset() -> None:
    # 1 August 00:30 in Paris (summer, +02:00) is 31 July 22:30 UTC: July's last 1.5 of 744 hours
    # are left (30 x 1.5 / 744 = 0.0604.. -> 0.06), then August's 30.00
    summer = dt.timezone(dt.timedelta(hours=2))
    left = remaining_recurring([Recurring("fee", _eur("30.00"), "month")],
                               dt.datetime(2026, 8, 1, 0, 30, tzinfo=summer), SEPTEMBER)
    assert left == {"EUR": _eur("30.06")}


def test_a_term_ending_in_the_calendar_s_last_month_is_counted_to_its_end() -> None:
    # 16 of November 9999's 30 days (16.00), then 14 of December's 31 (30 x 14/31 = 13.548.. -> 13.55)
    left = remaining_recurring([Recurring("fee", _eur("30.00"), "month")], dt.datetime(9999, 11, 15, tzinfo=UTC),
                               dt.datetime(9999, 12, 15, tzinfo=UTC))
    assert left == {"EUR": _eur("29.55")}
    # and a term that ends in November: December, past it, is not asked for
    assert remaining_recurring([Recurring("fee", _eur("30.00"), "month")], dt.datetime(9999, 11, 1, tzinfo=UTC),
                               dt.datetime(9999, 11, 16, tzinfo=UTC)) == {"EUR": _eur("15.00")}
