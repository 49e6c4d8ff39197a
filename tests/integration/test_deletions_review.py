"""A review of orders, carts and configuration checks that delete products (judged on the
inventory they leave): each test names what was wrong before its fix.

Ana (the devices example) holds the products each test gives her."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project
from bssrules.services import catalog as catalog_services
from bssrules.services import configuration, orders, resources
from bssrules.services.runtime import build_runtime
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
OWNER = [{"id": "ana", "role": "owner", "@referredType": "Individual"}]
DATE = "2026-09-01T00:00:00Z"


def _create(engine: Any, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        return resources.create(uow, resources.KINDS[kind], body, list(body))


def _product(engine: Any, id: str, offering: str, *resource: str, party: str = "ana") -> None:
    _create(engine, "product", {"id": id, "status": "active", "startDate": "2026-01-01T00:00:00Z",
                                "relatedParty": [{"id": party, "role": "owner", "@referredType": "Individual"}],
                                "productOffering": {"id": offering},
                                **({"realizingResource": [{"id": r} for r in resource]} if resource else {})})


@pytest.fixture
def devices(engine: Any) -> Iterator[Any]:
    """The devices example's catalog and rules, and Ana (no products yet)."""
    with UnitOfWork(engine) as uow:
        catalog_services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    _create(engine, "individual", {"id": "ana", "givenName": "Ana", "familyName": "S"})
    yield engine


def _delete(id: str, product: str, **extra: Any) -> dict[str, Any]:
    return {"id": id, "action": "delete", "product": {"id": product}, **extra}


def _order(engine: Any, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        order, _ = orders.create_order(uow, build_runtime(uow), {"relatedParty": CUSTOMER, "requestedStartDate": DATE,
                                                                 "productOrderItem": items, **extra})
        return order


def _refused(engine: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with pytest.raises(orders.OrderRejected) as refused:
        _order(engine, items)
    return refused.value.violations


def _checked(engine: Any, body: dict[str, Any]) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        return configuration.check_configuration(uow, build_runtime(uow), {"requestedDate": DATE, **body})


def test_an_exactly_one_count_the_deletions_break_names_the_delete_item_of_the_sim_taken(devices: Any) -> None:
    """Ana keeps a plan with no SIM recorded (``b-plan``): deleting the plan with the small SIM
    (``c-sim``) leaves it none. Was: with the iPad deleted too (it brings no SIM), the
    violation named the iPad's delete item (the first product deleted)."""
    _product(devices, "a-ipad", "ipad-mini-std")
    _product(devices, "b-plan", "mobile-telephony-plan")
    _product(devices, "c-sim", "mobile-telephony-plan", "sim-small")
    for items in ([_delete("1", "c-sim"), _delete("2", "a-ipad")], [_delete("1", "a-ipad"), _delete("2", "c-sim")]):
        violations = _refused(devices, items)
        at = next(i for i, item in enumerate(items) if item["product"]["id"] == "c-sim")
        assert [(v["rule"], v["path"], v["product"], v["deleted"]) for v in violations] == [
            ("one-form-factor", f"$.productOrderItem[{at}].product.id", "b-plan", "c-sim")]
        assert "product 'c-sim', which brings resourceSpecification sim-small, is deleted" in violations[0]["message"]


TRADE_IN = """
ruleSets:
  - id: trade-in
    kind: discount
    rules:
      - id: upgrade-offer
        description: 100 EUR off the 32 GB iPad for a holder of the 16 GB one
        when: {inventory.activeOfferings: {contains: ipad-mini-std}}
        target: {offering: ipad-mini-deluxe, priceType: oneTime}
        amount: 100.00
        currency: EUR
        priority: 5
"""


@pytest.fixture
def trade_in(engine: Any) -> Iterator[Any]:
    """The devices example with a trade-in discount, and Ana with a plan and the 16 GB iPad."""
    from bssrules.rules.project import load_project_texts
    root = ROOT / "examples" / "devices"
    texts = {str(p.relative_to(root)): p.read_text() for p in root.rglob("*.yaml")}
    with UnitOfWork(engine) as uow:
        catalog_services.load_project(uow, load_project_texts({**texts, "rules/trade_in.yaml": TRADE_IN}), "devices")
    _create(engine, "individual", {"id": "ana", "givenName": "Ana", "familyName": "S"})
    _product(engine, "p-plan", "mobile-telephony-plan", "sim-small")
    _product(engine, "p-ipad", "ipad-mini-std")
    yield engine


def _one_time(totals: list[dict[str, Any]]) -> float:
    return float(next(t for t in totals if t["priceType"] == "oneTime")["price"]["taxIncludedAmount"]["value"])


def test_prices_read_the_inventory_as_held_before_the_requests_deletions(trade_in: Any) -> None:
    """A trade-in — the 16 GB iPad deleted, the 32 GB one bought — gets the discount for
    holding the 16 GB one, in an order, a cart and a check; the checks still judge the
    inventory the deletions leave (the swap is valid). Was: 379 (no discount) everywhere."""
    from bssrules.services.carts import create as create_cart
    swap = [_delete("1", "p-ipad"), {"id": "2", "action": "add", "quantity": 1,
                                     "productOffering": {"id": "ipad-mini-deluxe"},
                                     "product": {"productCharacteristic": [{"name": "memorySize", "value": "32GB"}]}}]
    order = _order(trade_in, swap)
    assert _one_time(order["orderTotalPrice"]) == 279.0
    assert [a["name"] for a in order["productOrderItem"][1]["itemPrice"][0]["priceAlteration"]] == [
        "trade-in/upgrade-offer"]
    checked = _checked(trade_in, {"relatedParty": CUSTOMER, "providePrice": True, "cartItem": swap})
    assert checked["valid"] is True and _one_time(checked["cartTotalPrice"]) == 279.0
    with UnitOfWork(trade_in) as uow:
        cart = create_cart(uow, build_runtime(uow), {"relatedParty": CUSTOMER, "cartItem": swap},
                           ["relatedParty", "cartItem"])
    assert _one_time(cart["cartTotalPrice"]) == 279.0


def _queried(engine: Any, body: dict[str, Any]) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        return configuration.query_configuration_options(uow, build_runtime(uow), {"requestedDate": DATE, **body})


def test_a_query_says_what_a_check_says_of_the_delete_items(devices: Any) -> None:
    """Deleting a product that does not exist, and one of another party's: the check and the
    query both refuse them. Was: the query said valid."""
    _create(devices, "individual", {"id": "bob", "givenName": "Bob", "familyName": "S"})
    _product(devices, "bob-plan", "mobile-telephony-plan", "sim-small", party="bob")
    plan = {"id": "3", "action": "add", "quantity": 1, "productOffering": {"id": "mobile-telephony-plan"},
            "product": {"productCharacteristic": [{"name": "simFormFactor", "value": "SMALL"}],
                        "realizingResource": [{"id": "sim-small"}]}}
    body = {"relatedParty": CUSTOMER, "cartItem": [_delete("1", "nope"), _delete("2", "bob-plan"), plan]}
    checked, queried = _checked(devices, body), _queried(devices, body)
    assert [(v["code"], v["path"]) for v in queried["violation"]] == [
        (v["code"], v["path"]) for v in checked["violation"]] == [
        ("unknownProduct", "$.cartItem[0].product.id"), ("notThePartysProduct", "$.cartItem[1].product.id")]
    assert queried["valid"] is checked["valid"] is False


def test_every_path_of_a_refused_order_and_of_a_check_is_written_from_the_root(devices: Any) -> None:
    """A delete item's violations, an item's term and the order's date are named ``$.…`` as
    the rules' violations are, and so is the delete item a message quotes. Was:
    ``productOrderItem[0].product.id``, ``productOrderItem[2].itemTerm``,
    ``requestedStartDate`` and "deleted by productOrderItem[1].product.id"."""
    _product(devices, "p-plan", "mobile-telephony-plan", "sim-small")
    ipad = {"id": "3", "action": "add", "quantity": 1, "productOffering": {"id": "ipad-mini-std"},
            "product": {"productCharacteristic": [{"name": "memorySize", "value": "16GB"}]}}
    items = [_delete("1", "nope"), _delete("2", "p-plan"), dict(ipad, itemTerm=[{"name": "12 months"}])]
    violations = _refused(devices, items)
    assert [v["path"] for v in violations] == [
        "$.productOrderItem[2]", "$.productOrderItem[2].itemTerm", "$.productOrderItem[0].product.id"]
    assert violations[0]["message"].endswith("is deleted by $.productOrderItem[1].product.id)")
    checked = _checked(devices, {"relatedParty": CUSTOMER, "cartItem": items})
    assert all(v["path"].startswith("$.") for v in checked["violation"]), checked["violation"]
    assert "is deleted by $.cartItem[1].product.id)" in checked["violation"][0]["message"]
    with pytest.raises(orders.OrderRejected) as early:
        _order(devices, [_delete("1", "p-plan")], requestedStartDate="2025-01-01T00:00:00Z")
    assert [v["path"] for v in early.value.violations] == ["$.requestedStartDate"]
    with pytest.raises(orders.OrderRejected) as early:
        _order(devices, [_delete("1", "p-plan", requestedStartDate="2025-01-01T00:00:00Z")])
    assert [v["path"] for v in early.value.violations] == ["$.productOrderItem[0].requestedStartDate"]


@pytest.mark.parametrize("parent, child, said", [
    ({"action": "modify", "product": {"id": "p-plan"}}, {"action": "delete", "product": {"id": "p-plan"}},
     "'delete' within another item is not carried out: give it as a top-level item"),
    ({"action": "noChange", "product": {"id": "p-plan"}},
     {"action": "add", "productOffering": {"id": "extra-minutes"}},
     "'add' within another item is not carried out: give it as a top-level item"),
    ({"action": "add", "productOffering": {"id": "mobile-telephony-plan"}},
     {"action": "delete", "product": {"id": "p-plan"}},
     "'delete' within an item that adds a product: its components are added with it"),
])
def test_an_item_nested_in_another_with_an_action_nothing_carries_out_is_refused(
        devices: Any, parent: dict[str, Any], child: dict[str, Any], said: str) -> None:
    """Was: an order ``[modify p-plan [delete p-plan]]`` placed (201) and completed, the plan
    still active; a nested delete within an add item was read as a component to buy."""
    from bssrules.errors import InvalidInput
    from bssrules.services.carts import create as create_cart
    _product(devices, "p-plan", "mobile-telephony-plan", "sim-small")
    for key, request in (("productOrderItem", lambda items: _order(devices, items)),
                         ("cartItem", lambda items: _checked(devices, {"relatedParty": CUSTOMER, "cartItem": items}))):
        items = [{"id": "1", **parent, key: [{"id": "1.1", **child}]}]
        with pytest.raises(InvalidInput) as refused:
            request(items)
        assert str(refused.value).startswith(f"$.{key}[0].{key}[0].action: {said}"), str(refused.value)
    with UnitOfWork(devices) as uow, pytest.raises(InvalidInput):
        create_cart(uow, build_runtime(uow), {"relatedParty": CUSTOMER, "cartItem": items}, ["relatedParty", "cartItem"])
    with UnitOfWork(devices) as uow:
        assert orders.list_orders(uow, {}, 0, 10)[0] == []
    # what is carried out stays accepted: a noChange within a modify, a component within its bundle
    assert _order(devices, [{"id": "1", "action": "modify", "product": {"id": "p-plan"},
                             "productOrderItem": [{"id": "1.1", "action": "noChange", "product": {"id": "p-plan"}}]}]
                  )["state"] == "acknowledged"


BUNDLES = """
productSpecifications:
  - {id: ps-fibre, name: Fibre access}
  - {id: ps-tv, name: Television}
productOfferings:
  - {id: po-fibre, name: Fibre, productSpecification: ps-fibre}
  - {id: po-tv, name: TV, productSpecification: ps-tv}
  - id: po-fibre-tv
    name: Fibre and TV
    bundle:
      - {offering: po-fibre}
      - {offering: po-tv}
"""


@pytest.fixture
def bundle(engine: Any) -> Iterator[Any]:
    """Ana's fibre and TV bundle (p-bundle: p-fibre, p-tv)."""
    from bssrules.rules.project import load_project_texts
    with UnitOfWork(engine) as uow:
        catalog_services.load_project(uow, load_project_texts({"catalog.yaml": BUNDLES}), "bundles")
    _create(engine, "individual", {"id": "ana", "givenName": "Ana", "familyName": "S"})
    _product(engine, "p-fibre", "po-fibre")
    _product(engine, "p-tv", "po-tv")
    _create(engine, "product", {"id": "p-bundle", "status": "active", "startDate": "2026-01-01T00:00:00Z",
                                "relatedParty": OWNER, "productOffering": {"id": "po-fibre-tv"}, "isBundle": True,
                                "productRelationship": [{"relationshipType": "bundled", "product": {"id": c}}
                                                        for c in ("p-fibre", "p-tv")]})
    yield engine


def test_deleting_a_component_of_a_bundle_kept_is_refused_at_the_delete_item(bundle: Any) -> None:
    """As ``DELETE /product/p-tv`` is refused (409): the bundle kept would name a product
    terminated. Was: the order placed, the bundle left broken."""
    for items in ([_delete("1", "p-tv")], [_delete("1", "p-fibre"), _delete("2", "p-tv")]):
        violations = _refused(bundle, items)
        assert [(v["code"], v["path"]) for v in violations] == [
            ("componentOfBundle", f"$.productOrderItem[{i}].product.id") for i in range(len(items))]
        assert violations[-1]["message"] == ("product 'p-tv' is a component of bundle product 'p-bundle', which the "
                                             "order keeps: delete the bundle, which deletes its components with it")
    checked = _checked(bundle, {"relatedParty": CUSTOMER, "cartItem": [_delete("1", "p-tv")]})
    assert [(v["code"], v["path"]) for v in checked["violation"]] == [("componentOfBundle", "$.cartItem[0].product.id")]
    # the bundle deleted in the same request takes its components with it
    assert _order(bundle, [_delete("1", "p-bundle")])["state"] == "acknowledged"
    assert _order(bundle, [_delete("1", "p-tv"), _delete("2", "p-bundle")])["state"] == "acknowledged"


@pytest.mark.parametrize("second, done", [("delete", "deleted"), ("modify", "modified"),
                                          ("noChange", "left unchanged")])
def test_a_product_deleted_and_named_again_in_the_same_request_is_refused_naming_both_items(
        devices: Any, second: str, done: str) -> None:
    """Was: accepted (the product deleted twice, or deleted and modified, in one order)."""
    _product(devices, "p-ipad", "ipad-mini-std")
    again = {"id": "2", "action": second, "product": {"id": "p-ipad"}}
    for items, first_done, at, before in (([_delete("1", "p-ipad"), again], "deleted", 1, 0),
                                          ([again, _delete("1", "p-ipad")], done, 1, 0)):
        if items[0]["action"] == "delete" and items[1]["action"] == "delete":
            first_done, later = "deleted", "deleted"
        else:
            later = "deleted" if items[1]["action"] == "delete" else done
        expected = [("productNamedTwice", f"$.productOrderItem[{at}].product.id",
                     f"product 'p-ipad' is {first_done} by $.productOrderItem[{before}] and {later} by "
                     f"$.productOrderItem[{at}]: name each product in one item")]
        assert [(v["code"], v["path"], v["message"]) for v in _refused(devices, items)] == expected
        checked = _checked(devices, {"relatedParty": CUSTOMER, "cartItem": items})
        assert [(v["code"], v["path"], v["message"]) for v in checked["violation"]] == [
            tuple(part.replace("productOrderItem", "cartItem") for part in expected[0])]


def test_what_several_deleted_products_brought_is_named_at_the_first_delete_item_and_all_are_said(
        devices: Any) -> None:
    """Two plans with a small SIM deleted, a plan kept with none: the count is named at the
    first delete item of the request (was: the first in the inventory's order), and the
    message says both."""
    _product(devices, "b-plan", "mobile-telephony-plan")
    _product(devices, "c-sim", "mobile-telephony-plan", "sim-small")
    _product(devices, "d-sim", "mobile-telephony-plan", "sim-small")
    violations = _refused(devices, [_delete("1", "d-sim"), _delete("2", "c-sim")])
    assert [(v["rule"], v["path"], v["deleted"]) for v in violations] == [
        ("one-form-factor", "$.productOrderItem[0].product.id", "d-sim")]
    assert violations[0]["message"].endswith("(product 'b-plan' is kept, and products 'd-sim', 'c-sim', which bring "
                                             "resourceSpecification sim-small, are deleted)")


def test_an_item_id_given_twice_in_a_request_is_refused_before_anything_is_judged() -> None:
    """Each item of an order or a cart has an id of its own (its prices, violations and
    relationships name it by it): the same id twice, at any depth, is a 400 naming both places
    (was: accepted, and a delete item showed the add item's price)."""
    from bssrules.errors import InvalidInput
    from bssrules.services.configuration import refuse_nested_actions

    for items, where in (([{"id": "2", "action": "delete", "product": {"id": "p"}}, {"id": "2"}],
                          "$.productOrderItem[1].id: the item id '2' is that of $.productOrderItem[0] too"),
                         ([{"id": "1", "productOrderItem": [{"id": "1.1"}]}, {"id": "1.1"}],
                          "$.productOrderItem[1].id: the item id '1.1' is that of $.productOrderItem[0]"
                          ".productOrderItem[0] too")):
        with pytest.raises(InvalidInput) as refused:
            refuse_nested_actions(items, "productOrderItem")
        assert str(refused.value).startswith(where), str(refused.value)
    refuse_nested_actions([{"id": "1"}, {"id": "2"}, {}, {}], "productOrderItem")  # (unnamed items: no id to repeat)


def _completed(engine: Any, order: dict[str, Any]) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        runtime = build_runtime(uow)
        orders.change_order(uow, runtime, order["id"], {"state": "inProgress"})
    with UnitOfWork(engine) as uow:
        return orders.change_order(uow, build_runtime(uow), order["id"], {"state": "completed"})


def test_a_delete_item_that_finds_its_product_terminated_at_completion_says_so_in_a_note(devices: Any) -> None:
    """Two orders placed deleting the same phone: the second, completed after the first, has
    nothing to terminate — it completes (its other items are done) and says why in a note
    (was: completed, without a word)."""
    _product(devices, "p-phone", "smartphone")
    first, second = _order(devices, [_delete("1", "p-phone")]), _order(devices, [_delete("1", "p-phone")])
    done = _completed(devices, first)
    assert done["state"] == "completed" and "note" not in done  # (it terminated the phone)
    again = _completed(devices, second)
    assert again["state"] == "completed"
    with UnitOfWork(devices) as uow:
        assert orders.get_order(uow, second["id"])["note"] == again["note"]  # (stored as answered)
    [note] = again["note"]
    assert note["text"].startswith("$.productOrderItem[0]: product 'p-phone' was terminated already"), note
    assert "nothing more to terminate" in note["text"]
