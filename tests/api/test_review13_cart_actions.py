"""A cart item's ``action`` (review 13, D1 and D6): a shopping cart and a configuration check
(``providePrice``) price and check each item as an order of the cart placed now would — an
``add`` item as bought; a ``delete`` item terminates a product of the inventory (its early
termination charge, checked as an order checks it, never priced nor validated as a
purchase); ``modify`` and ``noChange`` cost nothing. Over HTTP, on both tiers, each cart
answer held to strict TMF663 (``test_tmf663_priced_cart``)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project, load_project_texts
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork
from tests.api.test_commitments import TERMS_CATALOG
from tests.api.test_tmf663_priced_cart import _check, amounts, exact

ROOT = Path(__file__).resolve().parents[2]
CART = "/tmf-api/shoppingCart/v4/shoppingCart"
CHECK = "/tmf-api/productConfigurationManagement/v5/checkProductConfiguration"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
INVENTORY = "/tmf-api/productInventory/v4/product"
PARTY = "/tmf-api/party/v4/individual"
MERGE = {"content-type": "application/merge-patch+json"}
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]


def _item(id: str, offering: str, characteristics: dict[str, Any] | None = None,
          resources: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    product: dict[str, Any] = {}
    if characteristics:
        product["productCharacteristic"] = [{"name": k, "value": v, "@type": "Characteristic"}
                                            for k, v in characteristics.items()]
    if resources:
        product["realizingResource"] = [{"id": r} for r in resources]
    return {"id": id, "action": "add", "quantity": 1, "productOffering": {"id": offering},
            **({"product": product} if product else {}), **extra}


PLAN = _item("1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"])
PHONE = _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"])


def _client(engine: Any, project: Any, source: str) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    with UnitOfWork(engine) as uow:
        services.load_project(uow, project, source)
    with TestClient(create_app(engine=engine)) as client:
        client.event_hooks["response"] = [lambda r: (r.read(), _check(r))]
        assert client.post(PARTY, json={"id": "ana", "givenName": "Ana", "familyName": "S"}).status_code == 201
        yield client


def _completed(http: Any, *items: dict[str, Any], **order: Any) -> dict[str, str]:
    """Place and complete an order; its products by offering."""
    placed = http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": list(items), **order})
    assert placed.status_code == 201, placed.text
    for state in ("inProgress", "completed"):
        moved = http.patch(f"{ORDER}/{placed.json()['id']}", json={"state": state}, headers=MERGE)
        assert moved.status_code == 200 and moved.json()["state"] == state, moved.text
    return {p["productOffering"]["id"]: p["id"] for p in http.get(INVENTORY).json()
            if p["productOrderItem"][0]["productOrderId"] == placed.json()["id"]}


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    """The devices example; Ana owns a plan and a smartphone (a completed order)."""
    yield from _client(engine, load_project(ROOT / "examples" / "devices"), "devices")


@pytest.fixture
def owned(http: Any) -> dict[str, str]:
    return _completed(http, PLAN, PHONE)


def _order_totals(http: Any, *items: dict[str, Any]) -> Any:
    placed = http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": list(items)})
    assert placed.status_code == 201, placed.text
    return exact(placed)["orderTotalPrice"]


def _cart(http: Any, *items: dict[str, Any], id: str = "cart-1") -> Any:
    response = http.post(CART, json={"id": id, "relatedParty": CUSTOMER, "cartItem": list(items)})
    assert response.status_code == 201, response.text
    return exact(response)


def _checked(http: Any, body: dict[str, Any]) -> Any:
    response = http.post(CHECK, json=body)
    assert response.status_code == 200, response.text
    return exact(response)


def _delete(id: str, product: str, offering: str | None = "mobile-telephony-plan") -> dict[str, Any]:
    return {"id": id, "action": "delete", **({"productOffering": {"id": offering}} if offering else {}),
            "product": {"id": product}}


@pytest.mark.parametrize("offering", ["smartphone", None])
def test_a_delete_item_adds_nothing_to_a_cart_as_to_an_order(http: Any, owned: dict[str, str],
                                                              offering: str | None) -> None:
    """Was: the plan deleted priced as bought (19.90 a month, 10.00 SIM fee); without its
    offering refused 400 'productOffering.id is required', as an order accepts it."""
    # (the smartphone: the plan deleted alone would leave it without the small SIM it needs, a violation)
    deleting = _delete("1", owned["smartphone"], offering)
    cart = _cart(http, deleting)
    assert cart["cartTotalPrice"] == [] == _order_totals(http, deleting)
    assert cart["cartItem"][0]["itemPrice"] == [] and cart["cartItem"][0]["itemTotalPrice"] == []
    assert exact(http.get(f"{CART}/cart-1")) == cart
    # with a purchase beside it: what an order of both comes to, the purchase alone
    both = _cart(http, deleting, {**PHONE, "id": "2"}, id="cart-2")
    assert both["cartTotalPrice"] == _order_totals(http, deleting, PHONE)
    assert amounts(both["cartTotalPrice"]) == {("oneTime", None): "249.00 EUR"}


@pytest.mark.parametrize("action", ["modify", "noChange"])
def test_a_modify_or_no_change_item_costs_what_an_order_values_it_at(http: Any, action: str) -> None:
    """Was: 249.00, a smartphone bought."""
    item = {"id": "1", "action": action, "productOffering": {"id": "smartphone"}}
    cart = _cart(http, item)
    assert cart["cartTotalPrice"] == [] == _order_totals(http, item)
    checked = _checked(http, {"cartItem": [item], "relatedParty": CUSTOMER, "providePrice": True})
    assert checked["cartTotalPrice"] == [] and checked["cartItem"][0]["itemPrice"] == []


def test_a_delete_item_is_checked_as_an_order_checks_it_not_as_a_purchase(http: Any, owned: dict[str, str]) -> None:
    """Was: invalid, missingCharacteristic 'simFormFactor' on the plan being deleted, and the
    purchase's prices (the smartphone is deleted here: deleting the plan alone would now be
    refused, rightly — the phone kept needs the small SIM it brings)."""
    for offering in ("smartphone", None):
        checked = _checked(http, {"cartItem": [_delete("1", owned["smartphone"], offering)],
                                  "relatedParty": CUSTOMER, "providePrice": True})
        assert checked["checkResult"] == "valid" and checked["violation"] == [], checked
        assert checked["cartTotalPrice"] == []
        # named by the offering of the product it terminates when the item names none
        assert checked["cartItem"] == [{"id": "1", "productOffering": {"id": "smartphone"},
                                        "quantity": 1, "itemPrice": [], "itemTotalPrice": []}]
    # what an order refuses a delete item for, the check finds, at the item's place in the cart
    unknown = _checked(http, {"cartItem": [PHONE, _delete("3", "nope")], "relatedParty": CUSTOMER})
    assert unknown["checkResult"] == "invalid"
    assert [(v["code"], v["path"]) for v in unknown["violation"]] == [("unknownProduct", "$.cartItem[1].product.id")]
    refused = http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": [PHONE, _delete("3", "nope")]})
    assert refused.status_code == 422 and [v["code"] for v in refused.json()["violation"]] == ["unknownProduct"]


def test_the_purchases_beside_a_delete_item_keep_their_places_in_the_cart(http: Any, owned: dict[str, str]) -> None:
    bad_phone = _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"], quantity=0)
    refused = http.post(CART, json={"relatedParty": CUSTOMER,
                                    "cartItem": [_delete("1", owned["mobile-telephony-plan"]), bad_phone]})
    assert refused.status_code == 400, refused.text
    wrong_sim = _item("2", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"])
    del wrong_sim["product"]["productCharacteristic"]
    checked = _checked(http, {"cartItem": [_delete("1", owned["mobile-telephony-plan"]), wrong_sim],
                              "relatedParty": CUSTOMER})
    assert {v["path"] for v in checked["violation"]} == {"$.cartItem[1].product.productCharacteristic"}, checked


def test_an_empty_stored_cart_is_named_as_having_no_items(http: Any) -> None:
    """D6. Was: 'nothing to check: give shoppingCart.id or cartItem', shoppingCart.id given."""
    assert http.post(CART, json={"id": "empty", "relatedParty": CUSTOMER}).status_code == 201
    refused = http.post(CHECK, json={"shoppingCart": {"id": "empty"}, "providePrice": True})
    assert refused.status_code == 400
    assert refused.json()["message"] == "nothing to check: shopping cart 'empty' has no items"


@pytest.fixture
def terms(engine: Any) -> Iterator[Any]:
    """A catalog of commitments (``test_commitments``); Ana has a billing account."""
    for client in _client(engine, load_project_texts({"catalog.yaml": TERMS_CATALOG}), "terms"):
        assert client.post("/tmf-api/accountManagement/v4/billingAccount", json={
            "id": "ba-ana", "name": "Ana",
            "relatedParty": [{"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}).status_code == 201
        yield client


def test_a_delete_item_comes_with_its_early_termination_charge_as_in_an_order(terms: Any) -> None:
    fibre = _completed(terms, {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "po-fibre-24"}},
                       requestedStartDate="2026-01-01")["po-fibre-24"]
    items = [_delete("1", fibre, None), {"id": "2", "action": "add", "quantity": 1,
                                         "productOffering": {"id": "po-fibre-free"}}]
    placed = terms.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": "2026-07-16",
                                     "productOrderItem": items})
    assert placed.status_code == 201, placed.text
    order = exact(placed)
    checked = _checked(terms, {"cartItem": items, "relatedParty": CUSTOMER, "requestedDate": "2026-07-16",
                               "providePrice": True})
    assert checked["checkResult"] == "valid", checked
    assert checked["cartTotalPrice"] == order["orderTotalPrice"]
    assert amounts(checked["cartTotalPrice"]) == {("oneTime", None): "262.74 EUR", ("recurring", "month"): "30.00 EUR"}
    charge = order["productOrderItem"][0]["itemPrice"][0]
    [shown] = checked["cartItem"][0]["itemPrice"]
    assert shown == {k: charge[k] for k in ("name", "priceType", "price")}
    assert checked["cartItem"][0]["productOffering"] == {"id": "po-fibre-24"}
    assert amounts(checked["cartItem"][0]["itemTotalPrice"]) == {("oneTime", None): "262.74 EUR"}
    # a cart is valued now: the charge of a termination now, in its one-time total
    cart = _cart(terms, *items)
    [now_charge] = cart["cartItem"][0]["itemPrice"]
    assert now_charge["@type"] == "EarlyTerminationCharge" and "billingAccount" not in now_charge
    assert cart["cartItem"][0]["itemTotalPrice"] == [{"priceType": "oneTime", "price": now_charge["price"]}]
    assert {(t["priceType"], t["price"]["taxIncludedAmount"]["value"]) for t in cart["cartTotalPrice"]} == {
        ("oneTime", now_charge["price"]["taxIncludedAmount"]["value"]), ("recurring", Decimal("30.00"))}


def test_an_item_refused_is_named_by_its_place_in_the_cart_after_items_left_out(http: Any) -> None:
    """The delete item and the item saved for later before it are not read as the basket:
    the refusal names the item's place in the cart, not among the items read (cartItem[0])."""
    items = [_delete("0", "nope", None), {**PHONE, "id": "1", "status": "saveForLater"},
             {"id": "2", "action": "add", "quantity": 1}]
    for url, body in ((CHECK, {"cartItem": items, "relatedParty": CUSTOMER}),
                      (CART, {"relatedParty": CUSTOMER, "cartItem": items})):
        refused = http.post(url, json=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["message"].endswith("cartItem[2]: productOffering.id is required"), refused.text
