"""Use cases of TMF622 product orders.

An order is validated exactly like a basket: if anything is wrong it is refused with 422
and every violation, and nothing is stored. Accepted, it is ``acknowledged`` with its value
(``orderTotalPrice``, ``itemPrice``). Its state then moves by PATCH: acknowledged →
inProgress → completed, or → cancelled (from acknowledged or inProgress), or inProgress →
failed. Completing re-validates the order against the party's inventory as it is then —
under a lock on the party, so two orders of one party cannot both slip a forbidden pair
in — and creates the product inventory: one active product per item, with its
characteristics (those chosen, then each of its specification's that takes a value when none
is chosen: :func:`_product_characteristics`; the order keeps its items as sent), resources,
related parties and the billing account of each price's payer — of each of its payers, with
their weights (``payerShares``), when a split billing rule shares the price; an order naming
no billing account for one of them is refused when placed (configurator.validate), and fails
at completion (``noBillingAccount``) should the account have gone in between.
The same ``externalId`` twice from one orderer yields one order (its second request gets
it back, or 409 when its content differs); an ``externalId`` is the orderer's own reference:
two partners may use the same, and neither learns of the other's (:func:`external_key`).

Products start when the order says (:mod:`bssrules.services.dating` has the limits): the
``startDate`` the operator gives an item's product when completing the order, else the
item's own ``requestedStartDate``, else the order's, else the completion; a bundle's
components start with it, and its product names them (``productRelationship`` ``bundled``). The operator's orders may start products in the past as far as
``BSSRULES_ORDER_MAX_BACKDATE`` allows (a request further back is refused); a partner's
products never start before the completion less ``BSSRULES_PARTNER_MAX_BACKDATE``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from typing import Any, Mapping

from pydantic import ValidationError

from bssrules.services.configuration import adds_a_product, basket_item, cart_path, refuse_nested_actions
from bssrules.services.parties import basket_context, caller_of
from bssrules.configurator.model import Basket, BasketItem
from bssrules.configurator.validate import ValidationResult, not_in_force_label, validate_basket
from bssrules.catalog.model import Characteristic, ProductOffering, Scalar
from bssrules.catalog.types import format_instant, parse_instant
from bssrules.dates import date_time_problem, names_no_zone, no_zone_problem, shown
from bssrules.errors import Forbidden, BssRulesError, Conflict, InvalidInput, NotFound, UnknownReference
from bssrules.services import allowance_buckets, commitments, notifications, terminations
from bssrules.services.dating import DatingPolicy
from bssrules.pricing.valuation import value_basket
from bssrules.services.prices import as_held, price_shown, total_shown
from bssrules.rules.decisions import decide
from bssrules.services.records import StoredResource, href
from bssrules.services.resources import values_at
from bssrules.services.ports import UnitOfWork
from bssrules.services.runtime import Runtime

API = "/tmf-api/productOrderingManagement/v4"
INVENTORY_API = "/tmf-api/productInventory/v4"
KIND = "productOrder"
MAX_EXTERNAL_ID = 200  # the longest externalId (as long as the store kept them before they were keyed by orderer)
TRANSITIONS = {"acknowledged": {"inProgress", "cancelled"}, "inProgress": {"completed", "failed", "cancelled"}}


class OrderRejected(BssRulesError):
    """The order breaks the catalog or the rules (HTTP 422 with every violation)."""

    code = "orderRejected"

    def __init__(self, violations: list[dict[str, Any]]):
        self.violations = violations
        super().__init__(f"{len(violations)} violation{'s' if len(violations) != 1 else ''}: " + "; ".join(
            f"{v['path']}: {v['message']}" + (f" [rule {v['ruleSet']}/{v['rule']}]" if v.get("rule") else "")
            for v in violations))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _order_path(path: str) -> str:
    return cart_path(path).replace("cartItem", "productOrderItem")


def _basket(uow: UnitOfWork, document: dict[str, Any], as_of: dt.datetime) -> Basket:
    items_data = document.get("productOrderItem") or []
    if not all(isinstance(i, dict) for i in items_data):
        raise InvalidInput("productOrderItem is a list of objects", path=("productOrderItem",))
    related = [p for p in document.get("relatedParty") or [] if isinstance(p, dict)]
    buyer = next((p for p in related if p.get("role") in CUSTOMER_ROLES), {})
    customer = buyer.get("id")
    # one round trip for the party, its products and the payers' accounts; its age as of the order's date
    party, inventory, payers = basket_context(uow, customer, related, as_of)
    account = _ordered_account(document)
    if account is not None:  # the account the order names is the one its customer pays by
        payers = {**payers, buyer.get("role", "customer"): account}
    # the products its delete items terminate are gone for its checks (services.terminations)
    inventory = terminations.after_deletions(uow, items_data, inventory)
    channel = values_at(document, "channel.channel.id") or values_at(document, "channel.id")
    items = []
    for i, data in enumerate(items_data):
        if adds_a_product(data):  # as a cart and a configuration check read it
            try:
                items.append(basket_item(data, f"productOrderItem[{i}]", "productOrderItem"))
            except ValidationError as exc:
                where = _malformed_item(data, f"productOrderItem[{i}]")
                first = exc.errors(include_url=False)[0]
                raise InvalidInput(f"{where}.{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return Basket(items=items, party=party, channel=channel[0] if channel else None, as_of=as_of,
                  inventory=inventory, payers=payers, caller=caller_of(uow))


def _malformed_item(data: dict[str, Any], path: str) -> str:
    """Where, in an item that cannot be read, the item at fault is: the first of its components
    that cannot be read by itself (at any depth), else the item (the message said
    ``malformed order: quantity: …``, naming no item)."""
    for index, child in enumerate(data.get("productOrderItem") or []):
        place = f"{path}.productOrderItem[{index}]"
        try:
            basket_item(child, place, "productOrderItem")
        except ValidationError:
            return _malformed_item(child, place)
    return path


# what a modify item may carry: the product it names, as a reference (a change is not made)
_PRODUCT_REFERENCE = {"id", "href", "name", "@type", "@baseType", "@referredType", "@schemaLocation"}


def _refuse_changes_not_made(uow: UnitOfWork, items: Any, base: tuple[str | int, ...]) -> None:
    """A 400 for a ``modify`` item (at any depth) that asks for a change of its product: its
    characteristics, resources, dates or another offering. Completing an order makes the
    products it adds and terminates those it deletes; it changes no product — such an order
    was answered ``completed`` with the product as it was. A ``modify`` naming only its
    product changes nothing, and is taken as such (as ``noChange``)."""
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        place = base + (index,)
        if item.get("action") == "modify":
            given = item.get("product")
            product: dict[str, Any] = given if isinstance(given, dict) else {}
            changed = sorted(set(product) - _PRODUCT_REFERENCE)
            if changed:
                raise InvalidInput(_not_made(place + ("product", changed[0]), f"its {', '.join(changed)}"),
                                   path=place + ("product", changed[0]))
            offering = values_at(item, "productOffering.id")
            held = uow.resources.get("product", product["id"]) if isinstance(product.get("id"), str) else None
            held_offering = values_at(held.document, "productOffering.id") if held is not None else []
            if offering and held_offering and held_offering != offering:
                raise InvalidInput(_not_made(place + ("productOffering", "id"),
                                             f"its offering, '{held_offering[0]}', to '{offering[0]}'"),
                                   path=place + ("productOffering", "id"))
        _refuse_changes_not_made(uow, item.get("productOrderItem"), place + ("productOrderItem",))


def _not_made(path: tuple[str | int, ...], change: str) -> str:
    return (f"{_where(path)}: this modify item would change {change}, and an order changes no product of the "
            "inventory (completing it adds and deletes products); a modify item names only its product "
            "(product.id): to have the product otherwise, delete it and add it as wanted in one order")


def _ordered_account(document: dict[str, Any]) -> str | None:
    """The id of the order's ``billingAccount`` (TMF622: the account the order is billed to),
    or None when it names none."""
    account = document.get("billingAccount")
    if account is None or account == {}:
        return None
    if not isinstance(account, dict) or not isinstance(account.get("id"), str) or not account["id"]:
        raise InvalidInput("billingAccount is a reference to a billing account: {\"id\": \"…\"}", path=("billingAccount",))
    return str(account["id"])


def _missing_account(uow: UnitOfWork, document: dict[str, Any]) -> str | None:
    """Why the order's ``billingAccount`` cannot pay (None when it names none, or one the
    caller may see): its charges would be billed to an account nobody has."""
    account = _ordered_account(document)
    if account is None or uow.resources.get("billingAccount", account) is not None:
        return None
    return f"billingAccount.id: no billing account '{account}' is found or visible to you"


CUSTOMER_ROLES = ("customer", "buyer")  # the related party an order is placed for (as _basket reads it)


def _refuse_no_customer(body: dict[str, Any]) -> None:
    """A 400 for an order that names no customer: it was checked for nobody (no eligibility,
    no inventory for the compatibility rules) and made products that nobody owned or that
    no account paid for."""
    related = [p for p in body.get("relatedParty") or [] if isinstance(p, dict)]
    if any(p.get("role") in CUSTOMER_ROLES and p.get("id") for p in related):
        return
    roles = sorted({str(p.get("role")) for p in related if p.get("role")})
    raise InvalidInput("relatedParty: an order names its customer, a related party with role customer (or buyer), "
                       "whose products it makes and whose account pays for them"
                       + (f"; this one's roles: {', '.join(roles)}" if roles else "; this one names none"),
                       path=("relatedParty",))


def _missing_party(uow: UnitOfWork, document: dict[str, Any]) -> str | None:
    """Why a related party of the order cannot be one (None when each is an individual or an
    organization the caller may see). Each is written on the products, may pay for them (a
    payer role's account is its own) and may see them: an id naming nobody, or another
    partner's customer, was taken — and that customer's account billed."""
    for index, party in enumerate(document.get("relatedParty") or []):
        id = party.get("id") if isinstance(party, dict) else None
        if isinstance(id, str) and id and uow.resources.get("individual", id) is None \
                and uow.resources.get("organization", id) is None:
            return f"relatedParty[{index}].id: no individual or organization '{id}' is found or visible to you"
    return None


_BASKET_ITEM = re.compile(r"^\$\.items\[(\d+)\]")


def _violations(result: ValidationResult, items_data: Any) -> list[dict[str, Any]]:
    """The violations in the order's terms: a basket item's path names the order item it was
    read from (the basket holds only the items that add a product: ``[delete, add]`` has its
    add item at ``productOrderItem[1]``)."""
    places = [i for i, data in enumerate(items_data if isinstance(items_data, list) else []) if adds_a_product(data)]

    def placed(path: str) -> str:
        match = _BASKET_ITEM.match(path)
        if match is None or int(match.group(1)) >= len(places):
            return path
        return f"$.items[{places[int(match.group(1))]}]" + path[match.end():]

    return [{**shown, "path": _order_path(placed(shown["path"]))} for shown in (v.to_dict() for v in result.violations)]


def _priced(document: dict[str, Any], basket: Basket, runtime: Runtime, as_of: dt.datetime) -> dict[str, Any]:
    # prices read the inventory as the party holds it, before the order's deletions (services.prices)
    lines, totals = value_basket(as_held(basket), runtime.catalog, as_of, runtime.rules)
    by_item: dict[str, list[dict[str, Any]]] = {}
    for line in lines:  # the shapes carts and checks show too (services.prices)
        by_item.setdefault(line.item, []).append(price_shown(line))

    def with_prices(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for item in items:
            item = dict(item)
            if str(item.get("id")) in by_item:
                item["itemPrice"] = by_item[str(item.get("id"))]
            if item.get("productOrderItem"):
                item["productOrderItem"] = with_prices(item["productOrderItem"])
            out.append(item)
        return out

    document["productOrderItem"] = with_prices(document.get("productOrderItem") or [])
    document["orderTotalPrice"] = [total_shown(t) for t in totals]
    return document


def render(stored: StoredResource) -> dict[str, Any]:
    shown = {k: v for k, v in stored.document.items() if k != "request"}  # the idempotency fingerprint stays inside
    return {**shown, "id": stored.id, "href": href(f"{API}/{KIND}", stored.id), "@type": "ProductOrder"}


def create_order(uow: UnitOfWork, runtime: Runtime, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Validate, value and store an order; returns (order, created). The same externalId
    again returns the order already made (created False) — or 409 if the body differs."""
    _refuse_what_the_server_sets(body)
    external_id = body.get("externalId") or None  # an empty externalId names nothing
    if isinstance(external_id, str) and len(external_id) > MAX_EXTERNAL_ID:
        raise InvalidInput(f"externalId has at most {MAX_EXTERNAL_ID} characters; this one has {len(external_id)}",
                           path=("externalId",))
    if external_id:
        existing = _by_external_id(uow, external_id)
        if existing is not None:
            if existing.document.get("request") != _request_fingerprint(body):
                raise Conflict(f"an order with externalId '{external_id}' already exists with other content")
            return render(existing), False
    now = _now()
    requested = _instant_of(body.get("requestedStartDate"), ("requestedStartDate",))
    as_of = requested or now
    item_starts = _item_starts(body)
    for path, start in ([(("requestedStartDate",), requested)] if requested else []) + item_starts:
        _refuse_start_past_the_calendar(path, start)
    if not _by_partner(uow):  # a partner's request is never refused for its date: see _start
        policy = DatingPolicy.from_env()
        for path, start in ([(("requestedStartDate",), requested)] if requested else []) + item_starts:
            problem = policy.operator_backdate_problem(start, now)
            if problem:
                raise InvalidInput(f"{_where(path)}: {problem}", path=path)
    refuse_nested_actions(body.get("productOrderItem"), "productOrderItem")
    _refuse_no_customer(body)
    _refuse_changes_not_made(uow, body.get("productOrderItem"), ("productOrderItem",))
    basket = _basket(uow, body, as_of)  # (its customer first: a 422 with a suggestion)
    missing = _missing_account(uow, body) or _missing_party(uow, body)
    if missing:
        raise UnknownReference(missing)
    result = validate_basket(basket, runtime.catalog, runtime.rules, explain=False)
    violations = (_violations(result, body.get("productOrderItem")) if not result.valid else []) + \
        [dict(v, path="$." + v["path"]) for v in commitments.term_violations(runtime.catalog,
                                                                          body.get("productOrderItem"), as_of)] + \
        terminations.violations(uow, body.get("productOrderItem"), basket.party.id, requested) + \
        _not_offered_at_item_start(runtime, body.get("productOrderItem"), item_starts, as_of)
    if violations:
        raise OrderRejected(violations)
    order_id = body.get("id") or str(uuid.uuid4())
    if uow.resources.get(KIND, order_id) is not None:
        raise Conflict(f"a ProductOrder with id '{order_id}' already exists; choose another id or leave it out")
    document = {k: v for k, v in body.items() if k not in ("id", "href", "@type")}
    document = _priced(document, basket, runtime, as_of)
    document = terminations.priced(uow, document, as_of, now)  # delete items: their early termination charges
    document.update(state="acknowledged", orderDate=format_instant(now), request=_request_fingerprint(body))
    stored = StoredResource(KIND, order_id, 1, now, now, document, state="acknowledged",
                            party_id=basket.party.id,
                            external_id=external_key(uow.resources.scope, external_id) if external_id else None,
                            partner_id=uow.resources.scope)
    uow.resources.insert(stored)
    notifications.publish(uow, "TMF622", "ProductOrderCreateEvent", "productOrder", render(stored), stored.partner_id)
    uow.commit()
    return render(stored), True


# what the server says of an order as it moves (a new order is acknowledged, with neither)
_SET_AS_IT_MOVES = {"completionDate": "when the order is completed", "cancellationDate": "when the order is cancelled"}


def _refuse_what_the_server_sets(body: dict[str, Any]) -> None:
    """A 400 for a new order that gives what only its moves set: a completion or cancellation
    date (they were stored as given: an acknowledged order showed a completionDate), or a
    state other than ``acknowledged`` (an order is placed acknowledged, and completed by the
    operator: a ``state: completed`` was answered acknowledged, its products not made)."""
    _refuse_other_type(body)
    for name, when in _SET_AS_IT_MOVES.items():
        if body.get(name) not in (None, ""):
            raise InvalidInput(f"{name} is set by the server {when}; leave it out of a new order", path=(name,))
    if body.get("state") not in (None, "", "acknowledged"):
        raise InvalidInput(f"state: a new order is acknowledged, not {shown(body['state'])}; its state then moves by "
                           "PATCH (acknowledged → inProgress → completed)", path=("state",))


def _refuse_other_type(body: dict[str, Any]) -> None:
    """A 400 for a body whose ``@type`` names another type than an order (it was ignored: a
    cart sent to the orders as an order, say, was taken for one)."""
    if body.get("@type") not in (None, "ProductOrder"):
        raise InvalidInput(f"@type: this is a ProductOrder, not {shown(body['@type'])}", path=("@type",))


def external_key(orderer: str | None, external_id: str) -> str:
    """What the store keeps unique for an order's ``externalId``: the orderer's reference is
    its own — two partners may both send ``EXT-1`` (a key shared by all had the second
    refused, and told it that another's order had that reference), and the operator's (None)
    are its own too. A digest of the pair: it fits the store's column whatever the lengths of
    the two, and no two pairs share it, whatever characters the reference holds."""
    return "sha256:" + hashlib.sha256(json.dumps([orderer, external_id]).encode()).hexdigest()


def _by_external_id(uow: UnitOfWork, external_id: str) -> StoredResource | None:
    """The caller's order of this externalId. Orders placed before references were the
    orderer's kept theirs bare: such an order is found too, when the caller placed it."""
    found = uow.resources.by_external_id(KIND, external_key(uow.resources.scope, external_id))
    if found is None:
        bare = uow.resources.by_external_id(KIND, external_id)
        found = bare if bare is not None and bare.partner_id == uow.resources.scope else None
    return found


def _where(path: tuple[str | int, ...]) -> str:
    """A path of the body as its messages write it: productOrderItem[0].product.startDate."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _instant_of(value: Any, path: tuple[str | int, ...], stored: bool = False) -> dt.datetime | None:
    """A date or date-time of the body (None when absent), or a 400 naming where. ``stored``:
    one of a stored order, read as it was accepted then (a date stored before the body's dates
    were judged, 2026-09-01t10:00:00Z, does not stop the order's completion)."""
    if value is None or value == "":
        return None
    problem = None if stored else date_time_problem(value)  # (as the body's TMF date-times: one verdict)
    if problem is not None:
        raise InvalidInput(f"{_where(path)}: {shown(value)} {problem}", path=path)
    try:
        instant = parse_instant(value)
    except ValueError as exc:
        raise InvalidInput(f"{_where(path)}: {exc}", path=path) from None
    if not isinstance(instant, dt.datetime):  # parse_instant hands back what is neither text nor a date
        raise InvalidInput(f"{_where(path)} is a date or date-time", path=path)
    return instant


# The latest date an order's products start or end at: the month that starts then (allowances,
# bills, termination charges) must end in the calendar
LATEST_START = dt.datetime(9999, 12, 1, tzinfo=dt.timezone.utc)


def _refuse_start_past_the_calendar(path: tuple[str | int, ...], start: dt.datetime) -> None:
    """A 400 for a date in December 9999 or later: accepted, its order could not be completed
    (500: the month after it has no year in the calendar)."""
    if start >= LATEST_START:
        raise InvalidInput(f"{_where(path)}: a date before {format_instant(LATEST_START)} is expected (the month "
                           f"that starts then ends in the calendar, years 1 to 9999), not {format_instant(start)}",
                           path=path)


def _item_starts(body: dict[str, Any]) -> list[tuple[tuple[str | int, ...], dt.datetime]]:
    """The ``requestedStartDate`` of each item that has one (a 400 for one that is no date)."""
    items = body.get("productOrderItem")
    found = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            path: tuple[str | int, ...] = ("productOrderItem", i, "requestedStartDate")
            start = _instant_of(item.get("requestedStartDate"), path)
            if start is not None:
                found.append((path, start))
    return found


def _not_offered_at_item_start(runtime: Runtime, items: Any, starts: list[tuple[tuple[str | int, ...], dt.datetime]],
                               as_of: dt.datetime) -> list[dict[str, Any]]:
    """The violations of the items that start on a date of their own (``requestedStartDate``)
    at which their offering, or a component's, is not offered (``validFor``). The order is
    checked at its own date; an item starting before its offering's start, or at its end or
    after, was accepted and its product started outside the offering's validity."""
    found: list[dict[str, Any]] = []

    def check(data: Any, path: str, start: dt.datetime) -> None:
        if not isinstance(data, dict) or not adds_a_product(data):
            return
        offering = runtime.catalog.offerings.get((values_at(data, "productOffering.id") or [""])[0])
        if offering is not None and not offering.valid_for.contains(start):
            found.append({"code": "notInForce", "path": f"{path}.productOffering.id", "message":
                          f"{not_in_force_label(offering, start)} (the item's requestedStartDate)"})
        for index, child in enumerate(data.get("productOrderItem") or []):
            check(child, f"{path}.productOrderItem[{index}]", start)

    for path, start in starts:
        index = path[1]
        if start != as_of and isinstance(index, int):
            check(items[index], f"$.productOrderItem[{index}]", start)
    return found


def _by_partner(uow: UnitOfWork) -> bool:
    principal = getattr(uow, "principal", None)
    return principal is not None and not principal.is_admin


def _request_fingerprint(body: dict[str, Any]) -> str:
    from bssrules import jsontext

    import hashlib

    return hashlib.sha256(jsontext.dumps({k: v for k, v in body.items() if k != "id"}, sort_keys=True)
                          .encode("utf-8")).hexdigest()


def get_order(uow: UnitOfWork, order_id: str) -> dict[str, Any]:
    stored = uow.resources.get(KIND, order_id)
    if stored is None:
        raise NotFound("ProductOrder", order_id)
    return render(stored)


def list_orders(uow: UnitOfWork, filters: dict[str, list[str]], offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.resources.page(KIND, filters, offset, limit)
    return [render(s) for s in page], total


def change_order(uow: UnitOfWork, runtime: Runtime, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Move an order's state (and only that, with an optional note)."""
    stored = uow.resources.get(KIND, order_id, for_update=True)
    if stored is None:
        raise NotFound("ProductOrder", order_id)
    other = sorted(set(body) - {"state", "note", "@type", "productOrderItem"})
    if other:
        raise InvalidInput(f"an order changes by its state only; {', '.join(other)} cannot be patched",
                           path=(other[0],))
    _refuse_other_type(body)
    target, current = body.get("state"), stored.state or "acknowledged"
    if "productOrderItem" in body and (target != "completed" or current == "completed"):
        raise InvalidInput("productOrderItem is given only when completing the order: the startDate of each "
                           "item's product", path=("productOrderItem",))
    if target is None or target == current:
        return _noted(uow, stored, body["note"]) if body.get("note") else render(stored)
    principal = getattr(uow, "principal", None)
    if principal is not None and not principal.is_admin and target != "cancelled":
        # the CSP fulfils orders: a partner may cancel its order, never complete it itself
        raise Forbidden(f"only the operator moves an order to {target}; a partner may cancel its order")
    if target not in TRANSITIONS.get(current, set()):
        raise Conflict(f"an order in state {current} cannot become {target}"
                       + (f" (it can become {', '.join(sorted(TRANSITIONS[current]))})" if current in TRANSITIONS
                          else " (it is final)"))
    now = _now()
    starts = _given_starts(stored.document, body.get("productOrderItem"), now) if "productOrderItem" in body else {}
    document = dict(stored.document, state=target)
    if body.get("note"):
        document["note"] = list(stored.document.get("note") or []) + list(body["note"])
    if target == "completed":
        document, target = _complete(uow, runtime, stored, document, now, starts)
    if target == "cancelled":
        document["cancellationDate"] = format_instant(now)
    updated = stored.bumped(document, now, state=target)
    uow.resources.replace(updated)
    notifications.publish(uow, "TMF622", "ProductOrderStateChangeEvent", "productOrder", render(updated),
                          stored.partner_id)
    uow.commit()
    return render(updated)


def _noted(uow: UnitOfWork, stored: StoredResource, note: list[Any]) -> dict[str, Any]:
    """The order with the notes of a patch that moves no state added (they were answered 200
    and dropped); its hubs hear of the change of its ``note``."""
    now = _now()
    updated = stored.bumped(dict(stored.document, note=list(stored.document.get("note") or []) + list(note)), now)
    uow.resources.replace(updated)
    notifications.publish(uow, "TMF622", "ProductOrderAttributeValueChangeEvent", "productOrder", render(updated),
                          stored.partner_id, field_path="note")
    uow.commit()
    return render(updated)


def _given_starts(order: dict[str, Any], items: Any, now: dt.datetime) -> dict[str, dt.datetime]:
    """The ``startDate`` the operator gives the products of items when completing an order
    (``productOrderItem: [{id, action: add, product: {startDate}}]``), by item id; a 400 for anything
    else, an item the order does not have, a date-time that names no zone (a product's dates name theirs,
    as its own PATCH requires: api.md), or a date beyond the operator's limit."""
    if not isinstance(items, list):
        raise InvalidInput("productOrderItem is a list of {id, action: add, product: {startDate}}",
                           path=("productOrderItem",))
    known = {str(i.get("id")) for i in order.get("productOrderItem") or []
             if isinstance(i, dict) and i.get("action", "add") == "add"}
    policy = DatingPolicy.from_env()
    starts: dict[str, dt.datetime] = {}
    for index, item in enumerate(items):
        path: tuple[str | int, ...] = ("productOrderItem", index)
        product = item.get("product") if isinstance(item, dict) else None
        if not isinstance(item, dict) or set(item) - {"id", "action", "product", "@type"} \
                or item.get("action", "add") != "add" or not isinstance(product, dict) \
                or set(product) - {"startDate", "@type"}:
            raise InvalidInput(f"{_where(path)}: on completion an item gives only its id and its product's "
                               "startDate: {id, action: add, product: {startDate}}", path=path)
        id = str(item.get("id"))
        if id not in known:
            raise InvalidInput(f"{_where(path + ('id',))}: the order has no item '{id}' that adds a product"
                               + (f"; its items: {', '.join(sorted(known))}" if known else ""), path=path + ("id",))
        start = _instant_of(product.get("startDate"), path + ("product", "startDate"))
        if start is None:
            raise InvalidInput(f"{_where(path + ('product', 'startDate'))} is required", path=path + ("product", "startDate"))
        if names_no_zone(product["startDate"]):  # a product's date as the product's own PATCH reads it (api.md)
            raise InvalidInput(f"{_where(path + ('product', 'startDate'))}: {shown(product['startDate'])} "
                               f"{no_zone_problem(product['startDate'])}", path=path + ("product", "startDate"))
        _refuse_start_past_the_calendar(path + ("product", "startDate"), start)
        problem = policy.operator_backdate_problem(start, now)
        if problem:
            raise InvalidInput(f"{_where(path + ('product', 'startDate'))}: {problem}",
                               path=path + ("product", "startDate"))
        starts[id] = start
    return starts


def _start(stored: StoredResource, item_data: dict[str, Any], given: dict[str, dt.datetime], now: dt.datetime
           ) -> dt.datetime:
    """When the products of an item start (see the module): the operator's startDate, else
    the item's or the order's request (a partner's no earlier than allowed), else now."""
    if str(item_data.get("id")) in given:
        return given[str(item_data.get("id"))]
    requested = _instant_of(item_data.get("requestedStartDate"), ("requestedStartDate",), stored=True) or \
        _instant_of(stored.document.get("requestedStartDate"), ("requestedStartDate",), stored=True)
    if requested is None:
        return now
    return DatingPolicy.from_env().partner_start(requested, now) if stored.partner_id else requested


def _complete(uow: UnitOfWork, runtime: Runtime, stored: StoredResource, document: dict[str, Any], now: dt.datetime,
              given: dict[str, dt.datetime]) -> tuple[dict[str, Any], str]:
    """Re-validate against the inventory of now, under a lock on the party, then create the
    products; a violation found now fails the order instead."""
    if stored.party_id:
        uow.resources.get("individual", stored.party_id, for_update=True) or \
            uow.resources.get("organization", stored.party_id, for_update=True)
    missing = _missing_account(uow, document)
    if missing:  # closed or deleted since the order was placed: billing it elsewhere would be wrong
        failed = dict(document, state="failed")
        failed["note"] = list(document.get("note") or []) + [
            {"text": f"failed at completion: {missing}", "date": format_instant(now)}]
        return failed, "failed"
    basket = _basket(uow, document, now)
    result = validate_basket(basket, runtime.catalog, runtime.rules, explain=False)
    if not result.valid:
        failed = dict(document, state="failed")
        failed["note"] = list(document.get("note") or []) + [
            {"text": f"failed at completion: {v['path']}: {v['message']}", "date": format_instant(now)}
            for v in _violations(result, document.get("productOrderItem"))]
        return failed, "failed"
    added = [d for d in document.get("productOrderItem") or [] if d.get("action", "add") == "add"]
    unpaid = _unpaid_shares(runtime, basket, added, basket.items)
    if unpaid:
        failed = dict(document, state="failed")
        failed["note"] = list(document.get("note") or []) + [
            {"text": f"failed at completion: {text}", "date": format_instant(now)} for text in unpaid]
        return failed, "failed"
    related = [p for p in document.get("relatedParty") or [] if isinstance(p, dict)]
    for item_data, item in zip([d for d in document.get("productOrderItem") or [] if d.get("action", "add") == "add"],
                               basket.items):
        _create_products(uow, runtime, {**document, "id": stored.id, "@partner": stored.partner_id}, item_data, item,
                         related, basket, now, _start(stored, item_data, given, now))
    notes = []
    for index, item_data in terminations.deletions(document.get("productOrderItem")):
        untouched = terminations.terminate(uow, item_data, _start(stored, item_data, given, now), now)
        if untouched is not None:
            notes.append({"text": f"$.productOrderItem[{index}]: {untouched}", "date": format_instant(now)})
    completed = dict(document, completionDate=format_instant(now))
    if notes:
        completed["note"] = list(document.get("note") or []) + notes
    return completed, "completed"


def _create_products(uow: UnitOfWork, runtime: Runtime, order: dict[str, Any], item_data: dict[str, Any], item: BasketItem,
                     related: list[dict[str, Any]], basket: Basket, now: dt.datetime, start: dt.datetime) -> str:
    """Create the item's product (its components first: a bundle names them) and return its id."""
    offering = runtime.catalog.offerings.get(item.offering)
    product: dict[str, Any] = {
        "status": "active", "name": offering.name if offering else item.offering, "startDate": format_instant(start),
        "productOffering": {"id": item.offering, "@referredType": "ProductOffering"},
        "productCharacteristic": _product_characteristics(runtime, offering, item.characteristics),
        "realizingResource": [{"id": r} for r in item.resources],
        "relatedParty": [{"id": p["id"], "role": p.get("role", "owner"),
                          "@referredType": p.get("@referredType", "Individual")} for p in related if p.get("id")],
        "productOrderItem": [{"orderItemId": str(item_data.get("id")), "productOrderId": order.get("id", "")}],
    }
    if offering and offering.product_specification:
        product["productSpecification"] = {"id": offering.product_specification}
    term = commitments.chosen_term(offering, item_data, start) if offering else None
    if term is not None:  # the commitment as sold (services.commitments)
        product["productTerm"] = [commitments.product_term(term, start)]
    prices = []
    for price in item_data.get("itemPrice") or []:
        # A usage price names no payer: who pays a usage depends on the usage itself (its
        # service, roaming, …), so rating decides it per record and writes it on the rated
        # usage; one account named here could only be wrong for some of them.
        payers = _payers(runtime, basket, item.offering, price) if price.get("priceType") != "usage" else []
        if payers and payers[0][2]:
            price = dict(price, billingAccount={"id": payers[0][2]})
        if len(payers) > 1:  # shared: each payer's part of each bill line (services.billing)
            price["payerShares"] = [{"role": role, "weight": weight, "billingAccount": {"id": account}}
                                    for role, weight, account in payers]
        prices.append(price)
    if prices:
        product["productPrice"] = prices
        recurring = next((p for p in prices if p.get("priceType") == "recurring" and p.get("billingAccount")), None)
        if recurring:
            product["billingAccount"] = recurring["billingAccount"]
    if term is not None and "billingAccount" not in product:  # no recurring price (a bundle): who pays its charge
        account = _payer_account(runtime, basket, item.offering, {"priceType": "oneTime"})
        if account:
            product["billingAccount"] = {"id": account}
    product_id = str(uuid.uuid4())
    children = item_data.get("productOrderItem") or []
    components = [_create_products(uow, runtime, order, children[index] if index < len(children) else {}, child,
                                   related, basket, now, start) for index, child in enumerate(item.items)]
    if components:  # TMF637: a bundle relates its components (terminating it terminates them: services.terminations)
        product["isBundle"] = True
        product["productRelationship"] = [{"relationshipType": "bundled", "product": {
            "id": c, "href": href(f"{INVENTORY_API}/product", c)}} for c in components]
    # a partner's offering: the product is also that partner's to see (it activates the service)
    source = uow.catalog.get("productOffering", item.offering)
    owner = source.source.removeprefix("partner:") if source and source.source.startswith("partner:") else None
    if owner and owner != order.get("@partner"):
        product["sharedWith"] = [owner]
    stored = StoredResource("product", product_id, 1, now, now, product, state="active", party_id=basket.party.id,
                            partner_id=order.get("@partner"))
    uow.resources.insert(stored)
    # a new product: its subscription's row, and the party's other subscriptions' contexts move on
    uow.online.bump(products=[product_id], parties=[p["id"] for p in product["relatedParty"]])
    # its included allowances of its first month, shown from now on (later months: made by usage)
    for bucket in allowance_buckets.missing_buckets(runtime.catalog, [(stored, start)], {}, now):
        uow.usages.add_bucket(bucket)
    return product_id


def _product_characteristics(runtime: Runtime, offering: ProductOffering | None, chosen: Mapping[str, Any]
                             ) -> list[dict[str, Any]]:
    """A new product's characteristics: those the item chose, as chosen, then — in the
    specification's order — each one it did not choose that takes a value when none is
    chosen (:func:`_value_when_none_chosen`): what validation let the item leave out."""
    shown = [{"name": name, "value": value} for name, value in chosen.items()]
    spec = runtime.catalog.product_specifications.get(offering.product_specification or "") if offering else None
    if offering is None or spec is None:
        return shown
    uses = {use.name: list(use.values) for use in offering.characteristic_uses}
    for characteristic in spec.characteristics:
        if characteristic.name not in chosen:
            value = _value_when_none_chosen(characteristic, uses.get(characteristic.name))
            if value is not None:
                shown.append({"name": characteristic.name, "value": value})
    return shown


def _value_when_none_chosen(characteristic: Characteristic, restricted: list[Scalar] | None) -> Scalar | None:
    """The value a characteristic takes when none is chosen, as the configurator reads it
    (a mandatory characteristic with one is not missing): the one value the offering allows
    (``characteristicUses``), else the specification's ``default`` when the offering allows
    it, else none. Catalog values are typed already (integer, Decimal, boolean, date text)."""
    if restricted is not None and len(restricted) == 1:
        return restricted[0]
    if characteristic.default is not None and (restricted is None or characteristic.default in restricted):
        return characteristic.default
    return None


def _payer_account(runtime: Runtime, basket: Basket, offering_id: str, price: dict[str, Any]) -> str | None:
    """The billing account that pays a price (the first payer's, when shared): by the split
    billing rules in force, else the owner's."""
    payers = _payers(runtime, basket, offering_id, price)
    return payers[0][2] if payers else None


def _payers(runtime: Runtime, basket: Basket, offering_id: str, price: dict[str, Any]
            ) -> list[tuple[str, Any, str | None]]:
    """(payer role, weight, billing account) of each payer of a price: the role the split
    billing rules in force name, or each role of their ``shares`` (an account None for a role
    the order names no account for); else the owner's account, whole. Empty when nobody pays."""
    as_of = basket.as_of
    assert as_of is not None  # _complete builds the basket with as_of = now
    for compiled in runtime.rules:
        if compiled.kind != "splitBilling" or not compiled.definition.valid_for.contains(as_of):
            continue
        charge = {"type": price.get("priceType"), "offering": offering_id}
        outcome = decide(compiled, {"charge": charge}, as_of, with_trace=False).outcome
        if outcome["payer"] in basket.payers:
            shares = outcome.get("shares") or [{"payer": outcome["payer"], "weight": 1}]
            return [(s["payer"], s["weight"], basket.payers.get(s["payer"])) for s in shares]
    for role in ("customer", "owner"):
        if basket.payers.get(role):
            return [(role, 1, basket.payers[role])]
    return []


def _unpaid_shares(runtime: Runtime, basket: Basket, items_data: list[dict[str, Any]], items: list[BasketItem]
                   ) -> list[str]:
    """Why the products of the items cannot be made: a price shared between payer roles (a
    split billing rule's ``shares``) one of which the order names no billing account for —
    its part would be billed to nobody, or to another payer (``noBillingAccount``, as rating
    rejects such a usage). The first role of the shares is checked by validation already."""
    found = []
    for index, item in enumerate(items):
        item_data = items_data[index] if index < len(items_data) and isinstance(items_data[index], dict) else {}
        for price in item_data.get("itemPrice") or []:
            if not isinstance(price, dict) or price.get("priceType") == "usage":
                continue
            for role, _, account in _payers(runtime, basket, item.offering, price):
                if account is None:
                    name = (values_at(price, "productOfferingPrice.id") or [price.get("name", "price")])[0]
                    found.append(f"$.payers: noBillingAccount: the {price.get('priceType')} charge '{name}' of "
                                 f"'{item.offering}' is shared with the payer role '{role}', and the order names "
                                 f"no billing account for '{role}'")
        found += _unpaid_shares(runtime, basket, item_data.get("productOrderItem") or [], item.items)
    return found
