"""A product may be made ``aborted`` — the status TMF622, 637, 663 and 679 list, misspelt
``"aborted "`` (a trailing space) in their official files — and ``"aborted "`` itself is
refused with the value meant: it was accepted, and a product so written was billed, since
the bill run leaves out ``aborted``, not ``"aborted "``. An aborted product is neither
billed nor rated (usage on it is rejected ``subscriptionNotActive``).
Over HTTP, both tiers; the example is examples/roaming (the reviewer's setup)."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.api.tmfspec import spec
from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4/product"
USAGE = "/tmf-api/usageManagement/v4/usage"
BILLS = "/tmf-api/customerBillManagement/v4"
MERGE = {"content-type": "application/merge-patch+json"}
FEE = [{"name": "fee", "priceType": "recurring", "recurringChargePeriod": "month", "billingAccount": {"id": "ba-a"},
        "price": {"taxIncludedAmount": {"unit": "EUR", "value": 10}}}]
STATUS_SPECS = ("TMF622-ProductOrdering-v4.0.0.swagger.json", "TMF637-ProductInventory-v4.0.0.swagger.json",
                "TMF663-ShoppingCart-v4.0.0.swagger.json", "TMF679-ProductOfferingQualification-v4.0.0.swagger.json")


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


def _product(product_id: str, status: str) -> dict[str, Any]:
    return {"id": product_id, "name": product_id, "status": status, "startDate": "2026-01-01T00:00:00Z",
            "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-a"}, "productPrice": FEE,
            "relatedParty": [{"id": "cust-a", "role": "customer", "@referredType": "Individual"}]}


@pytest.fixture
def http(engine: Engine, app_for: Any) -> Iterator[TestClient]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "roaming"), "roaming")
    with app_for(engine) as app, TestClient(app) as client:
        _ok(client.post(f"{PARTY}/individual", json={"id": "cust-a", "givenName": "A", "familyName": "S"}))
        _ok(client.post(f"{ACCOUNT}/billingAccount", json={"id": "ba-a", "name": "A", "relatedParty": [
            {"id": "cust-a", "name": "A", "role": "owner", "@referredType": "Individual"}]}))
        yield client


@pytest.mark.parametrize("file", STATUS_SPECS)
def test_every_product_status_enum_reads_aborted_without_the_space(file: str) -> None:
    enum = spec(file).definitions["ProductStatusType"]["enum"]
    assert "aborted" in enum and "aborted " not in enum


def test_a_product_is_created_and_patched_aborted(http: TestClient) -> None:
    assert _ok(http.post(INVENTORY, json=_product("p-created", "aborted")))["status"] == "aborted"
    _ok(http.post(INVENTORY, json=_product("p-patched", "active")))
    assert _ok(http.patch(f"{INVENTORY}/p-patched", json={"status": "aborted"}, headers=MERGE), 200)["status"] == \
        "aborted"


def test_aborted_with_a_space_is_refused_with_the_status_meant_and_changes_nothing(http: TestClient) -> None:
    _ok(http.post(INVENTORY, json=_product("p-1", "active")))
    for response in (http.patch(f"{INVENTORY}/p-1", json={"status": "aborted "}, headers=MERGE),
                     http.post(INVENTORY, json=_product("p-2", "aborted "))):
        assert response.status_code == 400, response.text
        assert "(did you mean 'aborted'?)" in response.json()["message"]
    assert _ok(http.get(f"{INVENTORY}/p-1"), 200)["status"] == "active"
    assert http.get(f"{INVENTORY}/p-2").status_code == 404


def test_an_aborted_product_is_not_billed(http: TestClient) -> None:
    _ok(http.post(INVENTORY, json=_product("p-billed", "active")))
    _ok(http.post(INVENTORY, json=_product("p-aborted", "active")))
    _ok(http.patch(f"{INVENTORY}/p-aborted", json={"status": "aborted"}, headers=MERGE), 200)
    assert _ok(http.post(f"{BILLS}/billRun", json={"period": "2026-06"}))["billsMade"] == ["ba-a-2026-06-EUR"]
    items = _ok(http.get(f"{BILLS}/appliedCustomerBillingRate"), 200)
    assert sorted(i["product"]["id"] for i in items if i.get("product")) == ["p-billed"]
    assert _ok(http.get(f"{BILLS}/customerBill/ba-a-2026-06-EUR"), 200)["amountDue"]["value"] == Decimal("10.00")


def test_an_aborted_product_is_not_rated(http: TestClient) -> None:
    _ok(http.post(INVENTORY, json=_product("p-aborted", "aborted")))
    characteristics = [{"name": "productId", "value": "p-aborted"}, {"name": "service", "value": "data"},
                       {"name": "volume", "value": 1}, {"name": "unit", "value": "GB"},
                       {"name": "roaming", "value": False}]
    usage = _ok(http.post(USAGE, json={"id": "u-1", "usageDate": "2026-06-10T10:00:00Z", "usageType": "data",
                                      "usageCharacteristic": characteristics}))
    assert usage["status"] == "rejected"
    assert [r["code"] for r in usage["rejectionReason"]] == ["subscriptionNotActive"]
