"""TMF663 shopping carts and the TMF760-style configuration check and query, over HTTP on
both tiers, with the devices and connected-car examples as stored in the database.

Every answer is checked against what the OpenAPI document declares: a cart against the
TMF663 definitions, a check or query (2xx) against its schema in ``api.bodies``."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from bssrules.services import catalog as services
from bssrules.api import create_app
from bssrules.api.resources import SPECS
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
CART, CONFIG = "/tmf-api/shoppingCart/v4/shoppingCart", "/tmf-api/productConfigurationManagement/v5"
PARTY, ACCOUNT, INVENTORY = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4", "/tmf-api/productInventory/v4"
TMF663 = SPECS["/tmf-api/shoppingCart/v4"]
DOCUMENT = create_app(auth=False).openapi()


def declared_answer(path: str) -> dict[str, Any]:
    """The 200 schema the OpenAPI document declares for POST ``path``, resolvable on its own."""
    schema = DOCUMENT["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    return {**schema, "components": DOCUMENT["components"]}


ANSWER_SCHEMAS = {f"{CONFIG}/{name}": declared_answer(f"{CONFIG}/{name}")
                  for name in ("checkProductConfiguration", "queryProductConfiguration")}


def _check(response: Any) -> Any:
    if response.request.url.path.startswith(CART) and response.status_code != 204:
        body = response.json()
        name = "Error" if response.status_code >= 400 else "ShoppingCart"
        schema: dict[str, Any] = {"definitions": TMF663.definitions, "$ref": f"#/definitions/{name}"}
        if isinstance(body, list):
            schema = {"definitions": TMF663.definitions, "type": "array", "items": {"$ref": f"#/definitions/{name}"}}
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(schema).iter_errors(body)]
        assert not errors, f"{response.request.url.path} breaks {name}: {errors}"
    answer = ANSWER_SCHEMAS.get(response.request.url.path)
    if answer is not None and response.status_code < 300:
        errors = [f"{list(e.absolute_path)}: {e.message}"
                  for e in Draft202012Validator(answer).iter_errors(response.json())]
        assert not errors, f"{response.request.url.path} breaks its declared answer: {errors}"
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
    found = {(v["code"], v.get("rule"), v["path"]) for v in result["violation"]}
    assert ("incompatible", "smartphone-needs-small-sim", "$.cartItem[1]") in found
    assert ("incompatible", "smartphone-refuses-large-sim", "$.cartItem[1]") in found
    assert ("invalidCharacteristicValue", None,
            "$.cartItem[2].product.productCharacteristic[?(@.name=='memorySize')]") in found
    explained = next(v for v in result["violation"] if v.get("rule") == "smartphone-needs-small-sim")
    assert explained["ruleSet"] == "sim-terminal-compatibility" and explained["explanation"]


def test_the_same_cart_with_a_small_sim_is_valid(http: Any) -> None:
    _cart(http, _item("1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
          _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"]))
    assert _check_cart(http, channel={"id": "shop"}) == {"@type": "CheckProductConfiguration", "state": "done",
                                                         "checkResult": "valid", "valid": True, "violation": []}


def test_a_rule_whose_validity_ended_no_longer_applies_at_the_requested_date(http: Any) -> None:
    _cart(http, _item("1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
          _item("2", "classic-phone", {"model": "classic"}, ["terminal-classic-phone"]))
    before = http.post(f"{CONFIG}/checkProductConfiguration",
                       json={"shoppingCart": {"id": "cart-1"}, "requestedDate": "2026-03-01"}).json()
    assert "classic-phone-needs-large-sim" in {v.get("rule") for v in before["violation"]}
    after = _check_cart(http)
    assert "classic-phone-needs-large-sim" not in {v.get("rule") for v in after["violation"]}


def test_the_drivers_billing_account_completes_the_split_billing_of_the_infotainment_package(
        http: Any, engine: Any) -> None:
    _load(engine, "connected_car")
    owner = {"id": "driver-1", "role": "owner", "@referredType": "Individual"}
    http.post(f"{INVENTORY}/product", json={"id": "p-car", "status": "active", "relatedParty": [owner],
                                             "productOffering": {"id": "car-connectivity-b2b"}})
    related = CUSTOMER + [{"id": "driver-1", "role": "driver", "@referredType": "Individual"}]
    _cart(http, _item("1", "infotainment-connectivity", {"monthlyVolume": 5}), related=related)
    missing = _check_cart(http, channel={"id": "car-maker-portal"})
    assert [(v["code"], v["payer"], v["path"]) for v in missing["violation"]] == [
        ("noBillingAccount", "driver", "$.relatedParty"), ("noBillingAccount", "car-maker", "$.relatedParty")]
    http.post(f"{ACCOUNT}/billingAccount", json={"id": "ba-driver", "name": "Ana pays", "relatedParty": [
        {"id": "driver-1", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
    still = _check_cart(http, channel={"id": "car-maker-portal"})
    assert [v["payer"] for v in still["violation"]] == ["car-maker"]


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
    assert response.json()["violation"][0]["code"] == "unknownOffering"
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
    assert [v["code"] for v in _check_cart(http)["violation"]] == ["invalidCharacteristicValue"]
    patched = http.patch(f"{CART}/cart-1", json={"cartItem": [plan, _item("1", "ipad-mini-std", {"memorySize": "16GB"})]},
                         headers={"content-type": "application/merge-patch+json"})
    assert patched.status_code == 200, patched.text
    assert _check_cart(http)["valid"] is True


def test_every_kind_of_violation_fits_the_declared_answers_of_the_check_and_the_query(http: Any, engine: Any) -> None:
    """One basket breaking the catalog and the rules in every way: the response hook validates
    both answers against their schemas; here we make sure every kind of violation was in them."""
    _load(engine, "connected_car")
    items = [_item("1", "no-such-offer"), _item("2", "music-5gb"),
             _item("3", "infotainment-connectivity", {"monthlyVolume": 5}),
             {**_item("4", "mobile-with-tablet"), "cartItem": [
                 _item("4.1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
                 _item("4.2", "ipad-mini-std"), _item("4.3", "ipad-mini-std")]},
             _item("5", "ipad-mini-deluxe", {"memorySize": "64GB", "color": "red"}),
             _item("6", "mobile-telephony-plan", None, ["sim-small", "sim-large"]),
             _item("7", "split-billing-option", {"maxPayers": 3})]
    body = {"cartItem": items, "relatedParty": CUSTOMER + [{"id": "driver-1", "role": "driver"}],
            "channel": {"id": "shop"}, "requestedDate": "2026-09-01"}
    check = http.post(f"{CONFIG}/checkProductConfiguration", json=body).json()
    assert {v["code"] for v in check["violation"]} >= {
        "unknownOffering", "channelNotAllowed", "bundleCardinality", "invalidCharacteristicValue",
        "unknownCharacteristic", "missingCharacteristic", "missingPrerequisite", "excluded", "notEligible",
        "incompatible", "noBillingAccount"}
    assert {"alternate", "component", "requires", "excludes", "type", "subject", "target", "payer", "item"} <= {
        key for v in check["violation"] for key in v}
    assert all(v["explanation"] for v in check["violation"] if v["code"] in ("notEligible", "incompatible"))
    missing = next(v for v in check["violation"] if v["code"] == "missingCharacteristic")
    assert missing["path"] == "$.cartItem[5].product.productCharacteristic"
    query = http.post(f"{CONFIG}/queryProductConfiguration", json=body).json()
    assert query["violation"] == [{k: v for k, v in found.items() if k != "explanation"} for found in check["violation"]]
    assert query["items"][0] == {"item": "1", "offering": "no-such-offer", "unknown": True, "options": [],
                                 "components": [], "characteristics": []}
    assert {"min": 2, "max": 5} in [c.get("range") for item in query["items"] for c in item["characteristics"]]


def test_the_check_names_its_violations_as_a_refused_order_does(http: Any) -> None:
    items = [_item("1", "mobile-telephony-plan", {"simFormFactor": "LARGE"}, ["sim-large"]),
             _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"])]
    check = http.post(f"{CONFIG}/checkProductConfiguration", json={
        "cartItem": items, "relatedParty": CUSTOMER, "requestedDate": "2026-09-01"}).json()
    order = http.post("/tmf-api/productOrderingManagement/v4/productOrder", json={
        "productOrderItem": items, "relatedParty": CUSTOMER, "requestedStartDate": "2026-09-01"})
    assert order.status_code == 422 and "violations" not in check and "violations" not in order.json()
    assert [(v["code"], v["rule"], v["path"].replace("cartItem", "productOrderItem")) for v in check["violation"]] == [
        (v["code"], v["rule"], v["path"]) for v in order.json()["violation"]]


def test_a_priced_check_of_a_bundle_fits_the_declared_answer_and_adds_up(http: Any) -> None:
    """providePrice: the response hook validates the answer against its declared schema (closed
    throughout), components included; the items' totals add up to the basket's."""
    items = [{**_item("1", "mobile-with-tablet"), "cartItem": [
        _item("1.1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
        _item("1.2", "ipad-mini-deluxe", {"memorySize": "32GB"})]},
        _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"])]
    response = http.post(f"{CONFIG}/checkProductConfiguration", json={
        "cartItem": items, "relatedParty": CUSTOMER, "requestedDate": "2026-09-01", "providePrice": True})
    assert response.status_code == 200, response.text
    check = response.json()
    bundle = check["cartItem"][0]
    assert [c["id"] for c in bundle["cartItem"]] == ["1.1", "1.2"]
    deluxe = bundle["cartItem"][1]["itemPrice"][0]
    assert deluxe["priceAlteration"][0]["name"] == "device-discounts/tablet-with-plan"
    totals = {(t["priceType"], t.get("recurringChargePeriod")): t["price"]["taxIncludedAmount"]["value"]
              for t in check["cartTotalPrice"]}
    assert totals == {("oneTime", None): 10 + 329 + 249, ("recurring", "month"): 19.9}
    declared = DOCUMENT["components"]["schemas"]["CheckProductConfiguration"]["properties"]
    assert {"cartTotalPrice", "cartItem"} <= set(declared)
    assert "providePrice" in DOCUMENT["components"]["schemas"]["ProductConfigurationRequest"]["properties"]
