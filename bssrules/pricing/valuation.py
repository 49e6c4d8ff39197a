"""Order valuation: the one-time and recurring value of a basket, price by price.

The interface the configurator and orders use; issue 5 grows it (alterations, discounts,
pro-rating). Amounts are exact: unit price × quantity, rounded half-up to the currency's
minor unit; totals are sums of rounded lines, per price type, period and currency. Usage
prices are rates: listed, never added to a total.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bssrules.catalog.catalog import Catalog
from bssrules.configurator.model import Basket
from bssrules.money import Money


@dataclass(frozen=True)
class PriceLine:
    """What one price of one basket item comes to."""

    item: str
    offering: str
    price: str
    price_type: str  # oneTime | recurring | usage
    amount: Money  # for usage: the rate per unit
    period: str | None = None  # recurring: "month", "2 months" …
    unit: str | None = None  # usage: per what


@dataclass(frozen=True)
class Total:
    price_type: str
    period: str | None
    amount: Money


def value_basket(basket: Basket, catalog: Catalog, as_of: dt.datetime | None = None) -> tuple[list[PriceLine], list[Total]]:
    """Every price line of the basket's items (bundle components included) in force at
    ``as_of``, and the totals by price type, period and currency."""
    when = as_of or basket.as_of or dt.datetime.now(dt.timezone.utc)
    lines = []
    for _, item, _ in basket.all_items():
        offering = catalog.offerings.get(item.offering)
        for price_id in offering.prices if offering else []:
            price = catalog.prices.get(price_id)
            if price is None or not price.valid_for.contains(when):
                continue
            unit_price = Money(price.amount, price.currency)
            if price.price_type == "usage":
                per = price.unit if price.unit_quantity == 1 else f"{price.unit_quantity} {price.unit}"
                lines.append(PriceLine(item.id, offering.id, price.id, "usage", unit_price, unit=per))
                continue
            period = None
            if price.price_type == "recurring":
                period = price.recurring_period if price.period_length == 1 else \
                    f"{price.period_length} {price.recurring_period}s"
            lines.append(PriceLine(item.id, offering.id, price.id, price.price_type,
                                   (unit_price * item.quantity).rounded(), period))
    sums: dict[tuple[str, str | None, str], Money] = {}
    for line in lines:
        if line.price_type == "usage":
            continue
        key = (line.price_type, line.period, line.amount.currency)
        sums[key] = sums[key] + line.amount if key in sums else line.amount
    totals = [Total(t, p, m) for (t, p, _), m in sorted(sums.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2]))]
    return lines, totals
