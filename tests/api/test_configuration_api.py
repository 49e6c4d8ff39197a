"""TMF663 shopping carts and the TMF760-style configuration check and query, over HTTP on
both tiers, with the devices and connected-car examples as stored in the database."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from jsonschema import Draft4Validator

from bssrules.services import catalog as services
from bssrules.api.resources import SPECS
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
CART, CONFIG = "/tmf-api/shoppingCart/v4/shoppingCart", "/tmf-api/productConfigurationManagement/v5"
PARTY, ACCOUNT, INVENTORY = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4", "/tmf-api/productInventory/v4"
TMF663 = SPECS["/tmf-api/shoppingCart/v4"]


def _check(response: Any) -> Any:
    if response.request.url.path.startswith(CART) and response.status_code != 204:
        body = response.json()
        name = "Error" if response.status_code >= 400 else "ShoppingCart"
        schema: dict[str, Any] = {"definitions": TMF663.definitions, "$ref": f"#/definitions/{name}"}
        if isinstance(body, list):
            schema = {"definitions": TMF663.definitions, "type": "array", "items": {"$ref": f"#/definitions/{name}"}}
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(schema).iter_errors(body)]
        assert not errors, f"{response.request.url.path} breaks {name}: {errors}"
    return response


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    # Rule sets in force apply to every basket: the connected-car split billing (default
    # payer: the car manufacturer) would claim the devices' charges too, so each test loads
    # the example it speaks of.
    _load(engine, "devices")
    with TestClient(create_app(engine=engine)) as test_client:
        test_client.event_hooks["response"] = [lambda r: (r.read(), _check(r))]
        for path, body in ((f"{PARTY}/individual", {"id": "driver-1", "givenName": "Ana", "familyName": "Silva"}),
                           (f"{PARTY}/organization", {"id": "car-maker", "tradingName": "Car maker"})):
            assert test_client.post(path, json=body).status_code == 201
        yield test_client


def _load(engine: Any, example: str) -> None:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / example), example)


def _item(id: str, offering: str, characteristics: dict[str, Any] | None = None,
          resources: list[str] | None = None) -> dict[str, Any]:
    product: dict[str, Any] = {}
    if characteristics:
        product["productCharacteristic"] = [{"name": k, "value": v, "@type": "Characteristic"}
                                            for k, v in characteristics.items()]
    if resources:
        product["realizingResource"] = [{"id": r} for r in resources]
    return {"id": id, "action": "add", "quantity": 1, "productOffering": {"id": offering},
            **({"product": product} if product else {})}


CUSTOMER = [{"id": "driver-1", "role": "customer", "@referredType": "Individual"}]


def _cart(http: Any, *items: dict[str, Any], id: str = "cart-1", related: list[dict[str, Any]] = CUSTOMER) -> None:
    response = http.post(CART, json={"id": id, "relatedParty": related, "cartItem": list(items)})
    assert response.status_code == 201, response.text


def _check_cart(http: Any, **extra: Any) -> dict[str, Any]:
    response = http.post(f"{CONFIG}/checkProductConfiguration",
                         json={"shoppingCart": {"id": "cart-1"}, "requestedDate": "2026-09-01", **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_cart_with_a_smartphone_and_a_large_sim_gets_every_violation_with_the_cart_path(http: Any) -> None:
    _cart(http, _item("1", "mobile-telephony-plan", {"simFormFactor": "LARGE"}, ["sim-large"]),
          _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"]),
          _item("3", "ipad-mini-std", {"memorySize": "32GB"}))
    result = _check_cart(http, channel={"id": "shop"})
    assert result["checkResult"] == "invalid"
    found = {(v["code"], v.get("rule"), v["path"]) for v in result["violations"]}
    assert ("incompatible", "smartphone-needs-small-sim", "$.cartItem[1]") in found
    assert ("incompatible", "smartphone-refuses-large-sim", "$.cartItem[1]") in found
    assert ("invalidCharacteristicValue", None,
            "$.cartItem[2].product.productCharacteristic[?(@.name=='memorySize')]") in found
    explained = next(v for v in result["violations"] if v.get("rule") == "smartphone-needs-small-sim")
    assert explained["ruleSet"] == "sim-terminal-compatibility" and explained["explanation"]


def test_the_same_cart_with_a_small_sim_is_valid(http: Any) -> None:
    _cart(http, _item("1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
          _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"]))
    assert _check_cart(http, channel={"id": "shop"}) == {"@type": "CheckProductConfiguration", "state": "done",
                                                         "checkResult": "valid", "valid": True, "violations": []}


def test_a_rule_whose_validity_ended_no_longer_applies_at_the_requested_date(http: Any) -> None:
    _cart(http, _item("1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
          _item("2", "classic-phone", {"model": "classic"}, ["terminal-classic-phone"]))
    before = http.post(f"{CONFIG}/checkProductConfiguration",
                       json={"shoppingCart": {"id": "cart-1"}, "requestedDate": "2026-03-01"}).json()
    assert "classic-phone-needs-large-sim" in {v.get("rule") for v in before["violations"]}
    after = _check_cart(http)
    assert "classic-phone-needs-large-sim" not in {v.get("rule") for v in after["violations"]}


def test_the_drivers_billing_account_completes_the_split_billing_of_the_infotainment_package(
        http: Any, engine: Any) -> None:
    _load(engine, "connected_car")
    owner = {"id": "driver-1", "role": "owner", "@referredType": "Individual"}
    http.post(f"{INVENTORY}/product", json={"id": "p-car", "status": "active", "relatedParty": [owner],
                                             "productOffering": {"id": "car-connectivity-b2b"}})
    related = CUSTOMER + [{"id": "driver-1", "role": "driver", "@referredType": "Individual"}]
    _cart(http, _item("1", "infotainment-connectivity", {"monthlyVolume": 5}), related=related)
    missing = _check_cart(http, channel={"id": "car-maker-portal"})
    assert [(v["code"], v["payer"], v["path"]) for v in missing["violations"]] == [
        ("noBillingAccount", "driver", "$.relatedParty"), ("noBillingAccount", "car-maker", "$.relatedParty")]
    http.post(f"{ACCOUNT}/billingAccount", json={"id": "ba-driver", "name": "Ana pays", "relatedParty": [
        {"id": "driver-1", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
    still = _check_cart(http, channel={"id": "car-maker-portal"})
    assert [v["payer"] for v in still["violations"]] == ["car-maker"]


def test_the_query_says_which_iPad_memory_is_offered_and_why_the_other_is_not(http: Any) -> None:
    _cart(http, _item("1", "ipad-mini-std", {"memorySize": "16GB"}))
    response = http.post(f"{CONFIG}/queryProductConfiguration",
                         json={"shoppingCart": {"id": "cart-1"}, "requestedDate": "2026-09-01"})
    assert response.status_code == 200, response.text
    memory = next(c for c in response.json()["items"][0]["characteristics"] if c["name"] == "memorySize")
    assert {v["value"]: v["selectable"] for v in memory["values"]} == {"16GB": True, "32GB": False}


def test_inline_items_are_checked_without_storing_a_cart(http: Any) -> None:
    response = http.post(f"{CONFIG}/checkProductConfiguration", json={
        "requestedDate": "2026-09-01", "relatedParty": CUSTOMER, "cartItem": [_item("1", "no-such-offer")]})
    assert response.status_code == 200
    assert response.json()["violations"][0]["code"] == "unknownOffering"
    assert http.get(CART).json() == []


@pytest.mark.parametrize(("body", "status"), [
    ({"shoppingCart": {"id": "nope"}}, 404),
    ({"relatedParty": CUSTOMER}, 400),
    ({"cartItem": [{"id": "1"}]}, 400),
    ({"cartItem": "nope"}, 400),
    ({"cartItem": [{"id": "1", "productOffering": {"id": "x"}, "quantity": "many"}]}, 400),
    ({"cartItem": [{"id": "1", "productOffering": {"id": "x"}}], "requestedDate": "yesterday"}, 400),
])
def test_a_check_of_nothing_or_of_an_unknown_cart_is_a_clean_error(http: Any, body: dict[str, Any],
                                                                    status: int) -> None:
    response = http.post(f"{CONFIG}/checkProductConfiguration", json=body)
    assert response.status_code == status
    assert {"code", "reason", "message", "status"} <= set(response.json())


def test_a_cart_can_be_patched_and_rechecked(http: Any) -> None:
    plan = _item("0", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"])  # the iPad's SIM
    _cart(http, plan, _item("1", "ipad-mini-std", {"memorySize": "32GB"}))
    assert [v["code"] for v in _check_cart(http)["violations"]] == ["invalidCharacteristicValue"]
    patched = http.patch(f"{CART}/cart-1", json={"cartItem": [plan, _item("1", "ipad-mini-std", {"memorySize": "16GB"})]},
                         headers={"content-type": "application/merge-patch+json"})
    assert patched.status_code == 200, patched.text
    assert _check_cart(http)["valid"] is True
