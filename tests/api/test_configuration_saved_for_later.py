"""An item saved for later (TMF663 ``status: saveForLater``) is not part of the basket a
configuration check or query looks at: it stays in the cart, but is not bought with it. The
violations of the other items keep their places in the cart. Over HTTP, on both tiers, with
the devices example."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
CART = "/tmf-api/shoppingCart/v4/shoppingCart"
CONFIG = "/tmf-api/productConfigurationManagement/v5"
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
SAVED = "saveForLater"


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    with TestClient(create_app(engine=engine)) as client:
        assert client.post("/tmf-api/party/v4/individual",
                           json={"id": "ana", "givenName": "Ana", "familyName": "S"}).status_code == 201
        yield client


def _item(id: str, offering: str, characteristics: dict[str, Any] | None = None,
          resources: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    product: dict[str, Any] = {}
    if characteristics:
        product["productCharacteristic"] = [{"name": k, "value": v, "@type": "Characteristic"}
                                            for k, v in characteristics.items()]
    if resources:
        product["realizingResource"] = [{"id": r} for r in resources]
    return {"id": id, "quantity": 1, "productOffering": {"id": offering}, **({"product": product} if product else {}),
            **extra}


PLAN = _item("plan", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"])
PHONE = _item("phone", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"])
WRONG_IPAD = _item("ipad", "ipad-mini-std", {"memorySize": "32GB"})  # no such memory size
IPAD_PATH = "$.cartItem[{}].product.productCharacteristic[?(@.name=='memorySize')]"


def _stored(http: Any, *items: dict[str, Any], id: str = "cart-1") -> dict[str, Any]:
    response = http.post(CART, json={"id": id, "relatedParty": CUSTOMER, "cartItem": list(items)})
    assert response.status_code == 201, response.text
    return {"shoppingCart": {"id": id}, "channel": {"id": "shop"}, "requestedDate": "2026-09-01"}


def _body(http: Any, sent: str, *items: dict[str, Any], id: str = "cart-1") -> dict[str, Any]:
    return _stored(http, *items, id=id) if sent == "stored" else _inline(*items)


def _inline(*items: dict[str, Any]) -> dict[str, Any]:
    return {"cartItem": list(items), "relatedParty": CUSTOMER, "channel": {"id": "shop"},
            "requestedDate": "2026-09-01"}


def _check(http: Any, body: dict[str, Any], operation: str = "checkProductConfiguration") -> dict[str, Any]:
    response = http.post(f"{CONFIG}/{operation}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _found(answer: dict[str, Any]) -> set[tuple[str, str]]:
    return {(v["code"], v["path"]) for v in answer["violation"]}


@pytest.mark.parametrize("sent", ["stored", "inline"])
def test_an_item_saved_for_later_is_not_checked(http: Any, sent: str) -> None:
    body = _body(http, sent, PLAN, PHONE, {**WRONG_IPAD, "status": SAVED})
    assert _check(http, body)["valid"] is True
    assert _check(http, body, "queryProductConfiguration")["valid"] is True
    # the same item bought now is checked, and refused
    body = _body(http, sent, PLAN, PHONE, {**WRONG_IPAD, "status": "active"}, id="cart-2")
    assert _found(_check(http, body)) == {("invalidCharacteristicValue", IPAD_PATH.format(2))}


@pytest.mark.parametrize("sent", ["stored", "inline"])
def test_the_violations_of_the_other_items_keep_their_places_in_the_cart(http: Any, sent: str) -> None:
    saved_phone = {**PHONE, "status": SAVED}
    body = _body(http, sent, saved_phone, PLAN, {**WRONG_IPAD, "status": "active"})
    for operation in ("checkProductConfiguration", "queryProductConfiguration"):
        assert _found(_check(http, body, operation)) == {("invalidCharacteristicValue", IPAD_PATH.format(2))}


def test_a_bundle_component_saved_for_later_is_left_out_of_its_bundle(http: Any) -> None:
    plan = _item("1.1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"])
    tablet = _item("1.2", "ipad-mini-std", {"memorySize": "32GB"})
    tablet_path = "$.cartItem[0].cartItem[1].product.productCharacteristic[?(@.name=='memorySize')]"
    bundle = _item("1", "mobile-with-tablet", cartItem=[plan, tablet])
    assert _found(_check(http, _stored(http, bundle))) == {("invalidCharacteristicValue", tablet_path)}
    # the plan saved for later: the bundle bought now lacks its plan, and the tablet its SIM;
    # the tablet keeps its place in the cart
    saved = {**bundle, "cartItem": [{**plan, "status": SAVED}, tablet]}
    assert _found(_check(http, _stored(http, saved, id="cart-2"))) == {
        ("bundleCardinality", "$.cartItem[0].cartItem"), ("invalidCharacteristicValue", tablet_path),
        ("incompatible", "$.cartItem[0].cartItem[1]")}


def test_a_cart_whose_every_item_is_saved_for_later_has_nothing_to_check(http: Any) -> None:
    body = _stored(http, {**PLAN, "status": SAVED}, {**PHONE, "status": SAVED})
    response = http.post(f"{CONFIG}/checkProductConfiguration", json=body)
    assert response.status_code == 400 and "saved for later" in response.json()["message"], response.text


def test_the_cart_itself_still_prices_the_item_saved_for_later(http: Any) -> None:
    _stored(http, PLAN, {**WRONG_IPAD, "id": "ipad-ok", "product": {"productCharacteristic": [
        {"name": "memorySize", "value": "16GB", "@type": "Characteristic"}]}, "status": SAVED})
    cart = http.get(f"{CART}/cart-1").json()
    assert [item["id"] for item in cart["cartItem"]] == ["plan", "ipad-ok"]
    assert cart["cartItem"][1]["itemPrice"]
