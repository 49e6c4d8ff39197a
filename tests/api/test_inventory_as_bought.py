"""The inventory as it was bought, over HTTP on both tiers (issue 13, item 4): a customer who
bought a terminal and a SIM of the right form factor through a completed order can order
again — the compatibility rules see the resources each of her products was realised with
(``realizingResource``), as the order wrote them, and not only its offering."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
CHECK = "/tmf-api/productConfigurationManagement/v5/checkProductConfiguration"
PARTY, INVENTORY = "/tmf-api/party/v4", "/tmf-api/productInventory/v4/product"
MERGE = {"content-type": "application/merge-patch+json"}
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
OWNER = [{"id": "ana", "role": "owner", "@referredType": "Individual"}]


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    with TestClient(create_app(engine=engine)) as client:
        assert client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}
                           ).status_code == 201
        yield client


def _item(id: str, offering: str, characteristics: dict[str, Any], resources: list[str] | None = None
          ) -> dict[str, Any]:
    product: dict[str, Any] = {"productCharacteristic": [{"name": k, "value": v, "@type": "Characteristic"}
                                                         for k, v in characteristics.items()]}
    if resources:
        product["realizingResource"] = [{"id": r} for r in resources]
    return {"id": id, "action": "add", "quantity": 1, "productOffering": {"id": offering}, "product": product}


def _ordered_and_completed(http: Any, *items: dict[str, Any]) -> dict[str, Any]:
    placed = http.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": "2026-09-01",
                                    "productOrderItem": list(items)})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    assert http.patch(f"{ORDER}/{order_id}", json={"state": "inProgress"}, headers=MERGE).status_code == 200
    completed = http.patch(f"{ORDER}/{order_id}", json={"state": "completed"}, headers=MERGE).json()
    assert completed["state"] == "completed", completed.get("note")
    return completed


TABLET = _item("1", "ipad-mini-std", {"memorySize": "16GB"})


def test_a_customer_who_bought_a_smartphone_and_a_small_sim_can_order_a_tablet_afterwards(http: Any) -> None:
    _ordered_and_completed(http, _item("1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
                           _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"]))
    products = {p["productOffering"]["id"]: p for p in http.get(INVENTORY, params={"relatedParty.id": "ana"}).json()}
    assert products["mobile-telephony-plan"]["realizingResource"] == [{"id": "sim-small"}]
    assert products["smartphone"]["realizingResource"] == [{"id": "terminal-smartphone"}]
    # The plan's specification brings a physical SIM card: only the form factor the order
    # picked (sim-small, on the product) says which one it is; the tablet needs a small SIM.
    check = http.post(CHECK, json={"cartItem": [TABLET], "relatedParty": CUSTOMER, "requestedDate": "2026-09-01"})
    assert check.json()["violation"] == []
    _ordered_and_completed(http, TABLET)  # accepted, and completed against the inventory as it is then
    owned = sorted(p["productOffering"]["id"] for p in http.get(INVENTORY, params={"relatedParty.id": "ana"}).json())
    assert owned == ["ipad-mini-std", "mobile-telephony-plan", "smartphone"]


def test_the_resources_a_product_was_realised_with_are_what_the_rules_hold_against_a_later_basket(
        http: Any) -> None:
    """The other way round: a smartphone owned with a large SIM (put in the inventory as
    another system would) makes a later basket incompatible, and the violation names the
    owned products, not the basket's items."""
    for id, offering, resource in (("p-plan", "mobile-telephony-plan", "sim-large"),
                                   ("p-phone", "smartphone", "terminal-smartphone")):
        created = http.post(INVENTORY, json={"id": id, "status": "active", "relatedParty": OWNER,
                                             "productOffering": {"id": offering},
                                             "realizingResource": [{"id": resource}]})
        assert created.status_code == 201, created.text
    check = http.post(CHECK, json={"cartItem": [TABLET], "relatedParty": CUSTOMER,
                                   "requestedDate": "2026-09-01"}).json()
    found = {(v["rule"], v["path"]) for v in check["violation"]}
    # $.inventory[i]: the i-th of Ana's products by id (p-phone, p-plan)
    assert found == {("smartphone-needs-small-sim", "$.inventory[0]"),
                     ("smartphone-refuses-large-sim", "$.inventory[0]"),
                     ("ipad-needs-small-sim", "$.cartItem[0]")}
    refused = http.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": "2026-09-01",
                                     "productOrderItem": [TABLET]})
    assert refused.status_code == 422
    # the SIM changed to a small one: the same basket passes
    assert http.patch(f"{INVENTORY}/p-plan", json={"realizingResource": [{"id": "sim-small"}]},
                      headers=MERGE).status_code == 200
    assert http.post(CHECK, json={"cartItem": [TABLET], "relatedParty": CUSTOMER,
                                  "requestedDate": "2026-09-01"}).json()["violation"] == []


def test_only_effective_products_bring_their_resources(http: Any) -> None:
    http.post(INVENTORY, json={"id": "p-plan", "status": "active", "relatedParty": OWNER,
                               "productOffering": {"id": "mobile-telephony-plan"},
                               "realizingResource": [{"id": "sim-small"}]})
    http.post(INVENTORY, json={"id": "p-old", "status": "terminated", "relatedParty": OWNER,
                               "productOffering": {"id": "smartphone"}, "realizingResource": [{"id": "sim-large"}]})
    assert http.post(CHECK, json={"cartItem": [TABLET], "relatedParty": CUSTOMER,
                                  "requestedDate": "2026-09-01"}).json()["violation"] == []


def test_realizing_resources_that_cannot_be_catalog_ids_are_not_read_and_break_nothing(http: Any) -> None:
    created = http.post(INVENTORY, json={"id": "p-plan", "status": "active", "relatedParty": OWNER,
                                         "productOffering": {"id": "mobile-telephony-plan"},
                                         "realizingResource": [{"id": "SIM #8933 01"}, {"id": "sim-small"}]})
    assert created.status_code == 201, created.text
    answer = http.post(CHECK, json={"cartItem": [TABLET], "relatedParty": CUSTOMER, "requestedDate": "2026-09-01"})
    assert answer.status_code == 200 and answer.json()["violation"] == []
