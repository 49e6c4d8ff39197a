"""An order (a cart, a configuration check) that deletes products is judged on the inventory
it leaves, through the service layer, on SQLite and (when enabled) PostgreSQL.

Ana (the devices example) has a plan with a small SIM, a smartphone that needs a small SIM,
and a 16 GB iPad mini, which may not go with the 32 GB one (a catalog ``excludes`` and the
``one-ipad-memory-size`` rule). Was: the products the request deletes still counted — the
swap of her iPad for the 32 GB one was refused for the iPad it deletes, and the plan deleted
alone was accepted, leaving her smartphone without the small SIM it needs."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project
from bssrules.services import catalog as catalog_services
from bssrules.services import configuration, orders, resources
from bssrules.services.carts import create as create_cart
from bssrules.services.runtime import build_runtime
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
OWNER = [{"id": "ana", "role": "owner", "@referredType": "Individual"}]
DATE = "2026-09-01T00:00:00Z"
OWNED = (("p-plan", "mobile-telephony-plan", "sim-small"), ("p-phone", "smartphone", "terminal-smartphone"),
         ("p-ipad", "ipad-mini-std", None))


def _create(engine: Any, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        return resources.create(uow, resources.KINDS[kind], body, list(body))


def _product(engine: Any, id: str, offering: str, resource: str | None) -> None:
    _create(engine, "product", {"id": id, "status": "active", "relatedParty": OWNER, "startDate": "2026-01-01T00:00:00Z",
                                "productOffering": {"id": offering},
                                **({"realizingResource": [{"id": resource}]} if resource else {})})


@pytest.fixture
def ana(engine: Any) -> Iterator[Any]:
    with UnitOfWork(engine) as uow:
        catalog_services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    _create(engine, "individual", {"id": "ana", "givenName": "Ana", "familyName": "S"})
    for id, offering, resource in OWNED:
        _product(engine, id, offering, resource)
    yield engine


def _delete(id: str, product: str, **extra: Any) -> dict[str, Any]:
    return {"id": id, "action": "delete", "product": {"id": product}, **extra}


def _add(id: str, offering: str, memory: str = "32GB") -> dict[str, Any]:
    return {"id": id, "action": "add", "quantity": 1, "productOffering": {"id": offering},
            "product": {"productCharacteristic": [{"name": "memorySize", "value": memory}]}}


SWAP = [_delete("1", "p-ipad"), _add("2", "ipad-mini-deluxe")]  # the 16 GB iPad for the 32 GB one


def _order(engine: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        order, _ = orders.create_order(uow, build_runtime(uow), {"relatedParty": CUSTOMER, "requestedStartDate": DATE,
                                                                 "productOrderItem": items})
        return order


def _refused(engine: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with pytest.raises(orders.OrderRejected) as refused:
        _order(engine, items)
    return refused.value.violations


def _moved(engine: Any, order_id: str, state: str) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        return orders.change_order(uow, build_runtime(uow), order_id, {"state": state})


def _checked(engine: Any, body: dict[str, Any]) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        return configuration.check_configuration(uow, build_runtime(uow), {"requestedDate": DATE, **body})


def _statuses(engine: Any) -> dict[str, str]:
    with UnitOfWork(engine) as uow:
        return {p["productOffering"]["id"]: p["status"]
                for p in resources.list_page(uow, resources.KINDS["product"], {}, 0, 100)[0]}


def test_an_order_that_replaces_a_product_is_judged_without_the_product_it_deletes(ana: Any) -> None:
    """Was: 422, ``excluded`` and ``one-ipad-memory-size`` at the 32 GB iPad, for the 16 GB
    one the same order deletes."""
    order = _order(ana, SWAP)
    assert order["state"] == "acknowledged"
    _moved(ana, order["id"], "inProgress")
    completed = _moved(ana, order["id"], "completed")  # re-validated on completion, the 16 GB one still deleted
    assert completed["state"] == "completed", completed.get("note")
    assert _statuses(ana) == {"mobile-telephony-plan": "active", "smartphone": "active",
                              "ipad-mini-std": "terminated", "ipad-mini-deluxe": "active"}


def test_without_the_delete_item_the_same_purchase_is_still_refused(ana: Any) -> None:
    violations = _refused(ana, [_add("1", "ipad-mini-deluxe")])
    assert {(v["code"], v["path"]) for v in violations} == {
        ("excluded", "$.productOrderItem[0].productOffering.id"), ("incompatible", "$.productOrderItem[0]")}


def test_a_product_left_without_what_it_requires_refuses_the_order_at_the_delete_item(ana: Any) -> None:
    """Was: accepted; completed, it left the smartphone (and the iPad) without a small SIM."""
    violations = _refused(ana, [_delete("1", "p-plan")])
    assert [(v["code"], v["rule"], v["path"], v["product"], v["deleted"]) for v in violations] == [
        ("incompatible", "smartphone-needs-small-sim", "$.productOrderItem[0].product.id", "p-phone", "p-plan"),
        ("incompatible", "ipad-needs-small-sim", "$.productOrderItem[0].product.id", "p-ipad", "p-plan")]
    assert violations[0]["message"] == ("resourceSpecification terminal-smartphone requires resourceSpecification "
                                        "sim-small (product 'p-phone' is kept, and product 'p-plan', which brings "
                                        "it, is deleted)")
    # deleting what needs the plan with it, or bringing a small SIM in its place, is fine
    assert _order(ana, [_delete("1", "p-phone"), _delete("2", "p-ipad"), _delete("3", "p-plan")])["state"] \
        == "acknowledged"
    new_plan = {"id": "2", "productOffering": {"id": "mobile-telephony-plan"},
                "product": {"productCharacteristic": [{"name": "simFormFactor", "value": "SMALL"}],
                            "realizingResource": [{"id": "sim-small"}]}}
    assert _order(ana, [_delete("1", "p-plan"), new_plan])["state"] == "acknowledged"


def test_an_add_item_that_needs_what_the_order_deletes_names_the_deletion(ana: Any) -> None:
    """A new smartphone beside the plan's deletion (and the other products'): refused at the
    smartphone, saying which product the order deletes, and where."""
    phone = {"id": "4", "productOffering": {"id": "smartphone"},
             "product": {"productCharacteristic": [{"name": "model", "value": "smartphone"}],
                         "realizingResource": [{"id": "terminal-smartphone"}]}}
    violations = _refused(ana, [_delete("1", "p-plan"), _delete("2", "p-ipad"), _delete("3", "p-phone"), phone])
    assert [(v["rule"], v["path"], v["deleted"], "product" in v) for v in violations] == [
        ("smartphone-needs-small-sim", "$.productOrderItem[3]", "p-plan", False)]
    assert violations[0]["message"] == ("resourceSpecification terminal-smartphone requires resourceSpecification "
                                        "sim-small (product 'p-plan', which brings it, is deleted by "
                                        "$.productOrderItem[0].product.id)")


def test_completion_judges_the_inventory_the_order_leaves(ana: Any) -> None:
    """An order that deletes the iPad and the plan is placed; a smartphone the plan's SIM must
    serve comes into the inventory before it is completed: completing it would leave that
    smartphone without its SIM, so the order fails and terminates nothing. Was: completed."""
    order = _order(ana, [_delete("1", "p-plan"), _delete("2", "p-ipad"), _delete("3", "p-phone")])
    _product(ana, "p-phone-2", "smartphone", "terminal-smartphone")
    _moved(ana, order["id"], "inProgress")
    failed = _moved(ana, order["id"], "completed")
    assert failed["state"] == "failed"
    assert [n["text"].split(" (")[0] for n in failed["note"]] == [
        "failed at completion: $.productOrderItem[0].product.id: resourceSpecification terminal-smartphone "
        "requires resourceSpecification sim-small"]
    assert _statuses(ana)["mobile-telephony-plan"] == "active"


def test_a_check_and_a_stored_cart_judge_the_inventory_their_order_would_leave(ana: Any) -> None:
    """Was: invalid (the iPad swap) and valid (the plan deleted alone)."""
    assert _checked(ana, {"relatedParty": CUSTOMER, "cartItem": SWAP})["violation"] == []
    with UnitOfWork(ana) as uow:
        create_cart(uow, build_runtime(uow), {"id": "cart-1", "relatedParty": CUSTOMER, "cartItem": SWAP},
                    ["relatedParty", "cartItem"])
    assert _checked(ana, {"shoppingCart": {"id": "cart-1"}})["valid"] is True
    left = _checked(ana, {"relatedParty": CUSTOMER, "cartItem": [_add("1", "ipad-mini-std", "16GB"),
                                                                 _delete("2", "p-plan")]})
    # the smartphone kept, at the delete item; the iPad bought, at its item (the first to bring its terminal)
    assert [(v["rule"], v["path"]) for v in left["violation"]] == [
        ("smartphone-needs-small-sim", "$.cartItem[1].product.id"), ("ipad-needs-small-sim", "$.cartItem[0]")]


@pytest.mark.parametrize("kept", [{"action": "modify"}, {"action": "noChange"}, {"status": "saveForLater"}])
def test_an_item_that_deletes_nothing_now_leaves_the_product_counted(ana: Any, kept: dict[str, Any]) -> None:
    """A ``modify`` or ``noChange`` item changes nothing in the inventory the rules see, nor
    does a delete item saved for later (an order of the cart would not hold it)."""
    item = {"id": "1", "action": "delete", "product": {"id": "p-ipad"}, **kept}
    checked = _checked(ana, {"relatedParty": CUSTOMER, "cartItem": [item, _add("2", "ipad-mini-deluxe")]})
    assert {v["code"] for v in checked["violation"]} == {"excluded", "incompatible"}
    if "status" not in kept:
        assert {v["code"] for v in _refused(ana, [item, _add("2", "ipad-mini-deluxe")])} == {"excluded", "incompatible"}


BUNDLES = """
productSpecifications:
  - {id: ps-fibre, name: Fibre access}
  - {id: ps-tv, name: Television}
  - {id: ps-box, name: TV box}
productOfferings:
  - {id: po-fibre, name: Fibre, productSpecification: ps-fibre}
  - {id: po-tv, name: TV, productSpecification: ps-tv}
  - id: po-box
    name: TV box
    productSpecification: ps-box
    relationships:
      - {type: requires, offering: po-tv}
  - id: po-fibre-tv
    name: Fibre and TV
    bundle:
      - {offering: po-fibre}
      - {offering: po-tv}
"""


def test_a_bundle_deleted_takes_its_components_with_it_for_the_rules(engine: Any) -> None:
    """Ana has a fibre-and-TV bundle and a TV box, which requires TV: deleting the bundle
    deletes its TV component, which the box needs. Was: accepted."""
    from bssrules.rules.project import load_project_texts

    with UnitOfWork(engine) as uow:
        catalog_services.load_project(uow, load_project_texts({"catalog.yaml": BUNDLES}), "bundles")
    _create(engine, "individual", {"id": "ana", "givenName": "Ana", "familyName": "S"})
    for id, offering in (("p-fibre", "po-fibre"), ("p-tv", "po-tv"), ("p-box", "po-box")):
        _product(engine, id, offering, None)
    _create(engine, "product", {"id": "p-bundle", "status": "active", "relatedParty": OWNER, "isBundle": True,
                                "productOffering": {"id": "po-fibre-tv"}, "productRelationship": [
                                    {"relationshipType": "bundled", "product": {"id": c}} for c in ("p-fibre", "p-tv")]})
    violations = _refused(engine, [_delete("1", "p-bundle")])
    assert [(v["code"], v["path"], v["product"], v["deleted"]) for v in violations] == [
        ("missingPrerequisite", "$.productOrderItem[0].product.id", "p-box", "p-tv")]
    assert _order(engine, [_delete("1", "p-bundle"), _delete("2", "p-box")])["state"] == "acknowledged"
