"""The bill of one billing account for one period: recurring fees (pro-rated), their
discounts while they last, and the rated usage the account pays.

Pro-rating: a recurring fee is charged for the share of the billing period its product was
active, to the second — ``amount × active time ÷ price period`` where the price period is a
calendar month of the billing period for monthly prices (so a whole month costs exactly the
monthly amount, whatever its length), 1, 7 or 365 days for daily, weekly and yearly prices,
times ``periodLength``. Each line is rounded half-up to the currency's minor unit; the bill
total is the sum of its rounded lines, so its items add up to it exactly.

A discount with ``applicationDuration`` N covers the first N months of the product, from
its start date to the same day N months later (16 June + 2 months = 16 August; the 31st
becomes the last day of a shorter month); in a billing month it takes off its reduction
pro-rated by the part of the month it covered, like the fee. One-time prices are billed in
the month the product started, with their discounts.

An included allowance (``allowances`` of a recurring price, issue 15) shows as an item of
its own, ``includedAllowance``, of no amount: the units the month included (and carried over
from the previous month), those used, and what the product's usage of its usage types was
charged beyond them in the month — so a bill says "3 GB included, 3.5 GB used, 5.00 EUR
beyond" next to the fee and the usage charges.

A price shared between payers (the ``shares`` of a split billing rule set, kept on the
product when its order completed) is billed to each payer's account as its part of every
line: each line is made as it would be unsplit (pro-rated, rounded, its discounts capped),
then split by the weights with :func:`bssrules.money.allocate` — the largest remainder,
as rating splits a usage charge — so the parts of a line add up to it exactly, whatever the
rounding. A payer's bill holds only its parts, each naming its role, its weight, the weight
of all the payers and the line unsplit.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Sequence

from bssrules.money import Money, allocate, quantum

DAY = dt.timedelta(days=1)
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}", re.ASCII)
PERIOD_DAYS = {"day": 1, "week": 7, "year": 365}


@dataclass(frozen=True)
class BillingPeriod:
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def month(cls, label: str) -> "BillingPeriod":
        """The calendar month ``YYYY-MM``, in UTC: four digits, a dash, two digits (``2026-6``
        or `` 2026-06`` is refused, not read as June: a period is also a bill's id and the
        key that keeps a month from being billed twice, so it has one spelling)."""
        try:
            if not _MONTH.fullmatch(label):
                raise ValueError(label)
            year, month = (int(part) for part in label.split("-"))
            start = dt.datetime(year, month, 1, tzinfo=dt.timezone.utc)
            end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.timezone.utc)
        except (ValueError, TypeError, OverflowError):  # a year beyond 9998 overflows
            raise ValueError(f"a billing period is a month written YYYY-MM, got {label!r}") from None
        return cls(start, end)

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m")


@dataclass(frozen=True)
class Discount:
    name: str
    reduction: Money  # positive, per period
    duration_periods: int | None = None


@dataclass(frozen=True)
class PayerShare:
    """The part of a shared price one account pays: its payer role, and its place among the
    weights of all the payers (in the order of the shares: the remainder rule's ties)."""

    role: str
    weights: tuple[Decimal, ...]
    index: int

    def part(self, line: Money) -> Money:
        """This payer's part of a line, rounded: the parts of all the payers add up to it."""
        return allocate(line, self.weights)[self.index]

    def detail(self, line: Money) -> dict[str, object]:
        return {"payerRole": self.role, "payerWeight": self.weights[self.index],
                "payersWeight": sum(self.weights, Decimal(0)), "unsplitAmount": line.amount}


@dataclass(frozen=True)
class RecurringFee:
    """A recurring price of a product paid by the account."""

    product: str
    price: str
    name: str
    amount: Money  # per price period, before discounts
    period: str  # day | week | month | year
    period_length: int
    product_start: dt.datetime
    product_end: dt.datetime | None = None
    discounts: tuple[Discount, ...] = ()
    share: PayerShare | None = None  # a part of a price shared between payers; None: all of it
    credit: bool = False  # a price line below zero: its discounts are not capped (see _cap)


@dataclass(frozen=True)
class OneTimeFee:
    """A one-time price of a product paid by the account, due when the product started."""

    product: str
    price: str
    name: str
    amount: Money  # before discounts
    at: dt.datetime
    discounts: tuple[Discount, ...] = ()
    share: PayerShare | None = None  # a part of a price shared between payers; None: all of it
    credit: bool = False  # a price line below zero: its discounts are not capped (see _cap)


@dataclass(frozen=True)
class UsageTotal:
    """Rated usage of one product and service paid by the account in the period."""

    product: str
    service: str
    amount: Money
    count: int


@dataclass(frozen=True)
class AllowanceUse:
    """A product's allowance bucket for the billed month: what it included and what was used."""

    product: str
    price: str
    name: str
    currency: str  # of its recurring price: the bill it shows on
    unit: str
    usage_types: tuple[str, ...]
    included: Decimal  # this month's units (pro-rated in the product's first month)
    carried: Decimal  # rolled over from the previous month
    used: Decimal
    coverage: tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class BillItem:
    kind: str  # recurringCharge | discount | usageCharge
    product: str
    name: str
    amount: Money
    coverage: tuple[dt.datetime, dt.datetime]
    detail: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Bill:
    billing_account: str
    period: BillingPeriod
    currency: str
    items: tuple[BillItem, ...]

    @property
    def total(self) -> Money:
        return sum((i.amount for i in self.items[1:]), self.items[0].amount) if self.items \
            else Money(Decimal(0), self.currency)


def bill_id(account: str, period: BillingPeriod, currency: str) -> str:
    """The id of an account's bill of a month in a currency (one bill each, made once)."""
    return f"{account}-{period.label}-{currency}"


def add_months(instant: dt.datetime, months: int) -> dt.datetime:
    """The same day and time ``months`` later (the last day of the month when it is shorter)."""
    month_index = instant.month - 1 + months
    year, month = instant.year + month_index // 12, month_index % 12 + 1
    return instant.replace(year=year, month=month, day=min(instant.day, calendar.monthrange(year, month)[1]))


def _discount_end(start: dt.datetime, months: int | None) -> dt.datetime:
    """When a discount of ``months`` from ``start`` ends: never (the latest instant there is)
    without a duration, or with one beyond the calendar (a million months). Counted in UTC, as
    the bill's months are: the same instant written with another offset (31 January 00:30 at
    +01:00 is 30 January 23:30 UTC) ends the discount at the same instant."""
    if months is not None:
        try:
            return add_months(start.astimezone(dt.timezone.utc), months)
        except (ValueError, OverflowError):  # beyond year 9999
            pass
    return dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def _seconds(span: dt.timedelta) -> Decimal:
    """A span's exact seconds (``total_seconds()`` is a binary float: 1036929.6 s is
    1036929.59999999997… s, a cent short of a half-up at 40.005 EUR)."""
    return Decimal(span.days * 86400 + span.seconds) + Decimal(span.microseconds).scaleb(-6)


def _share(fee: RecurringFee, active: dt.timedelta, period: BillingPeriod) -> Decimal:
    seconds = _seconds(active)
    if fee.period == "month":
        days = calendar.monthrange(period.start.year, period.start.month)[1]
        length = Decimal(days * 86400) * fee.period_length
    else:
        length = Decimal(PERIOD_DAYS[fee.period] * 86400) * fee.period_length
    return seconds / length


def _cap(reduction: Money, left: Money, credit: bool) -> Money:
    """A discount's reduction, never more than what is left of its charge — unless its price
    line is a credit (below zero): its charge (the credit before its discounts) leaves nothing
    to cap by, and capping would bill more than the price line (a -5.00 credit with 2.00 off
    billed -3.00)."""
    return reduction if credit else Money(min(reduction.amount, left.amount), reduction.currency)


def _add(items: dict[str, list[BillItem]], share: PayerShare | None, kind: str, product: str, name: str,
         line: Money, coverage: tuple[dt.datetime, dt.datetime], detail: dict[str, object]) -> None:
    """Put a line on the bill: whole, or the account's part of it when its price is shared (a
    discount's part of nothing is left out, as a discount of nothing is)."""
    if share is not None:
        part = share.part(line)
        if kind == "discount" and part.amount == 0:
            return
        line, detail = part, {**detail, **share.detail(line)}
    items.setdefault(line.currency, []).append(BillItem(kind, product, name, line, coverage, detail))


def bill(billing_account: str, period: BillingPeriod, fees: list[RecurringFee], usage: list[UsageTotal],
         one_time: Sequence[OneTimeFee] = (), allowances: Sequence[AllowanceUse] = ()) -> list[Bill]:
    """The account's bills for the period, one per currency (none when nothing is due). A fee
    the account pays a share of is billed as its part of each line (see the module)."""
    items: dict[str, list[BillItem]] = {}
    for once in sorted(one_time, key=lambda f: (f.product, f.price, f.share.index if f.share else 0)):
        if not period.start <= once.at < period.end:
            continue
        currency = once.amount.currency
        coverage = (once.at, once.at)
        charged = once.amount.rounded()  # a line is at the minor unit, as a recurring one
        _add(items, once.share, "oneTimeCharge", once.product, once.name, charged, coverage, {"price": once.price})
        left = charged
        for discount in once.discounts:
            reduction = _cap(discount.reduction.rounded(), left, once.credit)
            if reduction.amount > 0:
                left = left - reduction
                _add(items, once.share, "discount", once.product, discount.name, Money(-reduction.amount, currency),
                     coverage, {"price": once.price})
    for fee in sorted(fees, key=lambda f: (f.product, f.price, f.share.index if f.share else 0)):
        start = max(fee.product_start, period.start)
        end = min(fee.product_end or period.end, period.end)
        if end <= start:
            continue
        share = _share(fee, end - start, period)
        coverage = (start, end)
        currency = fee.amount.currency
        charged = (fee.amount * share).rounded()
        _add(items, fee.share, "recurringCharge", fee.product, fee.name, charged, coverage,
             {"price": fee.price, "share": share.quantize(Decimal("0.000001"))})
        left = charged
        for discount in fee.discounts:
            until = min(end, _discount_end(fee.product_start, discount.duration_periods))
            if until <= start:
                continue
            reduction = (discount.reduction * _share(fee, until - start, period)).rounded()
            reduction = _cap(reduction, left, fee.credit)
            if reduction.amount > 0:
                left = left - reduction
                _add(items, fee.share, "discount", fee.product, discount.name, Money(-reduction.amount, currency),
                     (start, until), {"price": fee.price})
    for total in sorted(usage, key=lambda u: (u.product, u.service)):
        items.setdefault(total.amount.currency, []).append(BillItem(
            "usageCharge", total.product, f"{total.service} usage", total.amount, (period.start, period.end),
            {"service": total.service, "records": total.count}))
    for use in sorted(allowances, key=lambda a: (a.product, a.price, a.name)):
        zero = Decimal(0).quantize(quantum(use.currency))
        beyond = sum((t.amount.amount for t in usage if t.product == use.product and t.service in use.usage_types
                      and t.amount.currency == use.currency), zero)
        items.setdefault(use.currency, []).append(BillItem(
            "includedAllowance", use.product, use.name, Money(zero, use.currency), use.coverage,
            {"price": use.price, "included": use.included, "carriedOver": use.carried, "used": use.used,
             "unit": use.unit, "usageTypes": ", ".join(use.usage_types), "chargedBeyond": beyond}))
    return [Bill(billing_account, period, currency, tuple(lines)) for currency, lines in sorted(items.items())]
