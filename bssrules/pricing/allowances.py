"""Included allowances: which bucket a product gets for a period, from its offering's prices.

"12 EUR a month including 3 GB" is a recurring price with an allowance
(:class:`~bssrules.catalog.model.Allowance`). Each product of the offering gets, for every
calendar month (UTC, the months bills are made for) in which it is active, one bucket per
allowance: a :class:`Grant`. This module decides it — a pure function of the catalog, the
product's start and what the previous month's bucket had left — and both rating paths call
it: online when a product's first usage of a month is rated (:mod:`bssrules.services.usage`),
bulk before a month's records are rated (:mod:`bssrules.pricing.bulk_allowances`).

- **Pro-rating**: the month the product starts includes ``amount × share``, the share being
  the part of the month from the start to the month's end, to the microsecond; ``exact``
  rounds it down to 6 decimals, ``wholeUnits`` down to whole units, ``full`` gives the whole
  amount. Later months include the whole amount.
- **Rollover**: with ``rollover``, a month's bucket also holds what the previous month's
  bucket had left when this one was made, up to the limit (default: one month's amount).
  A month in which the product used nothing has no bucket: what it would have held (its
  included units and what it carried) counts as left, so a quiet month carries its units
  on as a used one would.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Callable

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.model import Allowance, ProductOfferingPrice
from bssrules.pricing.usage import Bucket, RatingState

PREFIX = "allowance:"  # the ids of allowance buckets start with it (no other bucket may)
MAX_ID = 128
_MICROSECOND = dt.timedelta(microseconds=1)
_MAX_MONTHS_BACK = 1200  # how far back a rollover chain is followed (100 years)

RemainingOf = Callable[[str], "Decimal | None"]  # bucket id -> what it has left, None: no such bucket


@dataclass(frozen=True)
class Grant:
    """The allowance bucket of one product for one month."""

    bucket_id: str
    subscriber: str
    offering: str | None
    price: str
    allowance: str
    name: str
    period: str  # the month, YYYY-MM (UTC)
    included: Decimal  # this month's units (pro-rated in the first month)
    carried: Decimal  # rolled over from the previous month
    unit: str
    usage_types: tuple[str, ...]
    precedence: int
    valid_from: dt.datetime
    valid_to: dt.datetime

    @property
    def amount(self) -> Decimal:
        """What the bucket starts with."""
        return self.included + self.carried

    def bucket(self) -> Bucket:
        """The bucket rating uses."""
        return Bucket(self.bucket_id, self.subscriber, self.unit, self.amount, self.precedence, self.usage_types,
                      self.valid_from, self.valid_to)


def month_of(at: dt.datetime) -> str:
    """The allowance month of an instant: YYYY-MM in UTC."""
    utc = at.astimezone(dt.timezone.utc)
    return f"{utc.year:04d}-{utc.month:02d}"


def month_bounds(label: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the month ``YYYY-MM`` in UTC; December 9999 ends with the calendar (its
    last instant: no month follows it — it raised, a 500 on completing an order of then)."""
    year, month = (int(part) for part in label.split("-"))
    start = dt.datetime(year, month, 1, tzinfo=dt.timezone.utc)
    if (year, month) == (9999, 12):
        return start, dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.timezone.utc)
    return start, end


def previous_month(label: str) -> str:
    year, month = (int(part) for part in label.split("-"))
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def bucket_id(subscriber: str, price: str, allowance: str, period: str) -> str:
    """The id of a product's allowance bucket for a month: the same wherever it is decided,
    so that making it twice finds it made (a digest when the parts are too long for an id)."""
    plain = f"{PREFIX}{subscriber}:{price}:{allowance}:{period}"
    if len(plain) <= MAX_ID:
        return plain
    digest = hashlib.sha256(f"{subscriber}\0{price}\0{allowance}".encode()).hexdigest()[:48]
    return f"{PREFIX}{digest}:{period}"


def allowances_of(catalog: Catalog, offering: str | None) -> list[tuple[ProductOfferingPrice, Allowance]]:
    """The allowances of an offering's recurring prices, in the order the offering lists them."""
    found = catalog.offerings.get(offering) if offering else None
    if found is None:
        return []
    pairs = []
    for price_id in found.prices:
        price = catalog.prices.get(price_id)
        if price is not None and price.price_type == "recurring":
            pairs += [(price, allowance) for allowance in price.allowances]
    return pairs


def included(allowance: Allowance, product_start: dt.datetime | None, period: str) -> Decimal:
    """The units a month includes: pro-rated in the month the product starts."""
    start, end = month_bounds(period)
    if product_start is None or product_start <= start or allowance.pro_rate == "full":
        return allowance.amount
    if product_start >= end:
        return Decimal(0)
    share = Fraction((end - product_start) // _MICROSECOND, (end - start) // _MICROSECOND)  # exact
    exact = Fraction(allowance.amount) * share
    digits = 6 if allowance.pro_rate == "exact" else 0
    # rounded down, in integers: a part month never includes more than its share
    return Decimal(exact.numerator * 10**digits // exact.denominator).scaleb(-digits)


def _carried(subscriber: str, price: str, allowance: Allowance, product_start: dt.datetime | None, period: str,
             remaining_of: RemainingOf) -> Decimal:
    """What the previous months leave to ``period``: the previous month's bucket's remainder
    (or what it would have held, had it been made), up to the limit."""
    if allowance.rollover is None:
        return Decimal(0)
    first = month_of(product_start) if product_start is not None else None
    chain: list[str] = []  # months without a bucket, newest first
    month = period
    left: Decimal | None = None
    for _ in range(_MAX_MONTHS_BACK):
        if first is not None and month <= first:
            break  # the product's first month carries nothing in
        month = previous_month(month)
        left = remaining_of(bucket_id(subscriber, price, allowance.id, month))
        if left is not None:
            break
        if first is None:
            break  # start unknown: only a bucket that exists carries anything
        chain.append(month)
    carry = Decimal(0) if left is None else min(max(left, Decimal(0)), allowance.carry_limit)
    for month in reversed(chain):  # the quiet months, oldest first: all they held was left
        carry = min(included(allowance, product_start, month) + carry, allowance.carry_limit)
    return carry


def grant(subscriber: str, offering: str | None, price: ProductOfferingPrice, allowance: Allowance,
          product_start: dt.datetime | None, period: str, remaining_of: RemainingOf) -> Grant | None:
    """The bucket ``allowance`` gives the product for ``period`` (None: the product starts after it)."""
    start, end = month_bounds(period)
    if product_start is not None and product_start >= end:
        return None
    valid_from = start if product_start is None else max(start, product_start)
    return Grant(bucket_id(subscriber, price.id, allowance.id, period), subscriber, offering, price.id, allowance.id,
                 allowance.name, period, included(allowance, product_start, period),
                 _carried(subscriber, price.id, allowance, product_start, period, remaining_of), allowance.unit,
                 tuple(allowance.usage_types), allowance.precedence, valid_from, end)


def grants(catalog: Catalog, subscriber: str, offering: str | None, product_start: dt.datetime | None,
           period: str, remaining_of: RemainingOf) -> list[Grant]:
    """Every allowance bucket a product of ``offering`` gets for ``period``."""
    found = []
    for price, allowance in allowances_of(catalog, offering):
        made = grant(subscriber, offering, price, allowance, product_start, period, remaining_of)
        if made is not None:
            found.append(made)
    return found


def provide(state: RatingState, catalog: Catalog, subscriber: str, offering: str | None,
            product_start: dt.datetime | None, at: dt.datetime) -> RatingState:
    """``state`` with the allowance buckets the product lacks for the month of ``at``: what
    online rating does before it rates a product's usage (the reference the bulk path is
    held to)."""
    period = month_of(at)
    added: dict[str, Bucket] = {}

    def remaining_of(found_id: str) -> Decimal | None:
        found = state.buckets.get(found_id) or added.get(found_id)
        return None if found is None else found.remaining

    for price, allowance in allowances_of(catalog, offering):
        if bucket_id(subscriber, price.id, allowance.id, period) in state.buckets:
            continue
        made = grant(subscriber, offering, price, allowance, product_start, period, remaining_of)
        if made is not None:
            added[made.bucket_id] = made.bucket()
    return replace(state, buckets={**state.buckets, **added}) if added else state
