"""Who asks and about whom: what the rules know of the caller, of a party and its
inventory, and which billing account pays for each payer role.

Qualification, configuration checks and orders read the same context, so it is read here
once, in one way.
"""
from __future__ import annotations

import re
from typing import Any

from bssrules.configurator.model import Caller, InventoryProduct, Party
from bssrules.errors import InvalidInput, UnknownReference, did_you_mean
from bssrules.services.party_facts import party_facts
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


def party_context(uow: UnitOfWork, party_id: str | None, as_of: Any = None) -> tuple[Party, list[InventoryProduct]]:
    """What the rules know of a party: its type, classification, segment, country, age as of
    the decision's date (``as_of``; now when None), whether it is a customer
    (:mod:`bssrules.services.party_facts` says where each comes from), and its products
    (TMF637) with their status and the resources they were realised with."""
    party, inventory, _ = basket_context(uow, party_id, [], as_of)
    return party, inventory


def basket_context(uow: UnitOfWork, party_id: str | None, related: list[dict[str, Any]], as_of: Any = None
                   ) -> tuple[Party, list[InventoryProduct], dict[str, str]]:
    """:func:`party_context` and :func:`payers_of` together, read in one round trip
    (``ResourceStore.party_context``): a check reads its party, the party's customer record
    and products, and each payer's billing account at once."""
    if party_id is not None and not isinstance(party_id, str):  # malformed, not a reference to nothing
        raise InvalidInput(f"relatedParty.id: a party id is text, got {party_id!r}", path=("relatedParty",))
    roles = _payer_roles(related)
    rows = uow.resources.party_context(party_id, [p for _, p in roles]) if party_id is not None or roles else None
    if party_id is None:
        party, inventory = Party(), []
    else:
        assert rows is not None
        if rows.party_document is None:  # one answer whether it does not exist or is another partner's
            # a well-formed id naming nothing: 422, as every other reference to a missing party
            # (services.resources); the suggestion is among the parties the caller may see
            hint = did_you_mean(party_id, uow.resources.ids(("individual", "organization")))
            raise UnknownReference(f"relatedParty.id: no individual or organization '{party_id}' is found or visible "
                                   "to you" + (f" (did you mean '{hint}'?)" if hint else ""))
        individual = rows.party_kind == "individual"
        facts = party_facts(rows.party_document, individual, as_of)
        inventory = [p for p in (inventory_product(id_, document) for id_, document in rows.products) if p]
        party = Party(id=party_id, type="individual" if individual else "organization",
                      classification=facts["classification"], segment=facts["segment"], country=facts["country"],
                      age=facts["age"], is_customer=rows.is_customer)
    payers: dict[str, str] = {}
    for role, payer in roles:  # a role's first party that has an account pays for it
        if role in payers:
            continue
        account = rows.accounts.get(payer) if rows is not None and isinstance(payer, str) else None
        if account is not None:
            payers[role] = account
    return party, inventory, payers


def caller_of(uow: UnitOfWork) -> Caller:
    """Who is asking, as the rules see it (``caller.id``, ``caller.type``): the operator is
    ``csp``, any other authenticated partner ``partner``; without authentication, nobody."""
    principal = uow.principal
    if principal is None:
        return Caller()
    return Caller(id=principal.id, type="csp" if principal.is_admin else "partner")


def _payer_roles(related: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """(role, party id) of the related parties that may pay: each with a role and an id."""
    return [(party.get("role"), party.get("id")) for party in related if party.get("role") and party.get("id")]


def payers_of(uow: UnitOfWork, related: list[dict[str, Any]]) -> dict[str, str]:
    """Payer role -> billing account: the first account of the first party holding the role
    that has one (all read in one round trip)."""
    return basket_context(uow, None, related)[2]
