"""Use cases of configuration checks (TMF760 style): a basket — a stored TMF663 shopping
cart, or items given inline — validated or queried against the catalog and the rules in
force, for its party, channel, date, inventory and payers."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Union

from bssrules.catalog.types import parse_instant
from bssrules.configurator.model import Basket, BasketItem, Caller, Path
from bssrules.configurator.query import query_configuration
from bssrules.configurator.validate import validate_basket
from pydantic import TypeAdapter, ValidationError

from bssrules.errors import BssRulesError, InvalidInput, NotFound, format_path
from bssrules.services.parties import basket_context, caller_of
from bssrules.services.resources import values_at
from bssrules.services.ports import UnitOfWork
from bssrules.services.prices import CartRead, basket_prices
from bssrules.services import commitments, terminations
from bssrules.services.runtime import Runtime


def _one_id(data: dict[str, Any], key: str) -> list[Any]:
    """``values_at(data, key + ".id")``, without its walk when ``data[key]`` is an object
    whose id is text (the plain case: ``{"productOffering": {"id": "x"}}``)."""
    if type(data) is not dict:
        return values_at(data, key + ".id")
    node = data.get(key)
    if type(node) is dict:
        value = node.get("id")
        if type(value) is str:
            return [value]
    return [] if node is None else values_at(data, key + ".id")


def basket_item(data: dict[str, Any], path: str, children_key: str = "cartItem") -> BasketItem:
    """A TMF663 cartItem (or a TMF622 productOrderItem, with ``children_key``) as a basket item."""
    return BasketItem(**_item_fields(data, path, children_key, basket_item))


def _item_fields(data: dict[str, Any], path: str, children_key: str,
                 child: Callable[[dict[str, Any], str, str], Any]) -> dict[str, Any]:
    """The fields of a basket item for a cartItem (or productOrderItem), unchecked; each of
    its children as ``child`` makes it (checked as a ``BasketItem``, or its fields again)."""
    offering = _one_id(data, "productOffering")
    if not offering:
        raise InvalidInput(f"{path}: productOffering.id is required", path=(path,))
    product = data.get("product") or {}
    # JSON values, checked by BasketItem (a Value each)
    characteristics: dict[str, Any] = {c["name"]: c.get("value") for c in product.get("productCharacteristic") or []
                                       if isinstance(c, dict) and "name" in c}
    resources = _resource_ids(product)
    children = [child(data_of_child, f"{path}.{children_key}[{i}]", children_key)
                for i, data_of_child in enumerate(data.get(children_key) or [])]
    quantity = data.get("quantity")  # 0 is no quantity to buy (a 400 by BasketItem), not the default 1
    return {"id": str(data.get("id") or path), "offering": offering[0], "quantity": 1 if quantity is None else quantity,
            "characteristics": characteristics, "resources": resources, "items": children}


def _resource_ids(product: dict[str, Any]) -> list[str]:
    """The texts at ``realizingResource.id`` of a cartItem's product: read straight from a list
    of objects whose ids are text (the plain case), else by :func:`values_at`'s walk."""
    given = product.get("realizingResource")
    if given is None:
        return []
    if type(given) is list:
        ids = [resource.get("id") for resource in given if type(resource) is dict]
        texts = [id_ for id_ in ids if type(id_) is str]
        if len(texts) == len(given):
            return texts
    return [r for r in values_at(product, "realizingResource.id") if isinstance(r, str)]


def _unchecked_item(data: dict[str, Any], path: str, children_key: str) -> dict[str, Any]:
    return _item_fields(data, path, children_key, _unchecked_item)


_ITEMS = TypeAdapter(list[BasketItem])


def basket_items(items_data: list[dict[str, Any]]) -> list[BasketItem]:
    """``[basket_item(data, f"cartItem[{i}]") ...]`` of a request's cartItems, validated by
    pydantic in one call (a call per item and per component cost as much as the checks of a
    20-item basket's characteristics). A basket it refuses is built again item by item, for
    the error :func:`basket_item` gives (the first item's, a component's before its bundle's)."""
    try:
        return _ITEMS.validate_python([_unchecked_item(data, f"cartItem[{i}]", "cartItem")
                                       for i, data in enumerate(items_data)])
    except Exception:  # noqa: BLE001 - the answer is the one item by item gives, error or not
        return [basket_item(data, f"cartItem[{i}]") for i, data in enumerate(items_data)]


# TMF663 CartItemStatusType: an item kept in the cart but not bought with it
SAVED_FOR_LATER = "saveForLater"


def adds_a_product(item: Any) -> bool:
    """Whether an item (TMF622 productOrderItem, TMF663 cartItem) adds a product — its
    ``action`` is ``add``, the default — and so is read as a basket item, validated and
    valued; an order reads only those (``delete``: services.terminations; ``modify``,
    ``noChange``: neither validated nor valued)."""
    return not isinstance(item, dict) or item.get("action", "add") == "add"


def refuse_nested_actions(items: Any, key: str) -> None:
    """A 400 for an item id given twice in the request, at any depth (an item's prices, its
    violations and the relationships name it by its id), and for an item nested in another
    (``key``: ``productOrderItem``, ``cartItem``) whose ``action`` nothing would carry out: within an item that adds a product, its components
    are added with it (``add``, the default), and any other action is refused; within a
    ``modify`` or ``noChange`` item (or a ``delete`` one), only ``modify`` and ``noChange``
    (which change nothing) are taken — a nested ``delete`` or ``add`` would be ignored, so it is
    refused, naming where, rather than answered as done."""
    seen: dict[str, Path] = {}  # item id -> where it was first given

    def walk(items: Any, base: Path, parent_adds: bool | None) -> None:
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            place = base + (key, index)
            item_id = item.get("id")
            if isinstance(item_id, str) and item_id:
                if item_id in seen:  # (prices, violations and relationships name an item by its id)
                    raise InvalidInput(
                        f"{format_path(place + ('id',))}: the item id '{item_id}' is that of "
                        f"{format_path(seen[item_id])} too; each item of a request has an id of its own",
                        path=place + ("id",))
                seen[item_id] = place
            action = item.get("action", "add")
            where = format_path(place + ("action",))
            if parent_adds is True and action != "add":
                raise InvalidInput(
                    f"{where}: '{action}' within an item that adds a product: its components are added with it "
                    f"(action add, the default); to {'terminate' if action == 'delete' else 'change'} a product of "
                    "the inventory, give a top-level item", path=place + ("action",))
            if parent_adds is False and action in ("add", "delete"):
                raise InvalidInput(
                    f"{where}: '{action}' within another item is not carried out: give it as a top-level item of "
                    f"{key}" + (" (terminating a bundle's product terminates its components with it)"
                                if action == "delete" else ""), path=place + ("action",))
            walk(item.get(key), place, action == "add")

    walk(items, (), None)


def saved_for_later(items: list[Any], base: Path = ()) -> set[Path]:
    """The paths (``("items", 0, …)``, as in the cart) of the cart items saved for later,
    at any depth; not those within one (they go with it)."""
    found: set[Path] = set()
    for index, item in enumerate(items):
        if isinstance(item, dict):
            path = base + ("items", index)
            if item.get("status") == SAVED_FOR_LATER:
                found.add(path)
            elif isinstance(item.get("cartItem"), list):
                found |= saved_for_later(item["cartItem"], path)
    return found


def bought_now(items_data: list[Any], base: Path = (), at: Path = (), keep_saved: bool = False
               ) -> tuple[list[Any], dict[Path, Path]]:
    """The cart items an order of the cart placed now would add — the top-level items whose
    ``action`` is ``add`` (:func:`adds_a_product`), with their components, but (unless
    ``keep_saved``) those whose ``status`` is ``saveForLater``, each left out with its own
    components — and, for each item kept, its basket path (``("items", 0, …)`` among the
    items kept) -> its path in the cart."""
    kept: list[Any] = []
    paths: dict[Path, Path] = {}
    for index, item in enumerate(items_data):
        if isinstance(item, dict) and ((item.get("status") == SAVED_FOR_LATER and not keep_saved)
                                       or (not at and not adds_a_product(item))):
            continue
        path, in_cart = base + ("items", len(kept)), at + ("items", index)
        paths[path] = in_cart
        if isinstance(item, dict):
            if not item.get("id"):  # the id an unnamed item takes: its place in the request, as without this
                item = {**item, "id": format_path(in_cart)[2:].replace("items", "cartItem")}
            children = item.get("cartItem")
            if isinstance(children, list) and children:
                children_kept, below = bought_now(children, path, in_cart, keep_saved)
                paths.update(below)
                if len(children_kept) != len(children):
                    item = {**item, "cartItem": children_kept}
        kept.append(item)
    return kept, paths


def checked_basket(uow: UnitOfWork, body: dict[str, Any]) -> tuple[Basket, dict[Path, Path] | None]:
    """The basket a check or query request speaks of — the items an order of it would add,
    without those saved for later (``status: saveForLater``: not part of the basket
    checked, TMF663) — and, when items were left out, each kept item's basket path -> its
    path in the request (or stored cart); None when the paths are the same."""
    read = read_cart(uow, body, checking=True)
    return read.basket, read.paths


def read_cart(uow: UnitOfWork, body: dict[str, Any], with_saved: bool = False, checking: bool = False
              ) -> CartRead:
    """A cart — a stored one (``shoppingCart.id``) or items given inline — as an order of it
    placed now would read it (:class:`CartRead`); ``with_saved``: with the items saved for
    later read too (to price them). ``checking``: a cart whose every item is saved for later
    has nothing to check (400)."""
    try:
        return _read_cart(uow, body, with_saved, checking)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidInput(f"malformed basket: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        if isinstance(exc, BssRulesError):
            raise
        raise InvalidInput(f"malformed request: {exc}") from None


def _read_cart(uow: UnitOfWork, body: dict[str, Any], with_saved: bool, checking: bool) -> CartRead:
    cart_ref = values_at(body, "shoppingCart.id")
    if cart_ref:
        cart = uow.resources.get("shoppingCart", cart_ref[0])
        if cart is None:
            raise NotFound("ShoppingCart", cart_ref[0])
        items_data, related = cart.document.get("cartItem") or [], cart.document.get("relatedParty") or []
        if not items_data:
            raise InvalidInput(f"nothing to check: shopping cart '{cart_ref[0]}' has no items", path=("cartItem",))
    else:
        items_data, related = body.get("cartItem") or [], body.get("relatedParty") or []
    if not items_data:
        raise InvalidInput("nothing to check: give shoppingCart.id or cartItem", path=("cartItem",))
    if not isinstance(items_data, list) or not all(isinstance(i, dict) for i in items_data):
        raise InvalidInput("cartItem is a list of objects", path=("cartItem",))
    refuse_nested_actions(items_data, "cartItem")
    all_items, cart_paths = items_data, None
    any_saved = _any_saved(items_data)
    if checking and all(i.get("status") == SAVED_FOR_LATER for i in items_data):
        raise InvalidInput("nothing to check: every item is saved for later (status saveForLater)",
                           path=("cartItem",))
    if any_saved or not all(adds_a_product(i) for i in items_data):
        items_data, cart_paths = bought_now(items_data)
    items = _placed(basket_items, items_data, cart_paths)
    customer = next((p.get("id") for p in related if isinstance(p, dict) and p.get("role") in ("customer", "buyer")),
                    None)
    # parse_instant makes a date-time of every text (or raises ValueError: a 400 above) and hands
    # anything else back unchanged, for Basket's own Instant validator to decide on
    as_of: Any = parse_instant(body["requestedDate"]) if body.get("requestedDate") \
        else dt.datetime.now(dt.timezone.utc)
    # the party's age is the one it has on the day the basket is checked for
    party, inventory, payers = basket_context(uow, customer, [p for p in related if isinstance(p, dict)], as_of)
    if cart_paths is not None:  # some item does not add: what an order of the cart deletes is gone for its
        # checks (an item saved for later deletes nothing)
        inventory = terminations.after_deletions(uow, [i if i.get("status") != SAVED_FOR_LATER else None
                                                       for i in all_items], inventory, "cartItem")
    channel = values_at(body, "channel.id")
    basket = Basket(items=items, party=party, channel=channel[0] if channel else None, as_of=as_of,
                    caller=caller_of(uow), inventory=inventory, payers=payers)
    if not (with_saved and any_saved):
        return CartRead(all_items, basket, cart_paths)
    whole_data, whole_paths = bought_now(all_items, keep_saved=True)
    whole = basket.model_copy(update={"items": _placed(basket_items, whole_data, whole_paths)})
    return CartRead(all_items, basket, cart_paths, frozenset(saved_for_later(all_items)), whole, whole_paths)


_PLACE = re.compile(r"^cartItem\[\d+\](?:\.cartItem\[\d+\])*")


def _placed(read: Callable[[list[Any]], list[BasketItem]], items_data: list[Any],
            cart_paths: dict[Path, Path] | None) -> list[BasketItem]:
    """``read(items_data)``; an item it refuses is named by its place in the cart, when items
    before it were left out (saved for later, or not added: ``bought_now``)."""
    try:
        return read(items_data)
    except InvalidInput as exc:
        match = _PLACE.match(str(exc)) if cart_paths else None
        if match is None:
            raise
        assert cart_paths is not None
        basket_path = tuple(part for index in re.findall(r"\d+", match.group(0)) for part in ("items", int(index)))
        place = format_path(cart_paths.get(basket_path, basket_path))[2:].replace("items", "cartItem")
        raise InvalidInput(place + str(exc)[match.end():], path=(place,)) from None


def _any_saved(items_data: list[Any]) -> bool:
    """Whether any of the cart items (bundle components included) is saved for later."""
    for item in items_data:
        if isinstance(item, dict):
            if item.get("status") == SAVED_FOR_LATER:
                return True
            children = item.get("cartItem")
            if isinstance(children, list) and _any_saved(children):
                return True
    return False


_PATH_WORDS = [(re.compile(r"\.characteristics\.([^.\[]+)"), r".product.productCharacteristic[?(@.name=='\1')]"),
               (re.compile(r"\.characteristics$"), ".product.productCharacteristic"),  # one is missing
               (re.compile(r"(^\$|\])\.items(?=\[|$)"), r"\1.cartItem"),
               (re.compile(r"\.offering$"), ".productOffering.id"),
               (re.compile(r"^\$\.payers$"), "$.relatedParty")]


def cart_path(path: str) -> str:
    """A basket path ($.items[0].characteristics.colour) in the cart's terms
    ($.cartItem[0].product.productCharacteristic[?(@.name=='colour')])."""
    for pattern, replacement in _PATH_WORDS:
        path = pattern.sub(replacement, path)
    return path


_ITEM_CHAIN = re.compile(r"^\$((?:\.items\[\d+\])+)")


def _in_the_request(path: str, cart_paths: dict[Path, Path] | None) -> str:
    """A basket path ($.items[1].characteristics.colour) with its items numbered as in the
    request or stored cart, when items saved for later were left out of the basket."""
    match = _ITEM_CHAIN.match(path) if cart_paths else None
    if match is None:
        return path
    assert cart_paths is not None
    item = tuple(part for index in re.findall(r"\d+", match.group(1)) for part in ("items", int(index)))
    return format_path(cart_paths.get(item, item)) + path[match.end():]


def in_cart_terms(violations: list[dict[str, Any]], cart_paths: dict[Path, Path] | None = None
                  ) -> list[dict[str, Any]]:
    """Violations with their paths in the cart's terms (``cart_paths``: see :func:`checked_basket`)."""
    out = []
    for violation in violations:
        violation = dict(violation, path=cart_path(_in_the_request(violation["path"], cart_paths)))
        if "item" in violation:
            violation["item"] = cart_path(_in_the_request(violation["item"], cart_paths))
        out.append(violation)
    return out


RuntimeSource = Union[Runtime, Callable[[UnitOfWork], Runtime]]


def _runtime(uow: UnitOfWork, source: RuntimeSource) -> Runtime:
    """The runtime, asked for (a worker's cache: ``RuntimeCache.get``) once the basket is read:
    the catalog revision it is keyed by then comes with the party's read, not in a round trip
    of its own (``store.repository.RevisionSeen``)."""
    return source if isinstance(source, Runtime) else source(uow)


def check_configuration(uow: UnitOfWork, runtime: RuntimeSource, body: dict[str, Any]) -> dict[str, Any]:
    """Every violation of the basket at once, with the rules' explanations — those an order
    of it placed now would be refused for: its items that add a product validated as a
    basket, its ``delete`` items as an order checks them (:func:`terminations.violations`);
    with ``providePrice: true``, the basket's prices too (those a cart or an order shows)."""
    provide_price = body.get("providePrice", False)
    if not isinstance(provide_price, bool):
        raise InvalidInput("providePrice is true or false", path=("providePrice",))
    read = read_cart(uow, body, with_saved=provide_price, checking=True)
    runtime = _runtime(uow, runtime)
    result = validate_basket(read.basket, runtime.catalog, runtime.rules, explain=True).to_dict()
    violations = in_cart_terms(result["violations"], read.paths) + _deletion_violations(uow, body, read) + \
        _term_violations(runtime, read)
    # ``violation``, singular, as TMF names a list and as the order API's refusals say it
    answer = {"@type": "CheckProductConfiguration", "state": "done",
              "checkResult": "valid" if not violations else "invalid", "valid": not violations,
              "violation": violations}
    if provide_price:  # opt-in: valuing the basket (its discount rules) is work a bare check does not pay for
        answer.update(basket_prices(uow, runtime, read))
    return answer


def _term_violations(runtime: Runtime, read: CartRead) -> list[dict[str, Any]]:
    """Why an order of the cart could not take the ``itemTerm`` of an item it buys now (the
    term named, or the one to choose: :func:`commitments.term_violations`, the order's
    check), in the cart's terms."""
    bought = [item if read.bought(i) else None for i, item in enumerate(read.items)]
    return [dict(v, path="$." + v["path"]) for v in commitments.term_violations(
        runtime.catalog, bought, read.basket.as_of or dt.datetime.now(dt.timezone.utc), "cartItem", "cartItem")]


def _deletion_violations(uow: UnitOfWork, body: dict[str, Any], read: CartRead) -> list[dict[str, Any]]:
    """Why an order of the cart could not terminate what its ``delete`` items bought now name
    (:func:`terminations.violations`, the checks an order makes), in the cart's terms."""
    if read.paths is None:  # every item adds a product
        return []
    requested = read.basket.as_of if body.get("requestedDate") else None
    found = terminations.violations(uow, [item if read.bought(i) else None for i, item in enumerate(read.items)],
                                    read.basket.party.id, requested, "cartItem")
    return [dict(v, path="$.requestedDate") if v["path"] == "$.requestedStartDate" else v for v in found]


def query_configuration_options(uow: UnitOfWork, runtime: RuntimeSource, body: dict[str, Any]) -> dict[str, Any]:
    """What can still be chosen in the basket, and why the rest cannot; its ``valid`` and
    ``violation`` are those a check of the same body answers (:func:`check_configuration`:
    its ``delete`` items and its items' terms too)."""
    read = read_cart(uow, body, checking=True)
    runtime = _runtime(uow, runtime)
    answer = query_configuration(read.basket, runtime.catalog, runtime.rules)
    violations = in_cart_terms(answer["violations"], read.paths) + _deletion_violations(uow, body, read) + \
        _term_violations(runtime, read)
    return {"@type": "QueryProductConfiguration", "state": "done", "valid": not violations,
            "violation": violations, "items": answer["items"]}
