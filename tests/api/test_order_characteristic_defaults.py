"""Characteristic defaults reach the product (TMF622 → TMF637), over HTTP on both tiers: the
product an order's completion creates carries, beside the characteristics the item chose
(as chosen), each characteristic of its specification that takes a value when none is chosen
— the specification's ``default``, typed as the specification says, or the one value the
offering allows — which is what the configurator let the item leave out. The order itself
keeps its items as the partner sent them. Each component of a bundle takes its own
specification's defaults."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.rules.project import load_project_texts
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

PARTY = "/tmf-api/party/v4"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
CHECK = "/tmf-api/productConfigurationManagement/v5/checkProductConfiguration"
INVENTORY = "/tmf-api/productInventory/v4/product"
MERGE = {"content-type": "application/merge-patch+json"}
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]

CATALOG = """
productSpecifications:
  - id: ps-mobile
    name: Mobile plan
    characteristics:
      - {name: simFormFactor, values: [nano, micro], minCardinality: 1}
      - {name: dataCap, valueType: integer, unit: GB, range: {min: 1, max: 100}, default: 20}
      - {name: roaming, valueType: boolean, default: false}
      - {name: speedLimit, valueType: number, unit: Mbit/s, values: [0.5, 1.5, 10], default: 1.5}
      - {name: contractEnd, valueType: date, default: 2027-12-31}
      - {name: freeMinutes, valueType: integer, values: [100, 500, 1000], default: 100}
      - {name: network, default: 5G, configurable: false}
      - {name: nickname}
  - id: ps-tv
    name: Television
    characteristics:
      - {name: channels, valueType: integer, default: 80}
      - {name: hd, valueType: boolean, default: true}
productOfferings:
  - {id: po-mobile, name: Mobile, productSpecification: ps-mobile}
  - id: po-mobile-500
    name: Mobile with 500 minutes
    productSpecification: ps-mobile
    characteristicUses:
      - {name: freeMinutes, values: [500]}
      - {name: simFormFactor, values: [nano]}
  - id: po-mobile-more
    name: Mobile with more minutes
    productSpecification: ps-mobile
    characteristicUses:
      - {name: freeMinutes, values: [500, 1000]}
  - {id: po-tv, name: TV, productSpecification: ps-tv}
  - id: po-mobile-tv
    name: Mobile and TV
    bundle:
      - {offering: po-mobile}
      - {offering: po-tv}
"""

# What a po-mobile product takes when the item chooses only its SIM (the mandatory one).
MOBILE_DEFAULTS = {"dataCap": 20, "roaming": False, "speedLimit": 1.5, "contractEnd": "2027-12-31",
                   "freeMinutes": 100, "network": "5G"}


@pytest.fixture
def http(engine: Engine, app_for: Any) -> Iterator[TestClient]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project_texts({"catalog.yaml": CATALOG}), "defaults")
    with app_for(engine) as app, TestClient(app) as client:
        assert client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}
                           ).status_code == 201
        yield client


def _item(id: str, offering: str, characteristics: dict[str, Any] | None = None,
          children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": id, "action": "add", "quantity": 1, "productOffering": {"id": offering}}
    if characteristics is not None:
        item["product"] = {"productCharacteristic": [{"name": k, "value": v} for k, v in characteristics.items()]}
    if children:
        item["productOrderItem"] = children
    return item


def _completed(http: TestClient, *items: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The completed order, and its products by the id of the item that made each."""
    placed = http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": list(items)})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    for state in ("inProgress", "completed"):
        moved = http.patch(f"{ORDER}/{order_id}", json={"state": state}, headers=MERGE)
        assert moved.status_code == 200 and moved.json()["state"] == state, moved.text
    products = {p["productOrderItem"][0]["orderItemId"]: p for p in http.get(INVENTORY).json()
                if p["productOrderItem"][0]["productOrderId"] == order_id}
    # what GET /product/{id} shows is what the list shows
    for product in products.values():
        assert http.get(f"{INVENTORY}/{product['id']}").json()["productCharacteristic"] == \
            product["productCharacteristic"]
    return http.get(f"{ORDER}/{order_id}").json(), products


def _values(product: dict[str, Any]) -> dict[str, Any]:
    names = [c["name"] for c in product["productCharacteristic"]]
    assert len(names) == len(set(names)), names  # a characteristic once
    return {c["name"]: c["value"] for c in product["productCharacteristic"]}


def test_a_product_takes_the_defaults_of_the_characteristics_not_chosen_typed_as_the_specification_says(
        http: TestClient) -> None:
    order, products = _completed(http, _item("1", "po-mobile", {"simFormFactor": "nano"}))
    values = _values(products["1"])
    assert values == {"simFormFactor": "nano", **MOBILE_DEFAULTS}  # nickname has no default: absent
    # typed: an integer is no text or float, a boolean no text, a date its day as text
    assert type(values["dataCap"]) is int and values["roaming"] is False and type(values["freeMinutes"]) is int
    assert values["contractEnd"] == "2027-12-31"
    # the chosen first as chosen, then the defaults in the specification's order
    assert [c["name"] for c in products["1"]["productCharacteristic"]] == [
        "simFormFactor", "dataCap", "roaming", "speedLimit", "contractEnd", "freeMinutes", "network"]
    # the order keeps its item as the partner sent it
    assert order["productOrderItem"][0]["product"]["productCharacteristic"] == [{"name": "simFormFactor",
                                                                                  "value": "nano"}]


def test_the_characteristics_chosen_are_kept_as_chosen_and_only_the_others_take_their_defaults(
        http: TestClient) -> None:
    chosen = {"roaming": True, "dataCap": 50, "simFormFactor": "micro", "speedLimit": 10, "nickname": "work"}
    _, products = _completed(http, _item("1", "po-mobile", chosen))
    values = _values(products["1"])
    assert values == {**MOBILE_DEFAULTS, **chosen}
    assert values["roaming"] is True and values["dataCap"] == 50
    assert [c["name"] for c in products["1"]["productCharacteristic"]][:len(chosen)] == list(chosen)


def test_an_offering_that_allows_one_value_gives_that_value_and_one_that_does_not_allow_the_default_gives_none(
        http: TestClient) -> None:
    """The configurator lets an item leave out a mandatory characteristic whose offering
    allows only one value (simFormFactor of po-mobile-500): the product takes that value, as
    it takes 500 free minutes there rather than the specification's 100, which the offering
    does not sell. An offering that sells 500 or 1000 minutes takes neither by itself."""
    check = http.post(CHECK, json={"relatedParty": CUSTOMER, "cartItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "po-mobile-500"}}]})
    assert check.status_code == 200 and check.json()["violation"] == [], check.text
    _, products = _completed(http, _item("1", "po-mobile-500"),
                             _item("2", "po-mobile-more", {"simFormFactor": "nano"}))
    assert _values(products["1"]) == {**MOBILE_DEFAULTS, "simFormFactor": "nano", "freeMinutes": 500}
    more = _values(products["2"])
    assert "freeMinutes" not in more and more == {k: v for k, v in {**MOBILE_DEFAULTS, "simFormFactor": "nano"}.items()
                                                  if k != "freeMinutes"}


def test_each_component_of_a_bundle_takes_its_own_specifications_defaults(http: TestClient) -> None:
    order, products = _completed(http, _item("1", "po-mobile-tv", children=[
        _item("1.1", "po-mobile", {"simFormFactor": "micro", "dataCap": 5}), _item("1.2", "po-tv")]))
    assert _values(products["1.1"]) == {**MOBILE_DEFAULTS, "simFormFactor": "micro", "dataCap": 5}
    assert _values(products["1.2"]) == {"channels": 80, "hd": True}
    assert _values(products["1"]) == {}  # the bundle has no specification of its own
    assert {r["product"]["id"] for r in products["1"]["productRelationship"]} == \
        {products["1.1"]["id"], products["1.2"]["id"]}
    assert "product" not in order["productOrderItem"][0]["productOrderItem"][1]  # as sent
