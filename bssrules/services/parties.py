"""Who asks and about whom: what the rules know of the caller, of a party and its
inventory, and which billing account pays for each payer role.

Qualification, configuration checks and orders read the same context, so it is read here
once, in one way.
"""
from __future__ import annotations

import re
from typing import Any

from bssrules.configurator.model import Caller, InventoryProduct, Party
from bssrules.errors import InvalidInput
from bssrules.services.ports import UnitOfWork
from bssrules.services.resources import values_at


# A catalog id (bssrules.catalog.model.Id): a stored product may name anything (TMF637 takes
# any text), but only what could be a catalog id can be an offering or a resource
# specification the rules name; the rest is left out rather than refused on every basket.
_CATALOG_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")


def _catalog_ids(values: list[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str) and len(v) <= 128 and _CATALOG_ID.match(v)]


def inventory_product(product_id: str, document: dict[str, Any]) -> InventoryProduct | None:
    """A stored product (TMF637) as the rules see it: its offering, its status and the
    resources it was realised with (``realizingResource[].id``: the resource specifications
    its order item picked, which an order writes on the products it creates). None for a
    product the rules cannot concern (no offering, or a status outside TMF637's)."""
    offering = _catalog_ids(values_at(document, "productOffering.id"))
    status = document.get("status")
    if not offering or not product_id or status not in ("created", "pendingActive", "active", "pendingTerminate",
                                                        "suspended", "terminated", "cancelled", "aborted"):
        return None
    resources = list(dict.fromkeys(_catalog_ids(values_at(document, "realizingResource.id"))))
    return InventoryProduct(id=product_id, offering=offering[0], status=status, resources=resources)


def party_context(uow: UnitOfWork, party_id: str | None) -> tuple[Party, list[InventoryProduct]]:
    """What the rules know of a party: its type, classification, whether it is a customer,
    and its products (TMF637) with their status and the resources they were realised with."""
    if party_id is None:
        return Party(), []
    stored = uow.resources.get("individual", party_id) or uow.resources.get("organization", party_id)
    if stored is None:  # one answer whether it does not exist or is another partner's: existence does not leak
        raise InvalidInput(f"relatedParty '{party_id}': no individual or organization with this id is found or "
                           "visible to you", path=("relatedParty",))
    characteristics = {c.get("name"): c.get("value") for c in stored.document.get("partyCharacteristic") or []
                       if isinstance(c, dict)}
    classification = characteristics.get("classification")
    # find: one query each (page counts the matches too, which nothing here reads)
    customers = uow.resources.find("customer", {"engagedParty.id": [party_id]}, 1)
    products = uow.resources.find("product", {"relatedParty.id": [party_id]}, 1000)
    inventory = [p for p in (inventory_product(product.id, product.document) for product in products) if p]
    party = Party(id=party_id, type="individual" if stored.kind == "individual" else "organization",
                  classification=classification if isinstance(classification, str) else None,
                  is_customer=bool(customers))
    return party, inventory


def caller_of(uow: UnitOfWork) -> Caller:
    """Who is asking, as the rules see it (``caller.id``, ``caller.type``): the operator is
    ``csp``, any other authenticated partner ``partner``; without authentication, nobody."""
    principal = uow.principal
    if principal is None:
        return Caller()
    return Caller(id=principal.id, type="csp" if principal.is_admin else "partner")


def payers_of(uow: UnitOfWork, related: list[dict[str, Any]]) -> dict[str, str]:
    """Payer role -> billing account: the first account of the party that holds the role."""
    payers: dict[str, str] = {}
    for party in related:
        role, party_id = party.get("role"), party.get("id")
        if not role or not party_id or role in payers:
            continue
        accounts = uow.resources.find("billingAccount", {"relatedParty.id": [party_id]}, 1)
        if accounts:
            payers[role] = accounts[0].id
    return payers
