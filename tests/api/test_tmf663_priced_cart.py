"""Priced shopping carts (TMF663) and the priced configuration check, over HTTP on both
tiers, with the devices example (issue 13, item 3).

Every cart answer is checked against the official TMF663 definitions (read from the Swagger
file shipped with the package), made strict — ``additionalProperties: false`` — on the cart,
its items and every definition of their prices: a price attribute the standard does not have
fails. (What a client describes of its product stays as open as the standard has it: TMF663's
Characteristic takes its ``value`` from sub-classes.) The check's prices are held to the same
TMF663 CartPrice."""
from __future__ import annotations

import copy
import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import pytest
from jsonschema import Draft4Validator

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
TMF663_FILE = ROOT / "bssrules" / "api" / "specs" / "TMF663-ShoppingCart-v4.0.0.swagger.json"
CART = "/tmf-api/shoppingCart/v4/shoppingCart"
CHECK = "/tmf-api/productConfigurationManagement/v5/checkProductConfiguration"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
PARTY = "/tmf-api/party/v4/individual"
PRICE = "/tmf-api/productCatalogManagement/v4/productOfferingPrice"
MERGE = {"content-type": "application/merge-patch+json"}
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
# What the server writes of a cart: closed; the rest is the client's, as the standard has it.
STRICT = ("ShoppingCart", "CartItem", "CartPrice", "Price", "PriceAlteration", "Money", "ProductOfferingPriceRef",
          "Error")


@lru_cache(maxsize=1)
def strict_tmf663() -> dict[str, Any]:
    """The TMF663 definitions as published, those of :data:`STRICT` closed."""
    definitions = copy.deepcopy(json.loads(TMF663_FILE.read_text(encoding="utf-8"))["definitions"])
    for name in STRICT:
        definitions[name]["additionalProperties"] = False
    return definitions


def problems(body: Any, definition: str, many: bool = False) -> list[str]:
    reference = {"$ref": f"#/definitions/{definition}"}
    schema = {"definitions": strict_tmf663(), **({"type": "array", "items": reference} if many else reference)}
    return [f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(schema).iter_errors(body)]


def _check(response: Any) -> Any:
    if response.request.url.path.startswith(CART) and response.status_code != 204:
        body = response.json()
        name = "Error" if response.status_code >= 400 else "ShoppingCart"
        found = problems(body, name, many=isinstance(body, list))
        assert not found, f"{response.request.method} {response.request.url} breaks strict TMF663 {name}: {found}"
    return response


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    with TestClient(create_app(engine=engine)) as client:
        client.event_hooks["response"] = [lambda r: (r.read(), _check(r))]
        assert client.post(PARTY, json={"id": "ana", "givenName": "Ana", "familyName": "S"}).status_code == 201
        yield client


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
DELUXE = _item("2", "ipad-mini-deluxe", {"memorySize": "32GB"})


def exact(response: Any) -> Any:
    """The body with numbers as written (Decimal), so that 339.00 is told from 339."""
    return json.loads(response.text, parse_float=Decimal)


def amounts(prices: list[dict[str, Any]]) -> dict[tuple[str, str | None], str]:
    """(priceType, period) -> amount as written, with its currency."""
    return {(p["priceType"], p.get("recurringChargePeriod")):
            f"{p['price']['taxIncludedAmount']['value']} {p['price']['taxIncludedAmount']['unit']}" for p in prices}


def _cart(http: Any, *items: dict[str, Any], id: str = "cart-1", **extra: Any) -> Any:
    response = http.post(CART, json={"id": id, "relatedParty": CUSTOMER, "cartItem": list(items), **extra})
    assert response.status_code == 201, response.text
    return exact(response)


def test_a_cart_comes_back_priced_item_by_item_with_its_discounts_and_its_total(http: Any) -> None:
    cart = _cart(http, PLAN, DELUXE)
    plan, tablet = cart["cartItem"]
    assert amounts(plan["itemPrice"]) == {("recurring", "month"): "19.90 EUR", ("oneTime", None): "10.00 EUR"}
    assert {p["productOfferingPrice"]["id"] for p in plan["itemPrice"]} == {"mobile-monthly", "sim-fee"}
    # 379.00 less the 50.00 of the tablet-with-plan discount (a plan is in the basket)
    assert amounts(tablet["itemPrice"]) == {("oneTime", None): "329.00 EUR"}
    [discount] = tablet["itemPrice"][0]["priceAlteration"]
    assert (discount["name"], discount["priority"], str(discount["price"]["taxIncludedAmount"]["value"])) == (
        "device-discounts/tablet-with-plan", 10, "-50.00")
    assert amounts(tablet["itemTotalPrice"]) == {("oneTime", None): "329.00 EUR"}
    assert tablet["itemTotalPrice"][0]["priceAlteration"] == [discount]
    assert amounts(cart["cartTotalPrice"]) == {("oneTime", None): "339.00 EUR", ("recurring", "month"): "19.90 EUR"}
    # the product the client described is kept as sent
    assert plan["product"] == PLAN["product"] and tablet["productOffering"] == {"id": "ipad-mini-deluxe"}
    assert exact(http.get(f"{CART}/cart-1")) == cart
    assert exact(http.get(CART))[0] == cart


def test_the_cart_is_worth_what_an_order_of_the_same_items_states(http: Any) -> None:
    cart = _cart(http, PLAN, DELUXE)
    order = exact(http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": [PLAN, DELUXE]}))
    assert order["orderTotalPrice"] == cart["cartTotalPrice"]
    assert [i["itemPrice"] for i in order["productOrderItem"]] == [i["itemPrice"] for i in cart["cartItem"]]


def test_an_items_total_holds_its_bundle_components_and_the_items_add_up_to_the_cart(http: Any) -> None:
    bundle = _item("1", "mobile-with-tablet", cartItem=[
        _item("1.1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
        _item("1.2", "ipad-mini-std", {"memorySize": "16GB"})])
    cart = _cart(http, bundle, _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"]))
    top, phone = cart["cartItem"]
    assert amounts(top["itemPrice"]) == {("recurring", "month"): "0.00 EUR"}  # the bundle's own fee
    plan, tablet = top["cartItem"]
    assert amounts(plan["itemPrice"]) == {("recurring", "month"): "19.90 EUR", ("oneTime", None): "10.00 EUR"}
    assert amounts(tablet["itemPrice"]) == {("oneTime", None): "299.00 EUR"}
    assert amounts(top["itemTotalPrice"]) == {("recurring", "month"): "19.90 EUR", ("oneTime", None): "309.00 EUR"}
    sums: dict[tuple[str, str | None], Decimal] = {}
    for item in (top, phone):
        for total in item["itemTotalPrice"]:
            key = (total["priceType"], total.get("recurringChargePeriod"))
            sums[key] = sums.get(key, Decimal(0)) + total["price"]["taxIncludedAmount"]["value"]
    assert {k: f"{v} EUR" for k, v in sums.items()} == amounts(cart["cartTotalPrice"])
    assert amounts(cart["cartTotalPrice"]) == {("oneTime", None): "558.00 EUR", ("recurring", "month"): "19.90 EUR"}


def test_a_recurring_discount_states_its_percentage_period_and_duration(http: Any) -> None:
    assert http.post(PARTY, json={"id": "gold", "givenName": "G", "familyName": "Old", "partyCharacteristic": [
        {"name": "classification", "value": "GOLD"}]}).status_code == 201
    response = http.post(CART, json={"id": "cart-gold", "cartItem": [PLAN], "relatedParty": [
        {"id": "gold", "role": "customer", "@referredType": "Individual"}]})
    assert response.status_code == 201, response.text
    [plan] = exact(response)["cartItem"]
    monthly = next(p for p in plan["itemPrice"] if p["priceType"] == "recurring")
    assert str(monthly["price"]["taxIncludedAmount"]["value"]) == "17.91"  # 19.90 less 10 %, 1.99
    [loyalty] = monthly["priceAlteration"]
    assert loyalty["name"] == "device-discounts/gold-loyalty" and str(loyalty["price"]["percentage"]) == "10"
    assert (loyalty["recurringChargePeriod"], loyalty["applicationDuration"]) == ("month", 12)
    assert str(loyalty["price"]["taxIncludedAmount"]["value"]) == "-1.99"
    assert amounts(exact(response)["cartTotalPrice"])[("recurring", "month")] == "17.91 EUR"


def test_prices_a_client_sends_are_not_kept_and_filters_do_not_see_them(http: Any) -> None:
    bogus = [{"priceType": "oneTime", "price": {"taxIncludedAmount": {"unit": "EUR", "value": 1}}}]
    cart = _cart(http, {**DELUXE, "itemPrice": bogus, "itemTotalPrice": bogus}, cartTotalPrice=bogus)
    assert amounts(cart["cartTotalPrice"]) == {("oneTime", None): "379.00 EUR"}  # no plan: no discount
    assert amounts(cart["cartItem"][0]["itemPrice"]) == {("oneTime", None): "379.00 EUR"}
    assert http.get(CART, params={"cartTotalPrice.priceType": "oneTime"}).json() == []


def test_a_cart_is_priced_when_it_is_read_with_the_catalog_of_then(http: Any) -> None:
    _cart(http, PLAN)
    changed = http.patch(f"{PRICE}/sim-fee", json={"price": {"unit": "EUR", "value": 12.50}}, headers=MERGE)
    assert changed.status_code == 200, changed.text
    cart = exact(http.get(f"{CART}/cart-1"))
    assert amounts(cart["cartTotalPrice"])[("oneTime", None)] == "12.50 EUR"


def test_an_empty_cart_costs_nothing_and_a_patched_cart_is_priced_again(http: Any) -> None:
    response = http.post(CART, json={"id": "empty", "relatedParty": CUSTOMER})
    assert response.status_code == 201 and response.json()["cartTotalPrice"] == []
    patched = http.patch(f"{CART}/empty", json={"cartItem": [PLAN, DELUXE]}, headers=MERGE)
    assert patched.status_code == 200, patched.text
    assert amounts(exact(patched)["cartTotalPrice"]) == {("oneTime", None): "339.00 EUR",
                                                          ("recurring", "month"): "19.90 EUR"}


@pytest.mark.parametrize(("item", "says"), [
    ({"id": "1", "quantity": 1}, "cartItem[0]: productOffering.id is required"),
    ({"id": "1", "quantity": 0, "productOffering": {"id": "smartphone"}}, "quantity"),
    ({"id": "1", "productOffering": {"id": "smartphone"},
      "product": {"productCharacteristic": [{"name": "model", "value": {"a": 1}, "@type": "Characteristic"}]}},
     "malformed basket"),
])
def test_a_cart_that_cannot_be_priced_is_refused_and_nothing_is_stored_or_changed(
        http: Any, item: dict[str, Any], says: str) -> None:
    response = http.post(CART, json={"id": "bad", "relatedParty": CUSTOMER, "cartItem": [item]})
    assert response.status_code == 400 and says in response.json()["message"], response.text
    assert http.get(CART).json() == []
    before = _cart(http, PLAN)
    refused = http.patch(f"{CART}/cart-1", json={"cartItem": [item]}, headers=MERGE)
    assert refused.status_code == 400
    assert exact(http.get(f"{CART}/cart-1")) == before


def test_the_check_returns_the_carts_prices_when_asked(http: Any) -> None:
    cart = _cart(http, PLAN, DELUXE)
    bare = http.post(CHECK, json={"shoppingCart": {"id": "cart-1"}})
    assert bare.status_code == 200 and "cartTotalPrice" not in bare.json()
    for body in ({"shoppingCart": {"id": "cart-1"}}, {"cartItem": [PLAN, DELUXE], "relatedParty": CUSTOMER}):
        response = http.post(CHECK, json={**body, "providePrice": True})
        assert response.status_code == 200, response.text
        check = exact(response)
        assert check["valid"] is True
        assert check["cartTotalPrice"] == cart["cartTotalPrice"]
        assert [(i["id"], i["productOffering"], i["itemPrice"], i["itemTotalPrice"]) for i in check["cartItem"]] == [
            (i["id"], i["productOffering"], i["itemPrice"], i["itemTotalPrice"]) for i in cart["cartItem"]]
        assert not problems(json.loads(response.text)["cartTotalPrice"], "CartPrice", many=True)
        for item in json.loads(response.text)["cartItem"]:
            assert not problems(item["itemPrice"] + item["itemTotalPrice"], "CartPrice", many=True)


def test_the_check_prices_an_invalid_basket_too_and_refuses_a_provide_price_that_is_not_a_boolean(
        http: Any) -> None:
    items = [_item("1", "mobile-telephony-plan", {"simFormFactor": "LARGE"}, ["sim-large"]),
             _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"]), _item("3", "no-such")]
    check = exact(http.post(CHECK, json={"cartItem": items, "relatedParty": CUSTOMER, "providePrice": True}))
    assert check["valid"] is False and check["violation"]
    assert amounts(check["cartTotalPrice"]) == {("oneTime", None): "259.00 EUR", ("recurring", "month"): "19.90 EUR"}
    assert check["cartItem"][2]["itemPrice"] == [] and check["cartItem"][2]["itemTotalPrice"] == []
    refused = http.post(CHECK, json={"cartItem": items, "providePrice": "yes"})
    assert refused.status_code == 400 and "providePrice" in refused.json()["message"]


def test_fields_selects_the_prices_of_a_cart_down_to_its_items(http: Any) -> None:
    _cart(http, PLAN, DELUXE)
    one = exact(http.get(f"{CART}/cart-1", params={"fields": "cartTotalPrice,cartItem.itemTotalPrice"}))
    assert set(one) == {"id", "href", "@type", "cartTotalPrice", "cartItem"}
    assert [set(i) for i in one["cartItem"]] == [{"id", "itemTotalPrice"}] * 2
    assert amounts(one["cartItem"][1]["itemTotalPrice"]) == {("oneTime", None): "329.00 EUR"}
    refused = http.get(f"{CART}/cart-1", params={"fields": "cartItem.itemTotalPrise"})
    assert refused.status_code == 400 and "did you mean 'cartItem.itemTotalPrice'" in refused.json()["message"]


# TMF663 v4 CartItem.status is "active" or "saveForLater" (the enum; its description's
# "savedForLater" is not one of the values, and is refused as the spec has it)
def test_an_item_saved_for_later_is_priced_but_not_in_the_carts_total(http: Any) -> None:
    saved = "saveForLater"
    response = http.post(CART, json={"id": "cart-1", "relatedParty": CUSTOMER,
                                     "cartItem": [{**PLAN, "status": "active"}, {**DELUXE, "status": saved}]})
    assert response.status_code == 201, response.text
    cart = exact(response)
    plan, tablet = cart["cartItem"]
    assert tablet["status"] == saved
    # the tablet is priced as it would be bought with the cart (the plan's discount), and left out
    assert amounts(tablet["itemPrice"]) == amounts(tablet["itemTotalPrice"]) == {("oneTime", None): "329.00 EUR"}
    assert amounts(plan["itemPrice"]) == {("recurring", "month"): "19.90 EUR", ("oneTime", None): "10.00 EUR"}
    assert amounts(cart["cartTotalPrice"]) == {("oneTime", None): "10.00 EUR", ("recurring", "month"): "19.90 EUR"}
    assert exact(http.get(f"{CART}/cart-1")) == cart
    refused = http.post(CART, json={"id": "cart-2", "cartItem": [{**DELUXE, "status": "savedForLater"}]})
    assert refused.status_code == 400 and "cartItem[0].status" in refused.json()["message"], refused.text


def test_a_cart_total_is_what_its_active_items_alone_come_to(http: Any) -> None:
    """The plan saved for later: the tablet in the cart is bought without it, so without the
    tablet-with-plan discount, as in a cart of the tablet alone."""
    cart = _cart(http, {**PLAN, "status": "saveForLater"}, DELUXE)
    plan, tablet = cart["cartItem"]
    assert amounts(plan["itemPrice"]) == {("recurring", "month"): "19.90 EUR", ("oneTime", None): "10.00 EUR"}
    assert amounts(tablet["itemPrice"]) == {("oneTime", None): "379.00 EUR"}
    assert amounts(cart["cartTotalPrice"]) == {("oneTime", None): "379.00 EUR"}
    alone = _cart(http, DELUXE, id="cart-alone")  # (an order of it alone is refused: an iPad needs a SIM)
    assert alone["cartTotalPrice"] == cart["cartTotalPrice"]
    assert alone["cartItem"][0]["itemPrice"] == tablet["itemPrice"]
    # every item saved for later: nothing to pay now; moved back into the cart, both count again
    patched = http.patch(f"{CART}/cart-1", json={"cartItem": [{**PLAN, "status": "saveForLater"},
                                                              {**DELUXE, "status": "saveForLater"}]}, headers=MERGE)
    assert patched.status_code == 200 and exact(patched)["cartTotalPrice"] == [], patched.text
    assert amounts(exact(patched)["cartItem"][1]["itemPrice"]) == {("oneTime", None): "329.00 EUR"}
    patched = http.patch(f"{CART}/cart-1", json={"cartItem": [{**PLAN, "status": "active"}, DELUXE]}, headers=MERGE)
    assert amounts(exact(patched)["cartTotalPrice"]) == {("oneTime", None): "339.00 EUR",
                                                          ("recurring", "month"): "19.90 EUR"}


def test_a_bundle_component_saved_for_later_is_left_out_of_its_bundles_total_and_the_carts(http: Any) -> None:
    bundle = _item("1", "mobile-with-tablet", cartItem=[
        _item("1.1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
        _item("1.2", "ipad-mini-std", {"memorySize": "16GB"}, status="saveForLater")])
    cart = _cart(http, bundle)
    [top] = cart["cartItem"]
    plan, tablet = top["cartItem"]
    assert amounts(tablet["itemPrice"]) == {("oneTime", None): "299.00 EUR"}
    assert amounts(top["itemTotalPrice"]) == {("recurring", "month"): "19.90 EUR", ("oneTime", None): "10.00 EUR"}
    assert amounts(cart["cartTotalPrice"]) == {("oneTime", None): "10.00 EUR", ("recurring", "month"): "19.90 EUR"}
