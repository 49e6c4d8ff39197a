"""fields= with dotted paths (TMF630 attribute selection) on APIs other than TMF679 and
TMF663 (tested with them): the catalog, the product inventory and orders, both tiers."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
CATALOG = "/tmf-api/productCatalogManagement/v4"
INVENTORY, ORDER = "/tmf-api/productInventory/v4/product", "/tmf-api/productOrderingManagement/v4/productOrder"
OWNER = [{"id": "ana", "role": "owner", "@referredType": "Individual"}]


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    with TestClient(create_app(engine=engine)) as client:
        assert client.post("/tmf-api/party/v4/individual", json={"id": "ana", "givenName": "A", "familyName": "S"}
                           ).status_code == 201
        yield client


def test_a_catalog_list_keeps_the_nested_attribute_asked_for_in_every_element(http: Any) -> None:
    listed = http.get(f"{CATALOG}/productSpecification", params={"fields": "productSpecCharacteristic.name"}).json()
    ipad = next(s for s in listed if s["id"] == "ipad-mini")
    assert ipad["productSpecCharacteristic"] == [{"name": "memorySize"}, {"name": "colour"}]
    assert set(ipad) == {"id", "href", "@type", "productSpecCharacteristic"}


def test_an_inventory_product_keeps_the_ids_of_the_objects_on_the_way(http: Any) -> None:
    http.post(INVENTORY, json={"id": "p-1", "status": "active", "relatedParty": OWNER, "name": "Plan",
                               "productOffering": {"id": "mobile-telephony-plan", "name": "Mobile telephony"},
                               "realizingResource": [{"id": "sim-small", "name": "SIM"}]})
    one = http.get(f"{INVENTORY}/p-1", params={"fields": "productOffering.name,realizingResource.name"}).json()
    assert one["productOffering"] == {"id": "mobile-telephony-plan", "name": "Mobile telephony"}
    assert one["realizingResource"] == [{"id": "sim-small", "name": "SIM"}]
    assert "name" not in one and "status" not in one


def test_an_order_shows_only_its_items_prices_when_asked(http: Any) -> None:
    item = {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "mobile-telephony-plan"},
            "product": {"productCharacteristic": [{"name": "simFormFactor", "value": "SMALL"}],
                        "realizingResource": [{"id": "sim-small"}]}}
    placed = http.post(ORDER, json={"relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
                                    "productOrderItem": [item]})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    shown = http.get(f"{ORDER}/{order['id']}", params={"fields": "productOrderItem.itemPrice"}).json()
    assert shown["productOrderItem"] == [{"id": "1", "action": "add",
                                          "itemPrice": order["productOrderItem"][0]["itemPrice"]}]
    refused = http.get(ORDER, params={"fields": "productOrderItem.itemPrise"})
    assert refused.status_code == 400 and "did you mean 'productOrderItem.itemPrice'" in refused.json()["message"]


def test_a_price_s_value_selected_keeps_what_tells_it_from_the_others(http: Any) -> None:
    """``orderTotalPrice.price.taxIncludedAmount.value`` keeps each price's kind and period
    and the amount's currency: bare numbers could not be told apart (10.00 once, 19.90 a month)."""
    item = {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "mobile-telephony-plan"},
            "product": {"productCharacteristic": [{"name": "simFormFactor", "value": "SMALL"}],
                        "realizingResource": [{"id": "sim-small"}]}}
    placed = http.post(ORDER, json={"relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
                                    "productOrderItem": [item]})
    assert placed.status_code == 201, placed.text
    totals = placed.json()["orderTotalPrice"]
    shown = http.get(f"{ORDER}/{placed.json()['id']}",
                     params={"fields": "orderTotalPrice.price.taxIncludedAmount.value"}).json()
    assert shown["orderTotalPrice"] == [
        {**{k: t[k] for k in ("priceType", "recurringChargePeriod") if k in t},
         "price": {"taxIncludedAmount": t["price"]["taxIncludedAmount"]}} for t in totals]
    assert {t["priceType"] for t in shown["orderTotalPrice"]} == {"oneTime", "recurring"}
    assert all(set(t["price"]["taxIncludedAmount"]) == {"unit", "value"} for t in shown["orderTotalPrice"])
