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

import datetime as dt
from dataclasses import dataclass, field as dc_field, replace
from decimal import Decimal
from typing import Any, Collection, Sequence

from bssrules.configurator.model import Basket, BasketItem, Path
from bssrules.money import Money
from bssrules.pricing.valuation import Alteration, PriceLine, Total, totals_of, value_basket
from bssrules.services import terminations
from bssrules.services.ports import UnitOfWork
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


@dataclass(frozen=True)
class CartRead:
    """A cart (stored, or items sent inline) as an order of it placed now would read it
    (``services.configuration.read_cart``): only its top-level items whose ``action`` is
    ``add`` (the default) are valued and validated as bought; a ``delete`` item terminates a
    product of the inventory (:mod:`bssrules.services.terminations`), a ``modify`` or
    ``noChange`` item neither adds nor costs anything (an order values neither)."""

    items: list[Any]  # the cart's items as given (top level)
    basket: Basket  # the items bought now: added, and not saved for later
    paths: dict[Path, Path] | None  # the basket's path of each item -> its path in the cart (None: the same)
    saved: frozenset[Path] = frozenset()  # the cart paths of the items saved for later (outermost)
    whole: Basket | None = None  # the items an order would add, those saved for later too (when any is)
    whole_paths: dict[Path, Path] = dc_field(default_factory=dict)  # whole's path -> the cart's

    def bought(self, index: int) -> bool:
        """Whether the top-level item at ``index`` is bought with the cart (not saved for later)."""
        return ("items", index) not in self.saved


def as_held(basket: Basket) -> Basket:
    """The basket with the party's inventory as it holds it when the request is made: the
    products the request's own delete items terminate (``deleted_by``) still counted. Prices
    read it (a discount for what the party holds — a trade-in — is granted when the same
    request deletes it); the checks judge the inventory the request leaves."""
    if not any(p.deleted_by is not None for p in basket.inventory):
        return basket
    return basket.model_copy(update={"inventory": [p.model_copy(update={"deleted_by": None})
                                                   if p.deleted_by is not None else p for p in basket.inventory]})


def value(basket: Basket, runtime: Runtime) -> tuple[list[PriceLine], list[Total]]:
    """The basket's price lines and totals, as an order placed for it now would state them
    (on the inventory as held: :func:`as_held`)."""
    return value_basket(as_held(basket), runtime.catalog, basket.as_of, runtime.rules)


def _lines_of_saved(read: CartRead, runtime: Runtime) -> list[PriceLine]:
    """The lines of each item saved for later (with its components), at its path in the cart:
    what it adds bought with the rest of the cart — the other items an order would add, those
    saved for later too — taking its discounts after them, wherever it is in the cart."""
    lines: list[PriceLine] = []
    if read.whole is None:
        return lines
    for whole_at, cart_at in read.whole_paths.items():
        if cart_at in read.saved:
            whole, _ = value_basket(as_held(read.whole), runtime.catalog, read.whole.as_of, runtime.rules, last=whole_at)
            lines += [replace(line, path=read.whole_paths[line.path]) for line in whole
                      if _under(line.path, whole_at)]
    return lines


def _charge_shown(charge: dict[str, Any]) -> dict[str, Any]:
    """An early termination charge as a cart shows it (an order's ``itemPrice`` less who pays it)."""
    return {k: v for k, v in charge.items() if k != "billingAccount"}


def _charges_total(charges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The one-time total of a delete item's charges, per currency."""
    sums: dict[str, Decimal] = {}
    for charge in charges:
        amount = charge["price"]["taxIncludedAmount"]
        sums[amount["unit"]] = sums.get(amount["unit"], Decimal(0)) + Decimal(str(amount["value"]))
    return [{"priceType": "oneTime", "price": {"taxIncludedAmount": {"unit": unit, "value": value}}}
            for unit, value in sorted(sums.items())]


def cart_prices(uow: UnitOfWork, runtime: Runtime, read: CartRead, now: dt.datetime
                ) -> tuple[list[Any], list[dict[str, Any]]]:
    """A cart's items with their prices, and its totals (TMF663 ``cartTotalPrice``), as an
    order of the items bought now, placed now, would value them: the items an order adds
    with their prices and discounts; a ``delete`` item with the early termination charge of
    the product it terminates, at the basket's date (its ``itemPrice``, in the one-time
    total as an order has it); a ``modify`` or ``noChange`` item without price. An item
    saved for later (TMF663 ``status: saveForLater``) is shown with what it would add (see
    :func:`_lines_of_saved`; a ``delete`` one with its charge) but counts in no total: the
    totals, and the other items' lines, are those of an order of the other items alone (a
    discount that needs an item saved for later does not apply)."""
    lines, totals = value(read.basket, runtime)
    if read.paths is not None:
        lines = [replace(line, path=read.paths[line.path]) for line in lines]
    lines += _lines_of_saved(read, runtime)
    items = priced_cart_items(read.items, lines, left_out=read.saved)
    shown = [total_shown(t) for t in totals]
    deleting = [i for i, _ in terminations.deletions(read.items)]
    if not deleting:
        return items, shown
    at = read.basket.as_of or now
    bought = terminations.priced(uow, {"productOrderItem": [item if read.bought(i) else None
                                                            for i, item in enumerate(read.items)],
                                       "orderTotalPrice": shown}, at, now)
    later = terminations.priced(uow, {"productOrderItem": [None if read.bought(i) else item
                                                           for i, item in enumerate(read.items)]}, at, now)
    for index in deleting:
        charges = (bought if read.bought(index) else later)["productOrderItem"][index].get("itemPrice") or []
        items[index] = {**items[index], "itemPrice": [_charge_shown(c) for c in charges],
                        "itemTotalPrice": _charges_total(charges)}
    return items, bought["orderTotalPrice"]


_CHECK_PRICE = ("name", "priceType", "productOfferingPrice", "price", "recurringChargePeriod", "unitOfMeasure",
                "priceAlteration")


def basket_prices(uow: UnitOfWork, runtime: Runtime, read: CartRead) -> dict[str, Any]:
    """The prices of a basket for a configuration check — those its cart shows
    (:func:`cart_prices`, items saved for later included, in no total): ``cartTotalPrice``
    and, per item (in the request's nesting), its ``id``, offering, ``quantity``,
    ``itemPrice`` and ``itemTotalPrice``. An item that names no offering (a ``delete`` item
    naming only its product) is shown with its product's; one whose offering is not known at
    all (it names no product of the inventory) is left out."""
    as_of = read.basket.as_of
    items, totals = cart_prices(uow, runtime, read, as_of or dt.datetime.now(dt.timezone.utc))
    basket_items: dict[Path, BasketItem] = {}
    for basket, paths in ((read.basket, read.paths), (read.whole, read.whole_paths)):
        for path, item, _ in basket.all_items() if basket is not None else []:
            basket_items[paths[path] if paths else path] = item

    def offering_of(data: dict[str, Any]) -> Any:
        offering = data.get("productOffering")
        if isinstance(offering, dict) and isinstance(offering.get("id"), str):
            return offering["id"]
        product = data.get("product")
        stored = uow.resources.get("product", product["id"]) \
            if isinstance(product, dict) and isinstance(product.get("id"), str) and product["id"] else None
        offering = (stored.document.get("productOffering") or {}) if stored is not None else {}
        return offering.get("id") if isinstance(offering, dict) and isinstance(offering.get("id"), str) else None

    def shown(data: list[Any], base: Path, name: str) -> list[dict[str, Any]]:
        out = []
        for index, item in enumerate(data):
            path, place = base + ("items", index), f"{name}cartItem[{index}]"
            if not isinstance(item, dict):
                continue
            read_as = basket_items.get(path)
            offering = read_as.offering if read_as is not None else offering_of(item)
            if offering is None:
                continue
            quantity = read_as.quantity if read_as is not None else item.get("quantity")
            entry: dict[str, Any] = {
                "id": read_as.id if read_as is not None else str(item.get("id") or place),
                "productOffering": {"id": offering},
                "quantity": quantity if type(quantity) is int else 1,
                "itemPrice": [{k: p[k] for k in _CHECK_PRICE if k in p} for p in item.get("itemPrice") or []],
                "itemTotalPrice": item.get("itemTotalPrice") or []}
            if isinstance(item.get("cartItem"), list) and item["cartItem"]:
                entry["cartItem"] = shown(item["cartItem"], path, place + ".")
            out.append(entry)
        return out

    return {"cartTotalPrice": totals, "cartItem": shown(items, (), "")}
