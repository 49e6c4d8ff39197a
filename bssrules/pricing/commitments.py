"""Commitments: when a term ends, and what ending it early costs.

A term of N days, weeks, months or years runs from the product's start to the same instant
N units later (months as bills count them: 31 January + 1 month = 28 or 29 February). At its
end it either ``renew``s — a new term of the same duration starts, and so on — or ``end``s:
the product goes on without commitment. The term in force at an instant is the renewal
that contains it; terms are counted from the start (the k-th ends at start + k × duration),
so that clamped month ends never drift.

The early termination charge of a product terminated at T while a term is in force:

* ``fixed``: the amount, whatever is left of the term;
* ``remainingRecurring``: ``share`` × what the product's recurring prices would still have
  been billed from T to the end of the term, computed by the bill run's own arithmetic
  (:func:`bssrules.pricing.billing.bill` over each calendar month, each line rounded
  half-up to the minor unit as on a bill), less the product's discounts while they last;
  the share of that sum is rounded half-up to the minor unit, once, per currency.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from bssrules.money import Money
from bssrules.pricing.billing import BillingPeriod, RecurringFee, add_months, bill

UNIT_DAYS = {"day": 1, "week": 7}


def term_end(start: dt.datetime, amount: int, units: str) -> dt.datetime:
    """The end of a term of ``amount`` ``units`` (day, week, month or year) that starts at ``start``.

    Counted in UTC, as bills count months: an instant written with an offset
    (``2026-01-31T00:30:00+01:00``, the 30th in UTC) ends its term where the same instant
    written in UTC does, not a day apart on a clamped month end."""
    start = start.astimezone(dt.timezone.utc) if start.tzinfo is not None else start
    if units in UNIT_DAYS:
        return start + dt.timedelta(days=amount * UNIT_DAYS[units])
    return add_months(start, amount * (12 if units == "year" else 1))


def term_in_force(start: dt.datetime, amount: int, units: str, at_end: str, at: dt.datetime
                  ) -> tuple[dt.datetime, dt.datetime] | None:
    """The term in force at ``at`` (renewals counted) as (its start, its end), or None when no
    commitment is in force then (a term that ``end``s, and is over). Before the start: the first term."""
    first = term_end(start, amount, units)
    if at < first:
        return start, first
    if at_end != "renew":
        return None
    # the k-th term ends at start + k × duration: estimate k, then step to the first end after ``at``
    unit_days = Decimal(UNIT_DAYS.get(units, 365 if units == "year" else 30))
    estimate = int(Decimal((at - start).days) / (unit_days * amount))
    k = max(1, estimate - 1)
    while term_end(start, amount * k, units) > at and k > 1:
        k -= 1
    while (end := term_end(start, amount * k, units)) <= at:
        k += 1
    return term_end(start, amount * (k - 1), units) if k > 1 else start, end


def term_ended_by(start: dt.datetime, amount: int, units: str, at_end: str, terminated: dt.datetime
                  ) -> tuple[dt.datetime, dt.datetime] | None:
    """The term a product terminated at ``terminated`` was under: the one its last instant of
    service falls in (a product counts up to its termination, which it is no longer active at).
    Terminated exactly as a term ends, it ends with that term — not under the renewal that
    starts at that instant, of which it used nothing. None when no commitment is in force."""
    term = term_in_force(start, amount, units, at_end, terminated)
    if term is not None and start < terminated and term[0] == terminated:
        return term_in_force(start, amount, units, at_end, terminated - dt.timedelta(microseconds=1))
    return term


def commitment_end(start: dt.datetime, amount: int, units: str, at_end: str, at: dt.datetime) -> dt.datetime | None:
    """The end of the term in force at ``at`` (renewals counted), or None when no commitment
    is in force then (a term that ``end``s, and is over). Before the start: the first term's end."""
    term = term_in_force(start, amount, units, at_end, at)
    return None if term is None else term[1]


@dataclass(frozen=True)
class Recurring:
    """A recurring price of the product as it bills it, per ``period`` × ``length`` — or one
    of its discounts (a negative amount), ``until`` the end of its application duration."""

    price: str
    amount: Money
    period: str  # day | week | month | year
    length: int = 1
    until: dt.datetime | None = None


def _months(start: dt.datetime, end: dt.datetime) -> list[BillingPeriod]:
    """The calendar months (UTC) from the one of ``start`` to the one before ``end``."""
    periods: list[BillingPeriod] = []
    label = start.astimezone(dt.timezone.utc).strftime("%Y-%m")
    while True:
        period = _month(label)
        if period.start >= end:
            return periods
        periods.append(period)
        if period.end == _CALENDAR_END:
            return periods
        label = period.end.strftime("%Y-%m")


_CALENDAR_END = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def _month(label: str) -> BillingPeriod:
    """The month ``YYYY-MM``; December 9999, whose end is beyond the calendar, up to its last
    instant (a term may end in it: the charges left in it are counted, not a server error)."""
    if label == "9999-12":
        return BillingPeriod(dt.datetime(9999, 12, 1, tzinfo=dt.timezone.utc), _CALENDAR_END)
    return BillingPeriod.month(label)


def _priced_with_discounts(prices: Sequence[Recurring]) -> list[list[Recurring]]:
    """The prices, each with the discounts that follow it (a negative amount): a bill takes a
    discount off its own price's charge, never more than what is left of it. A discount before
    any price stands alone."""
    groups: list[list[Recurring]] = []
    for price in prices:
        if price.amount.amount < 0 and groups and groups[-1][0].amount.amount >= 0:
            groups[-1].append(price)
        else:
            groups.append([price])
    return groups


def _line(price: Recurring, period: BillingPeriod, start: dt.datetime, end: dt.datetime) -> Money | None:
    """The month's line of one price (or discount) billed from ``start`` to ``end`` (its own
    ``until`` when sooner): pro-rated and rounded by the bill run's own arithmetic."""
    until = end if price.until is None else min(end, price.until)
    fee = RecurringFee("product", price.price, price.price, price.amount, price.period, price.length, start, until)
    made = bill("remaining", period, [fee], [])
    return made[0].items[0].amount if made and made[0].items else None


def remaining_recurring(prices: Sequence[Recurring], start: dt.datetime, end: dt.datetime) -> dict[str, Money]:
    """What ``prices`` would bill from ``start`` to ``end``, per currency: the bill run's
    pro-rated, rounded lines of each month, added up — each discount, as on a bill, never
    more than what is left of its price's charge that month (two half-price discounts each
    rounded up would otherwise take a cent more than the charge)."""
    totals: dict[str, Money] = {}
    if end <= start:
        return totals
    groups = [[p for p in group if p.until is None or p.until > start] for group in _priced_with_discounts(prices)]
    for period in _months(start, end):
        for group in groups:
            left: Money | None = None
            for price in group:
                line = _line(price, period, start, end)
                if line is None:
                    continue
                if left is not None and line.amount < 0:  # a discount of the price: at most what is left
                    line = Money(-min(-line.amount, left.amount), line.currency)
                    left = left + line
                elif line.amount >= 0:
                    left = line
                totals[line.currency] = totals.get(line.currency, Money(Decimal(0), line.currency)) + line
    return totals


def early_termination_charges(charge: str, share: Decimal, fixed: Money | None, prices: Sequence[Recurring],
                              terminated: dt.datetime, end: dt.datetime) -> list[Money]:
    """The early termination charge (one per currency) of a product terminated at
    ``terminated`` whose term in force ends at ``end``; none when nothing is left to pay."""
    if terminated >= end:
        return []
    if charge == "fixed":
        return [fixed.rounded()] if fixed is not None and fixed.amount > 0 else []
    remaining = remaining_recurring(prices, terminated, end)
    charges = [(total * share).rounded() for _, total in sorted(remaining.items())]
    return [c for c in charges if c.amount > 0]
