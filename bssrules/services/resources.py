"""Use cases of the TMF resources kept as documents: parties (TMF632), customers (TMF629),
billing accounts (TMF666), product inventory (TMF637).

A body is checked against the official definition by the API layer; here it gets its
server-managed fields, its references are checked (a customer's engaged party must exist:
422 otherwise), and it is stored in one transaction. A resource still referred to cannot be
deleted (409). Documents keep every attribute the definition allows; unknown top-level
attributes are refused.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from collections.abc import Mapping as AbcMapping  # (typing.Mapping's isinstance is the slow path)
from typing import Any, Callable, Mapping, Sequence

from bssrules.catalog.types import parse_instant
from bssrules.pricing.billing import BillingPeriod, bill_id
from bssrules.errors import Conflict, InvalidInput, NotFound, UnknownReference, did_you_mean, format_path
from bssrules.services import bundles, commitments
from bssrules.services.referrers import referrers_text
from bssrules.services.records import MAX_ID, MAX_STATE, StoredResource, href
from bssrules.services.ports import UnitOfWork

SERVER_MANAGED = ("href", "@baseType", "@schemaLocation")
# What the answer adds to a rendered resource (a shopping cart's prices: services.carts),
# computed in the request's transaction, before its commit: when it fails, nothing is stored.
View = Callable[[dict[str, Any]], dict[str, Any]]


def _shown(rendered: dict[str, Any], view: View | None) -> dict[str, Any]:
    return view(rendered) if view is not None else rendered


@dataclass(frozen=True)
class Reference:
    """A dotted path of a document that holds ids of resources of ``kinds``."""

    path: str
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class ResourceKind:
    name: str  # the path segment: individual, customer, billingAccount …
    type: str  # the TMF definition and @type: Individual, Customer …
    api: str  # the API's path prefix
    references: tuple[Reference, ...] = ()
    party_path: str | None = None  # where the owning party's id is, for per-party queries
    state_field: str | None = None
    # the instants the use cases read (bill runs, rating): a date or date-time, checked on every change
    instants: tuple[str, ...] = ()
    # references to resources kept elsewhere (the catalog), whose ids are at most MAX_ID long
    catalog_references: tuple[str, ...] = ()


PARTIES = ("individual", "organization")
KINDS: dict[str, ResourceKind] = {k.name: k for k in (
    ResourceKind("individual", "Individual", "/tmf-api/party/v4", state_field="status"),
    ResourceKind("organization", "Organization", "/tmf-api/party/v4", state_field="status"),
    ResourceKind("customer", "Customer", "/tmf-api/customerManagement/v4",
                 (Reference("engagedParty.id", PARTIES),), party_path="engagedParty.id", state_field="status"),
    ResourceKind("billingAccount", "BillingAccount", "/tmf-api/accountManagement/v4",
                 (Reference("relatedParty.id", PARTIES),), party_path="relatedParty.id", state_field="state"),
    ResourceKind("product", "Product", "/tmf-api/productInventory/v4",
                 (Reference("relatedParty.id", PARTIES), Reference("billingAccount.id", ("billingAccount",))),
                 party_path="relatedParty.id", state_field="status",
                 instants=("startDate", "terminationDate", "orderDate"),
                 catalog_references=("productOffering.id", "productSpecification.id")),
    ResourceKind("shoppingCart", "ShoppingCart", "/tmf-api/shoppingCart/v4",
                 (Reference("relatedParty.id", PARTIES),), party_path="relatedParty.id"),
)}


class MergePatch(dict[str, Any]):
    """A merge patch whose check (api.deps.json_body) found dates that are none (``format:
    date-time``, 2026-09-01t10:00:00z) and left them to :func:`patch`, with the message of each
    (``date_problems``: its path in the body, its text): a value the resource already holds
    there, stored before the dates of a body were judged, is sent back as GET gave it — a
    partner's GET-modify-PATCH is not refused for a value it did not change; any other is."""

    date_problems: tuple[tuple[tuple[str | int, ...], str], ...] = ()


def _at(node: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, AbcMapping):
            node = node.get(part)
        else:
            return None
    return node


def _check_dates_sent_back(body: Mapping[str, Any], stored: Mapping[str, Any]) -> None:
    """The dates of a :class:`MergePatch` that are none are refused (400, naming each, as the
    check of the body names them), unless the stored resource holds the same value at the
    same attribute (an element of a list anywhere in it: a list is patched whole)."""
    details = [(path, text) for path, text in getattr(body, "date_problems", ())
               if _at(body, path) not in values_at(stored, ".".join(p for p in path if isinstance(p, str)))]
    if details:
        raise InvalidInput("; ".join(text for _, text in details), path=details[0][0],
                           details=[text for _, text in details])


def values_at(document: Mapping[str, Any], path: str) -> list[Any]:
    """Every value at a dotted path (lists are walked)."""
    nodes: list[Any] = [document]
    for part in path.split("."):
        next_nodes = []
        for node in nodes:
            items = node if isinstance(node, list) else [node]
            next_nodes += [item[part] for item in items if isinstance(item, AbcMapping) and item.get(part) is not None]
        nodes = next_nodes
    return [v for node in nodes for v in (node if isinstance(node, list) else [node])]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _render(kind: ResourceKind, stored: StoredResource) -> dict[str, Any]:
    shown = stored.shown
    if kind.name == "product":  # its term in force, renewals counted (issue 15: services.commitments)
        shown = commitments.shown_terms(shown, _now())
    return {**shown, "id": stored.id, "href": href(f"{kind.api}/{kind.name}", stored.id), "@type": kind.type}


def _check_fields(kind: ResourceKind, body: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(set(body) - set(allowed) - set(SERVER_MANAGED) - {"id", "@type"})
    if unknown:
        raise InvalidInput(f"unsupported field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                           f"for {kind.type}", path=(unknown[0],), suggestion=did_you_mean(unknown[0], allowed))
    declared = body.get("@type")
    if declared not in (None, kind.type):
        raise InvalidInput(f"@type '{declared}' does not match this resource ({kind.type})", path=("@type",))


def _check_references(uow: UnitOfWork, kind: ResourceKind, document: Mapping[str, Any]) -> None:
    problems = []
    for reference in kind.references:
        for value in values_at(document, reference.path):
            if not isinstance(value, str) or not uow.resources.exists(reference.kinds, value):
                known = uow.resources.ids(reference.kinds)
                hint = did_you_mean(str(value), known)
                problems.append(f"{reference.path}: no {' or '.join(reference.kinds)} '{value}'"
                                + (f" (did you mean '{hint}'?)" if hint else ""))
    if problems:
        raise UnknownReference("; ".join(problems), details=problems)


def _check_values(kind: ResourceKind, document: Mapping[str, Any]) -> None:
    """What the use cases later read must be readable: its instants dates or date-times (a bill
    run reads a product's startDate), its state and catalog references no longer than the
    store keeps (a 400 naming the field, before anything is written)."""
    for name in kind.instants:
        value = document.get(name)
        if value is None:
            continue
        try:
            parsed = parse_instant(value)
        except ValueError as exc:
            raise InvalidInput(f"{name}: {exc}", path=(name,)) from None
        if not isinstance(parsed, dt.datetime):
            raise InvalidInput(f"{name} is a date or date-time, not {value!r}", path=(name,))
    state = document.get(kind.state_field) if kind.state_field else None
    if kind.state_field and isinstance(state, str) and len(state) > MAX_STATE:
        raise InvalidInput(f"{kind.state_field} has at most {MAX_STATE} characters; this one has {len(state)}",
                           path=(kind.state_field,))
    for path in kind.catalog_references:
        for value in values_at(document, path):
            if isinstance(value, str) and len(value) > MAX_ID:
                raise InvalidInput(f"{path} has at most {MAX_ID} characters (a catalog id); this one has {len(value)}",
                                   path=tuple(path.split(".")))


def _names_no_zone(value: Any) -> bool:
    """Whether ``value`` is a date-time that says not in which time zone it is (a plain date
    is the day's start in UTC, as documented; 12:00 without a zone could be any of 26 hours)."""
    if not isinstance(value, str) or len(value.strip()) == 10:
        return False
    try:
        return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")).tzinfo is None
    except ValueError:
        return False  # not a date-time at all: _check_values says so


def _check_instants(kind: ResourceKind, changes: Mapping[str, Any], document: Mapping[str, Any]) -> None:
    """The instants a change writes are unambiguous and in order (a 400 naming the field,
    before anything is written): each date-time names its zone, as a usage's must — a bill
    cuts a month at an instant — and a product ends no earlier than it starts (a
    ``terminationDate`` before its ``startDate`` was billed an early termination charge for
    a time before the product existed). Only what ``changes`` writes is checked for its zone,
    so that a product stored before this check stays changeable."""
    _check_values(kind, document)
    for name in kind.instants:
        value = changes.get(name)
        if _names_no_zone(value):
            raise InvalidInput(f"{name}: {value!r} names no time zone; write the instant in UTC "
                               f"({value}Z) or with its offset ({value}+02:00)", path=(name,))
    if kind.name == "product" and ("startDate" in changes or "terminationDate" in changes):
        start, end = document.get("startDate"), document.get("terminationDate")
        starts, ends = parse_instant(start), parse_instant(end)  # readable: _check_values said so
        if isinstance(starts, dt.datetime) and isinstance(ends, dt.datetime) and ends < starts:
            raise InvalidInput(f"terminationDate: {end} is before the product's startDate {start}; a product "
                               "ends no earlier than it starts", path=("terminationDate",))


def _check_prices(uow: UnitOfWork, prices: Any, kept: Any = ()) -> None:
    """A product's prices are ones the bill run can bill (a 400 naming each attribute at fault,
    before anything is written — the run would leave the account unbilled): an amount with a
    currency of ISO 4217 and a number of at most 15 digits before the point, its discounts in
    its currency and lasting a whole number of months, 1 or more, and a recurring price's
    period one the run knows (:func:`commitments.price_problems`, which reads a price as the
    run does). The account a price names (``productPrice[].billingAccount.id``, and each of
    its ``payerShares``') must exist (422, as the product's own). A price ``kept`` as stored
    (sent back unchanged in a patch) is not judged again: one stored before prices were
    checked stays as the run reports it."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    accounts: list[tuple[str, Any]] = []  # (where, the id named)
    kept = kept if isinstance(kept, list) else []
    for index, price in enumerate(prices if isinstance(prices, list) else []):
        if price in kept:
            continue
        problems += [(("productPrice", index, *path), text) for path, text in commitments.price_problems(price, True)]
        account = price.get("billingAccount") if isinstance(price, dict) else None
        if isinstance(account, AbcMapping) and account.get("id") is not None:
            accounts.append((f"productPrice[{index}].billingAccount.id", account["id"]))
        # a price shared between payers names each one's account (services.orders)
        shares = price.get("payerShares") if isinstance(price, dict) else None
        for number, share in enumerate(shares if isinstance(shares, list) else []):
            account = share.get("billingAccount") if isinstance(share, AbcMapping) else None
            if isinstance(account, AbcMapping) and account.get("id") is not None:
                accounts.append((f"productPrice[{index}].payerShares[{number}].billingAccount.id", account["id"]))
    if problems:
        texts = [f"{format_path(path).removeprefix('$.')}: {text}" for path, text in problems]
        raise InvalidInput("; ".join(texts), path=problems[0][0], details=texts)
    unknown = [(i, a) for i, a in accounts if not isinstance(a, str) or not uow.resources.exists(("billingAccount",), a)]
    if unknown:
        known = uow.resources.ids(("billingAccount",))
        texts = []
        for where, account in unknown:
            hint = did_you_mean(str(account), known)
            texts.append(f"{where}: no billingAccount '{account}'" + (f" (did you mean '{hint}'?)" if hint else ""))
        raise UnknownReference("; ".join(texts), details=texts)


def _refuse_moving_a_billed_charge(uow: UnitOfWork, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """A terminated product's early termination charge is billed in the month of its
    termination, once. When that month's bill of an account paying it is made, the termination
    can no longer move nor be undone (409): the charge, worked out again at the new date (or
    dropped), would be billed a second time in the new month — or kept by a bill for a
    termination that no longer is. A credit note is the way to correct a bill."""
    ended = commitments.instant_of(before.get("terminationDate")) if before.get("status") == "terminated" else None
    if ended is None:
        return
    if after.get("status") == "terminated" and commitments.instant_of(after.get("terminationDate")) == ended:
        return
    try:
        month = BillingPeriod.month(f"{ended.astimezone(dt.timezone.utc):%Y-%m}")
    except ValueError:  # (December 9999: a month no bill run bills)
        return
    for price in before.get("productPrice") or []:
        if not (isinstance(price, AbcMapping) and price.get("@type") == commitments.ETF_TYPE):
            continue
        currency = (price.get("price") or {}).get("taxIncludedAmount", {}).get("unit")
        payers = [price.get("billingAccount")] + [s.get("billingAccount") for s in price.get("payerShares") or []
                                                  if isinstance(s, AbcMapping)]
        for payer in payers:
            account = payer.get("id") if isinstance(payer, AbcMapping) else None
            if isinstance(account, str) and isinstance(currency, str) \
                    and uow.resources.get("customerBill", bill_id(account, month, currency)) is not None:
                raise Conflict(f"the early termination charge of this product is billed in "
                               f"{bill_id(account, month, currency)} (the month of its terminationDate): the "
                               "termination can no longer move nor be undone, or the charge would be billed "
                               "twice; correct the bill with a credit note")


def _columns(kind: ResourceKind, document: Mapping[str, Any]) -> dict[str, Any]:
    _check_values(kind, document)
    party = values_at(document, kind.party_path)[:1] if kind.party_path else []
    state = document.get(kind.state_field) if kind.state_field else None
    return {"party_id": party[0] if party else None, "state": state if isinstance(state, str) else None}


# What a change of each kind may alter of a subscription's rating context (the party's class
# and effective offerings, the payers): the paths naming the parties and accounts concerned.
_CONTEXT_PARTIES = {"product": "relatedParty.id", "billingAccount": "relatedParty.id", "customer": "engagedParty.id"}


def bump_rating_contexts(uow: UnitOfWork, kind: str, resource_id: str, *documents: Mapping[str, Any]) -> None:
    """Move on the rating-context revision of every subscription a change of this resource
    may concern (before and after the change), in the change's transaction: workers then
    read the context again (:mod:`bssrules.services.rating_context`)."""
    parties = [v for d in documents for v in values_at(d, _CONTEXT_PARTIES[kind])] if kind in _CONTEXT_PARTIES else []
    if kind == "product":
        uow.online.bump(products=[resource_id], parties=parties)
    elif kind in PARTIES:
        uow.online.bump(parties=[resource_id])
    elif kind == "billingAccount":
        uow.online.bump(parties=parties, accounts=[resource_id])
    elif kind == "customer":
        uow.online.bump(parties=parties)


def create(uow: UnitOfWork, kind: ResourceKind, body: dict[str, Any], allowed: Sequence[str],
           view: View | None = None) -> dict[str, Any]:
    """Create a resource from a create body (an ``id`` may be given; else one is made)."""
    _check_fields(kind, body, allowed)
    resource_id = body.get("id") or str(uuid.uuid4())
    if not isinstance(resource_id, str):
        raise InvalidInput("id must be a string", path=("id",))
    if len(resource_id) > MAX_ID:
        raise InvalidInput(f"id has at most {MAX_ID} characters; this one has {len(resource_id)}", path=("id",))
    if uow.resources.get(kind.name, resource_id) is not None:
        raise Conflict(f"a {kind.type} with id '{resource_id}' already exists")
    document = {k: v for k, v in body.items() if k not in SERVER_MANAGED and k not in ("id", "@type")}
    _check_instants(kind, document, document)
    if kind.name == "product":
        _check_prices(uow, document.get("productPrice"))
        commitments.check_terms(document.get("productTerm"))
    _check_references(uow, kind, document)
    now = _now()
    stored = StoredResource(kind.name, resource_id, 1, now, now, document, **_columns(kind, document))
    uow.resources.insert(stored)
    bump_rating_contexts(uow, kind.name, resource_id, document)
    shown = _shown(_render(kind, stored), view)
    uow.commit()
    return shown


def get(uow: UnitOfWork, kind: ResourceKind, resource_id: str, view: View | None = None) -> dict[str, Any]:
    stored = uow.resources.get(kind.name, resource_id)
    if stored is None:
        raise NotFound(kind.type, resource_id)
    return _shown(_render(kind, stored), view)


def list_page(uow: UnitOfWork, kind: ResourceKind, filters: Mapping[str, Sequence[str]], offset: int, limit: int,
              view: View | None = None) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.resources.page(kind.name, filters, offset, limit)
    return [_shown(_render(kind, s), view) for s in page], total


def patch(uow: UnitOfWork, kind: ResourceKind, resource_id: str, body: dict[str, Any], allowed: Sequence[str],
          view: View | None = None) -> dict[str, Any]:
    """Apply a JSON merge patch (null removes); a date sent back as stored is kept (:class:`MergePatch`)."""
    from bssrules.services.catalog import merge_patch

    stored = uow.resources.get(kind.name, resource_id, for_update=True)
    if stored is None:
        raise NotFound(kind.type, resource_id)
    _check_dates_sent_back(body, stored.document)
    if "id" in body and body["id"] != resource_id:
        raise InvalidInput("the id of a resource cannot be changed", path=("id",))
    _check_fields(kind, body, allowed)
    changes = {k: v for k, v in body.items() if k not in SERVER_MANAGED and k not in ("id", "@type")}
    document = merge_patch(stored.document, changes)
    if document == stored.document:
        return _shown(_render(kind, stored), view)
    # (an instant sent back as stored is not judged again: one stored before the zone was asked for)
    _check_instants(kind, {k: v for k, v in changes.items() if v != stored.document.get(k)}, document)
    if kind.name == "product" and document.get("productPrice") != stored.document.get("productPrice"):
        _check_prices(uow, document.get("productPrice"), stored.document.get("productPrice") or [])
    if kind.name == "product" and document.get("productTerm") != stored.document.get("productTerm"):
        commitments.check_terms(document.get("productTerm"), stored.document.get("productTerm") or [])
    if kind.name == "product":  # terminated under commitment: its early termination charge
        _refuse_moving_a_billed_charge(uow, stored.document, document)
        document = commitments.on_product_change(stored.document, document, _now())
    _check_references(uow, kind, document)
    updated = stored.bumped(document, _now(), **_columns(kind, document))
    uow.resources.replace(updated)
    bump_rating_contexts(uow, kind.name, resource_id, stored.document, document)
    if kind.name == "product":  # a bundle terminated: its components too (issue 15)
        bundles.on_terminated(uow, stored.document, document, _now(), bump_rating_contexts,
                              _refuse_moving_a_billed_charge)
    shown = _shown(_render(kind, updated), view)
    uow.commit()
    return shown


# Who else names a resource by id, beyond the references of KINDS (those a body is checked
# against when it is written): a bill and its lines name the account they bill, a product's
# price the account that pays it (or each that pays a share of it). Deleting the account would leave them naming nothing.
ALSO_REFERRED_BY: dict[str, tuple[tuple[str, str], ...]] = {
    "billingAccount": (("customerBill", "billingAccount.id"), ("appliedCustomerBillingRate", "billingAccount.id"),
                       ("product", "productPrice.billingAccount.id"),
                       ("product", "productPrice.payerShares.billingAccount.id")),
}
TYPE_NAMES = {**{k.name: k.type for k in KINDS.values()}, "customerBill": "CustomerBill",
              "appliedCustomerBillingRate": "AppliedCustomerBillingRate"}


def delete(uow: UnitOfWork, kind: ResourceKind, resource_id: str) -> None:
    """Delete a resource nothing refers to (409 otherwise, naming who refers to it)."""
    stored = uow.resources.get(kind.name, resource_id, for_update=True)
    if stored is None:
        raise NotFound(kind.type, resource_id)
    users = []
    for other in KINDS.values():
        for reference in other.references:
            if kind.name in reference.kinds:
                users += uow.resources.referring((other.name,), reference.path, resource_id)
    for other_kind, path in ALSO_REFERRED_BY.get(kind.name, ()):
        users += uow.resources.referring((other_kind,), path, resource_id)
    problems = [referrers_text(uow, users, TYPE_NAMES)] if users else []
    if kind.name == "billingAccount":  # rated usage it pays, billed or not yet
        charges = sum(t["count"] for t in uow.charges.totals(billing_accounts=[resource_id]))
        if charges:
            problems.append(f"{charges} rated charge{'s' if charges > 1 else ''}")
    if problems:
        raise Conflict(f"{kind.type} '{resource_id}' is still referred to by " + "; ".join(problems))
    uow.resources.delete(kind.name, resource_id)
    bump_rating_contexts(uow, kind.name, resource_id, stored.document)
    uow.commit()
