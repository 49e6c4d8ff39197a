"""Use cases of TMF663 shopping carts: document resources (``services.resources``) that come
back priced.

A cart is valued whenever it is shown — created, patched, retrieved, listed — as an order
placed for it now would be (``services.prices``: the same valuation, discounts included):
``cartTotalPrice``, and each item's ``itemPrice`` and ``itemTotalPrice``. Prices are the
server's: those a client sends are not kept. Each item is valued as its ``action`` would be
in that order: ``add`` (the default) bought; ``delete`` the early termination charge of the
product it terminates; ``modify`` and ``noChange`` nothing (``services.prices.cart_prices``).
An item whose ``status`` is ``saveForLater`` (TMF663 CartItemStatusType) is shown priced,
with what it would add bought with the rest of the cart, but is not in ``cartTotalPrice``
(nor in its bundle's ``itemTotalPrice``): the total is what an order of the other items
would come to. A cart must be readable as a basket (every item it buys names
``productOffering.id``, a quantity of at least 1 …): one that is not is refused with 400,
as the configuration check refuses it, and nothing is stored.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from bssrules.errors import InvalidInput
from bssrules.services import resources
from bssrules.services.configuration import read_cart
from bssrules.services.ports import UnitOfWork
from bssrules.services.prices import cart_prices
from bssrules.services.resources import KINDS, View
from bssrules.services.runtime import Runtime

KIND = KINDS["shoppingCart"]


def without_prices(body: dict[str, Any]) -> dict[str, Any]:
    """A cart body without the prices a client may have sent (they are the server's)."""
    def items(values: Any) -> Any:
        if not isinstance(values, list):
            return values
        return [{k: items(v) if k == "cartItem" else v for k, v in item.items()
                 if k not in ("itemPrice", "itemTotalPrice")} if isinstance(item, dict) else item
                for item in values]

    return {k: items(v) if k == "cartItem" else v for k, v in body.items() if k != "cartTotalPrice"}


def pricer(uow: UnitOfWork, runtime: Runtime, strict: bool) -> View:
    """The view that prices a rendered cart. ``strict``: a cart no basket can be read from is
    a 400 (on create and patch); otherwise (a cart stored before carts were priced) it is
    shown as stored, without prices."""
    def priced(cart: dict[str, Any]) -> dict[str, Any]:
        items = cart.get("cartItem") or []
        if not items:
            return {**cart, "cartTotalPrice": []}
        try:
            read = read_cart(uow, {"cartItem": items, "relatedParty": cart.get("relatedParty") or []},
                             with_saved=True)
        except InvalidInput as exc:
            if strict:
                raise InvalidInput(f"the cart cannot be priced or checked: {exc}", path=exc.path) from None
            return cart
        assert read.basket.as_of is not None  # read_cart dates the basket now
        priced_items, totals = cart_prices(uow, runtime, read, read.basket.as_of)
        return {**cart, "cartItem": priced_items, "cartTotalPrice": totals}

    return priced


def create(uow: UnitOfWork, runtime: Runtime, body: dict[str, Any], allowed: Sequence[str]) -> dict[str, Any]:
    """Store a cart (its prices left out) and answer it priced."""
    return resources.create(uow, KIND, without_prices(body), allowed, pricer(uow, runtime, strict=True))


def patch(uow: UnitOfWork, runtime: Runtime, resource_id: str, body: dict[str, Any], allowed: Sequence[str]
          ) -> dict[str, Any]:
    """Merge-patch a cart (prices left out) and answer it priced."""
    return resources.patch(uow, KIND, resource_id, without_prices(body), allowed, pricer(uow, runtime, strict=True))


def get(uow: UnitOfWork, runtime: Runtime, resource_id: str) -> dict[str, Any]:
    """One cart, priced now."""
    return resources.get(uow, KIND, resource_id, pricer(uow, runtime, strict=False))


def list_page(uow: UnitOfWork, runtime: Runtime, filters: Mapping[str, Sequence[str]], offset: int, limit: int
              ) -> tuple[list[dict[str, Any]], int]:
    """One page of carts, each priced now."""
    return resources.list_page(uow, KIND, filters, offset, limit, pricer(uow, runtime, strict=False))
