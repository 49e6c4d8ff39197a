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

from dataclasses import replace
from typing import Any, Collection, Sequence

from bssrules.configurator.model import Basket, BasketItem, Path
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


def item_prices(lines: list[PriceLine], path: Path, left_out: Collection[Path] = ()) -> dict[str, Any]:
    """What one item of a basket costs: ``itemPrice`` (its own lines) and ``itemTotalPrice``
    (its lines and its components', totalled, with their discounts; not those of a component
    at ``left_out``, one saved for later)."""
    own = [line for line in lines if line.path == path]
    below = [p for p in left_out if len(p) > len(path) and _under(p, path)]
    within = [line for line in lines if _under(line.path, path) and not any(_under(line.path, p) for p in below)]
    return {"itemPrice": [price_shown(line) for line in own],
            "itemTotalPrice": [total_shown(t, within) for t in totals_of(within)]}


def priced_cart_items(items: list[Any], lines: list[PriceLine], base: Path = (),
                      left_out: Collection[Path] = ()) -> list[Any]:
    """TMF663 cart items (as sent or stored) with their prices, bundle components included;
    the prices a client sent are replaced. ``items`` are those the basket was read from, in
    its order (``services.configuration.basket_item``); the items at ``left_out`` are not in
    the totals of the bundles holding them."""
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            out.append(item)
            continue
        path = base + ("items", index)
        priced = {k: v for k, v in item.items() if k not in ("itemPrice", "itemTotalPrice")}
        priced.update(item_prices(lines, path, left_out))
        if isinstance(item.get("cartItem"), list):
            priced["cartItem"] = priced_cart_items(item["cartItem"], lines, path, left_out)
        out.append(priced)
    return out


def value(basket: Basket, runtime: Runtime) -> tuple[list[PriceLine], list[Total]]:
    """The basket's price lines and totals, as an order placed for it now would state them."""
    return value_basket(basket, runtime.catalog, basket.as_of, runtime.rules)


def value_leaving_out(basket: Basket, runtime: Runtime, left_out: Collection[Path]
                      ) -> tuple[list[PriceLine], list[Total]]:
    """A cart's price lines and totals when the items at ``left_out`` (with their components)
    are not bought now (TMF663 ``status: saveForLater``): the totals, and the lines of the
    other items, are those of an order of the other items alone (a discount that needs a
    left-out item does not apply); the left-out items' lines are what they would come to
    bought with the whole cart."""
    if not left_out:
        return value(basket, runtime)
    kept_at: dict[Path, Path] = {}  # path in the basket bought now -> path in the cart

    def kept(items: list[BasketItem], base: Path, new_base: Path) -> list[BasketItem]:
        out: list[BasketItem] = []
        for index, item in enumerate(items):
            path = base + ("items", index)
            if path in left_out:
                continue
            new_path = new_base + ("items", len(out))
            kept_at[new_path] = path
            out.append(item.model_copy(update={"items": kept(item.items, path, new_path)}))
        return out

    bought = kept(basket.items, (), ())
    whole, _ = value(basket, runtime)
    lines = [line for line in whole if any(_under(line.path, p) for p in left_out)]
    if not bought:
        return lines, []
    now, totals = value(basket.model_copy(update={"items": bought}), runtime)
    return lines + [replace(line, path=kept_at[line.path]) for line in now], totals


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
