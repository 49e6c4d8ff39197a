"""A valued basket in TMF terms: the prices of orders (TMF622 ``itemPrice``,
``orderTotalPrice``), of shopping carts (TMF663 ``itemPrice``, ``itemTotalPrice``,
``cartTotalPrice``) and of a configuration check asked for them — one shape, one valuation
(:func:`bssrules.pricing.valuation.value_basket`).

A price line shows its amount after its discounts (``price.taxIncludedAmount``) and the
discounts in ``priceAlteration`` (what each takes off, negative); a usage line shows its rate
(``unitOfMeasure``) and is never added to a total. A total is one per price type, recurring
period and currency: the sum of the net lines.
"""
from __future__ import annotations

from typing import Any, Sequence

from bssrules.configurator.model import Basket, Path
from bssrules.money import Money
from bssrules.pricing.valuation import Alteration, PriceLine, Total, totals_of, value_basket
from bssrules.services.runtime import Runtime


def money(amount: Money) -> dict[str, Any]:
    """Money as every API of bssrules writes it: ``{"unit": "EUR", "value": 19.90}`` (exact)."""
    return {"unit": amount.currency, "value": amount.amount}


def alteration_shown(line: PriceLine, alteration: Alteration) -> dict[str, Any]:
    """A discount as TMF shows it: the amount taken off (negative), which rule, how long."""
    shown: dict[str, Any] = {
        "name": f"{alteration.rule_set}/{alteration.rule}", "priceType": line.price_type,
        "priority": alteration.priority,
        "price": {"taxIncludedAmount": {"unit": alteration.reduction.currency, "value": -alteration.reduction.amount}}}
    if alteration.percentage is not None:
        shown["price"]["percentage"] = alteration.percentage
    if alteration.description:
        shown["description"] = alteration.description
    if line.period:
        shown["recurringChargePeriod"] = line.period
    if alteration.duration_periods:
        shown["applicationDuration"] = alteration.duration_periods
    return shown


def price_shown(line: PriceLine) -> dict[str, Any]:
    """One price line of an item (TMF622 OrderPrice, TMF663 CartPrice)."""
    price: dict[str, Any] = {"name": line.price, "priceType": line.price_type,
                             "productOfferingPrice": {"id": line.price},
                             "price": {"taxIncludedAmount": money(line.net)}}
    if line.period:
        price["recurringChargePeriod"] = line.period
    if line.unit:
        price["unitOfMeasure"] = line.unit
    if line.alterations:
        price["priceAlteration"] = [alteration_shown(line, a) for a in line.alterations]
    return price


def total_shown(total: Total, lines: Sequence[PriceLine] = ()) -> dict[str, Any]:
    """One total (per price type, period and currency); with ``lines``, the discounts of the
    lines it sums, as each line shows them."""
    shown: dict[str, Any] = {"priceType": total.price_type,
                             **({"recurringChargePeriod": total.period} if total.period else {}),
                             "price": {"taxIncludedAmount": money(total.amount)}}
    alterations = [alteration_shown(line, a) for line in lines
                   if (line.price_type, line.period, line.amount.currency)
                   == (total.price_type, total.period, total.amount.currency)
                   for a in line.alterations]
    if alterations:
        shown["priceAlteration"] = alterations
    return shown


def _under(path: Path, prefix: Path) -> bool:
    return path[:len(prefix)] == prefix


def item_prices(lines: list[PriceLine], path: Path) -> dict[str, Any]:
    """What one item of a basket costs: ``itemPrice`` (its own lines) and ``itemTotalPrice``
    (its lines and its components', totalled, with their discounts)."""
    own = [line for line in lines if line.path == path]
    within = [line for line in lines if _under(line.path, path)]
    return {"itemPrice": [price_shown(line) for line in own],
            "itemTotalPrice": [total_shown(t, within) for t in totals_of(within)]}


def priced_cart_items(items: list[Any], lines: list[PriceLine], base: Path = ()) -> list[Any]:
    """TMF663 cart items (as sent or stored) with their prices, bundle components included;
    the prices a client sent are replaced. ``items`` are those the basket was read from, in
    its order (``services.configuration.basket_item``)."""
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            out.append(item)
            continue
        path = base + ("items", index)
        priced = {k: v for k, v in item.items() if k not in ("itemPrice", "itemTotalPrice")}
        priced.update(item_prices(lines, path))
        if isinstance(item.get("cartItem"), list):
            priced["cartItem"] = priced_cart_items(item["cartItem"], lines, path)
        out.append(priced)
    return out


def value(basket: Basket, runtime: Runtime) -> tuple[list[PriceLine], list[Total]]:
    """The basket's price lines and totals, as an order placed for it now would state them."""
    return value_basket(basket, runtime.catalog, basket.as_of, runtime.rules)


def basket_prices(basket: Basket, runtime: Runtime) -> dict[str, Any]:
    """The prices of a basket for a configuration check: ``cartTotalPrice`` and, per item (in
    the request's nesting), its ``id``, offering, ``itemPrice`` and ``itemTotalPrice``."""
    lines, totals = value(basket, runtime)

    def items(basket_items: list[Any], base: Path) -> list[dict[str, Any]]:
        shown = []
        for index, item in enumerate(basket_items):
            path = base + ("items", index)
            entry: dict[str, Any] = {"id": item.id, "productOffering": {"id": item.offering},
                                     "quantity": item.quantity, **item_prices(lines, path)}
            if item.items:
                entry["cartItem"] = items(item.items, path)
            shown.append(entry)
        return shown

    return {"cartTotalPrice": [total_shown(t) for t in totals], "cartItem": items(basket.items, ())}
