"""Terminating products by order (TMF622 item ``action: delete``).

An item ``{"action": "delete", "product": {"id": …}}`` names a product of the order's party
in force (``active``, ``suspended`` or ``pendingTerminate``). Placing the order values it: the
item's ``itemPrice`` is the early termination charge the product would get if terminated at
the item's (else the order's) ``requestedStartDate``, else now (:mod:`bssrules.services.commitments`),
and the order's one-time total includes it. Completing the order terminates the product at
that date (a partner's no earlier than its products may start: :mod:`bssrules.services.dating`)
and charges it: the charge is computed again at completion, so an undated termination
costs what is left at the completion.

Terminating a bundle's product terminates its components in force, each charged under its
own term (:mod:`bssrules.services.bundles`); a delete item's ``itemPrice`` lists the bundle's
charges, then its components'.

Deleting a product from the inventory (TMF637 ``DELETE /product/{id}``, :func:`delete_product`)
follows the same principle: a bundle's product goes with its components (all of them,
whatever their status: they exist only as its parts), in one transaction. A component alone
is not deleted (409 naming its bundle: the bundle would name a product that is gone), nor is
a bundle whose component another bundle also names, or a product something else refers to;
a refused delete deletes nothing.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from bssrules.catalog.types import format_instant
from bssrules.configurator.model import InventoryProduct
from bssrules.errors import Conflict, InvalidInput, NotFound
from bssrules.services.commitments import instant_of
from bssrules.services.bundles import IN_FORCE, component_ids, components, terminate_all, terminated
from bssrules.services.ports import UnitOfWork
from bssrules.services.records import StoredResource
from bssrules.services.resources import KINDS, bump_rating_contexts


def deletions(items: Any) -> list[tuple[int, dict[str, Any]]]:
    """The order's items that terminate a product, with their index."""
    return [(i, item) for i, item in enumerate(items if isinstance(items, list) else [])
            if isinstance(item, dict) and item.get("action") == "delete"]


def _product_id(item: dict[str, Any]) -> Any:
    product = item.get("product")
    return product.get("id") if isinstance(product, dict) else None


def after_deletions(uow: UnitOfWork, items: Any, inventory: list[InventoryProduct],
                    word: str = "productOrderItem") -> list[InventoryProduct]:
    """The party's inventory as the request's checks see it: each product a delete item names
    (``product.id``, as :func:`violations` reads it) — a bundle's with its components in force,
    which go with it — marked ``deleted_by`` that item (``(word, index)``, its path in the
    request: items given as None keep their places but delete nothing). The configurator
    judges the items the request adds, and the products the party keeps, without them."""
    deleting: dict[str, tuple[str, int]] = {}
    for index, item in deletions(items):
        product_id = _product_id(item)
        if isinstance(product_id, str) and product_id:
            deleting.setdefault(product_id, (word, index))
    if not deleting:
        return inventory
    held = {p.id for p in inventory}
    for product_id, where in list(deleting.items()):
        stored = uow.resources.get("product", product_id) if product_id in held else None
        if stored is not None and component_ids(stored.document):
            for component in components(uow, stored.document):
                deleting.setdefault(component.id, where)
    return [p.model_copy(update={"deleted_by": deleting[p.id]}) if p.id in deleting else p for p in inventory]


def violations(uow: UnitOfWork, items: Any, party: str | None,
               requested: dt.datetime | None = None, word: str = "productOrderItem") -> list[dict[str, Any]]:
    """Why the order cannot terminate what its delete items name (the order's shape): among
    them, a termination asked for (the item's ``requestedStartDate``, else the order's:
    ``requested``) before the product starts — a product does not end before it starts, as
    a patch of its ``terminationDate`` says too."""
    found = _named_twice(items, word)
    deleting = _deleting(uow, items)
    for index, item in deletions(items):
        where = f"$.{word}[{index}].product.id"
        product_id = _product_id(item)
        stored = uow.resources.get("product", product_id) if isinstance(product_id, str) and product_id else None
        if stored is None:
            found.append({"code": "unknownProduct", "path": where,
                          "message": "a delete item names the product it terminates: product.id, a product of the "
                                     "inventory" + (f"; there is no product '{product_id}'" if product_id else "")})
        elif party is None or stored.party_id != party:
            found.append({"code": "notThePartysProduct", "path": where,
                          "message": f"product '{product_id}' is not a product of the order's customer"})
        elif stored.document.get("status") not in IN_FORCE:
            found.append({"code": "productNotInForce", "path": where,
                          "message": f"product '{product_id}' is {stored.document.get('status')}: only a product "
                                     f"{', '.join(IN_FORCE)} can be terminated"})
        else:
            kept = [b for b in _bundles_in_force_naming(uow, product_id) if b not in deleting]
            if kept:  # as DELETE /product/{id} refuses it: the bundle would name a product that is gone
                found.append({"code": "componentOfBundle", "path": where,
                              "message": f"product '{product_id}' is a component of bundle "
                                         + ", ".join(f"product '{b}'" for b in kept)
                                         + ", which the order keeps: delete the bundle, which deletes its "
                                           "components with it"})
            found += _before_start(stored.document, item, index, requested, word)
            found += _unbillable(uow, stored, item, requested, where)
    return found


def _unbillable(uow: UnitOfWork, stored: StoredResource, item: dict[str, Any], requested: dt.datetime | None,
                where: str) -> list[dict[str, Any]]:
    """The violation of a delete item whose product, or a component it takes along, holds a
    price the early termination charge cannot count (kept before prices were checked:
    :mod:`bssrules.services.commitments`): the order could not be valued, nor completed."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    at = instant_of(item.get("requestedStartDate")) or requested or now
    for product in [stored, *components(uow, stored.document)]:
        try:
            terminated(product.document, at, now)
        except InvalidInput as exc:
            return [{"code": "chargeCannotBeComputed", "path": where,
                     "message": f"product '{product.id}': {exc}"}]
    return []


_DONE = {"delete": "deleted", "modify": "modified", "noChange": "left unchanged"}


def _named_twice(items: Any, word: str) -> list[dict[str, Any]]:
    """A violation at each top-level item that names (``product.id``) a product an item before
    it deletes, or that deletes a product an item before it modifies or leaves unchanged: the
    request would do two things to one product (each product in one item)."""
    found = []
    first: dict[str, tuple[int, str]] = {}  # product id -> (index, action) of the first item naming it
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict) or item.get("action") not in _DONE:
            continue
        product_id, action = _product_id(item), item["action"]
        if not isinstance(product_id, str) or not product_id:
            continue
        if product_id not in first:
            first[product_id] = (index, action)
            continue
        before, done = first[product_id]
        if "delete" in (action, done):
            found.append({"code": "productNamedTwice", "path": f"$.{word}[{index}].product.id",
                          "message": f"product '{product_id}' is {_DONE[done]} by $.{word}[{before}] and "
                                     f"{_DONE[action]} by $.{word}[{index}]: name each product in one item"})
    return found


def _deleting(uow: UnitOfWork, items: Any) -> set[str]:
    """The ids of the products the request's delete items terminate: those they name, and the
    components of the bundles among them."""
    named = {p for _, item in deletions(items) if isinstance(p := _product_id(item), str) and p}
    found = set(named)
    for product_id in named:
        stored = uow.resources.get("product", product_id)
        if stored is not None and component_ids(stored.document):
            found.update(component_ids(stored.document))
    return found


def _bundles_in_force_naming(uow: UnitOfWork, product_id: str) -> list[str]:
    """The bundles in force (other than itself) of which the product is a component."""
    found = []
    for bundle_id in _bundles_naming(uow, product_id):
        bundle = uow.resources.get("product", bundle_id) if bundle_id != product_id else None
        if bundle is not None and bundle.document.get("status") in IN_FORCE:
            found.append(bundle_id)
    return sorted(found)


def _before_start(product: dict[str, Any], item: dict[str, Any], index: int,
                  requested: dt.datetime | None, word: str = "productOrderItem") -> list[dict[str, Any]]:
    """The violation of a delete item asking to end its product before the product starts."""
    own = instant_of(item.get("requestedStartDate"))
    at = own or requested
    start = instant_of(product.get("startDate"))
    if at is None or start is None or at >= start:
        return []
    where = f"$.{word}[{index}].requestedStartDate" if own else "$.requestedStartDate"
    return [{"code": "terminationBeforeStart", "path": where,
             "message": f"product '{_product_id(item)}' starts {product.get('startDate')}: it cannot be terminated "
                        f"at {format_instant(at)}, before it starts"}]


def _charges_of(document: dict[str, Any], at: dt.datetime, now: dt.datetime) -> list[dict[str, Any]]:
    return [p for p in terminated(document, at, now).get("productPrice") or []
            if p not in (document.get("productPrice") or [])]


def priced(uow: UnitOfWork, order: dict[str, Any], at: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    """The order with each delete item's early termination charge (``itemPrice``) if its
    product were terminated at the item's ``requestedStartDate``, else at ``at`` (the order's,
    else now) — where completing the order terminates it — and its one-time total with them."""
    items = list(order.get("productOrderItem") or [])
    totals = [dict(t) for t in order.get("orderTotalPrice") or []]
    charged: set[str] = set()  # a product the order terminates twice (a bundle and its component) is charged once
    for index, item in deletions(items):
        stored = uow.resources.get("product", str(_product_id(item)))
        if stored is None:
            continue
        when = instant_of(item.get("requestedStartDate")) or at
        charges = []
        for product in [stored, *components(uow, stored.document)]:
            if product.id not in charged:
                charged.add(product.id)
                charges += [dict(c, description=f"component {product.id} "
                                                f"({(product.document.get('productOffering') or {}).get('id')}): "
                                                f"{c.get('description')}") if product is not stored else c
                            for c in _charges_of(product.document, when, now)]
        if not charges:
            continue
        items[index] = dict(item, itemPrice=charges)
        for charge in charges:
            money = charge["price"]["taxIncludedAmount"]
            total = next((t for t in totals if t.get("priceType") == "oneTime" and not t.get("recurringChargePeriod")
                          and t["price"]["taxIncludedAmount"]["unit"] == money["unit"]), None)
            if total is None:
                totals.append({"priceType": "oneTime", "price": {"taxIncludedAmount": dict(money)}})
            else:
                shown = total["price"]["taxIncludedAmount"]
                total["price"] = dict(total["price"], taxIncludedAmount={
                    "unit": shown["unit"], "value": Decimal(str(shown["value"])) + Decimal(str(money["value"]))})
    return dict(order, productOrderItem=items, orderTotalPrice=totals)


def terminate(uow: UnitOfWork, item: dict[str, Any], at: dt.datetime, now: dt.datetime) -> str | None:
    """Terminate the product a delete item names, at ``at``, with its charge, and its
    components; when there is nothing to terminate any more (checked when the order was
    placed, terminated or deleted since — by another order, or as a component of a bundle
    this one terminated), why: the order says it in a note rather than nothing."""
    product_id = str(_product_id(item))
    stored = uow.resources.get("product", product_id, for_update=True)
    if stored is None:
        return f"product '{product_id}' was deleted since the order was placed: nothing to terminate"
    if stored.document.get("status") not in IN_FORCE:
        ended = stored.document.get("terminationDate")
        return (f"product '{product_id}' was {stored.document.get('status')} already"
                + (f" (terminationDate {ended})" if ended else "") + ": nothing more to terminate")
    terminate_all(uow, [stored, *components(uow, stored.document, for_update=True)], at, now, bump_rating_contexts)
    return None


def _bundles_naming(uow: UnitOfWork, product_id: str) -> list[str]:
    """The products whose ``bundled`` relationships name ``product_id`` (its bundles)."""
    named = uow.resources.referring(("product",), "productRelationship.product.id", product_id)
    found = []
    for _, bundle_id in named:
        bundle = uow.resources.get("product", bundle_id)
        if bundle is not None and product_id in component_ids(bundle.document):
            found.append(bundle_id)
    return found


def _referrers(uow: UnitOfWork, product_id: str) -> list[tuple[str, str]]:
    """(kind, id) of the resources other than products whose references name the product."""
    found: list[tuple[str, str]] = []
    for other in KINDS.values():
        for reference in other.references:
            if "product" in reference.kinds:
                found += uow.resources.referring((other.name,), reference.path, product_id)
    return found


def delete_product(uow: UnitOfWork, product_id: str) -> list[str]:
    """Delete a product of the inventory — a bundle's with all its components — in one
    transaction, or nothing (Conflict) when that would leave a reference to a deleted
    product. Returns the ids deleted, the product's first."""
    stored = uow.resources.get("product", product_id, for_update=True)
    if stored is None:
        raise NotFound("Product", product_id)
    parents = [b for b in _bundles_naming(uow, product_id) if b != product_id]
    if parents:
        raise Conflict(f"Product '{product_id}' is a component of bundle "
                       + ", ".join(f"Product '{b}'" for b in sorted(parents))
                       + ": delete the bundle, which deletes its components with it")
    family = {stored.id: stored}
    for component in components(uow, stored.document, for_update=True, in_force=False):
        family.setdefault(component.id, component)
    problems = []
    for member in family.values():
        others = sorted(b for b in _bundles_naming(uow, member.id) if b not in family)
        if others:
            problems.append(f"component Product '{member.id}' is also a component of "
                            + ", ".join(f"Product '{b}'" for b in others))
        users = sorted({(k, i) for k, i in _referrers(uow, member.id) if not (k == "product" and i in family)})
        if users:
            problems.append(f"Product '{member.id}' is still referred to by "
                            + ", ".join(f"{KINDS[k].type} '{i}'" for k, i in users))
    if problems:
        raise Conflict(f"Product '{product_id}' is not deleted: " + "; ".join(problems))
    for member in family.values():
        uow.resources.delete("product", member.id)
        bump_rating_contexts(uow, "product", member.id, member.document)
    uow.commit()
    return list(family)
