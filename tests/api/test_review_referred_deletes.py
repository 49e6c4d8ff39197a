"""A resource still referred to cannot be deleted (api.md: 409), and the 409 names who refers
to it, nothing deleted. It was only checked among catalog items and among the references a
resource body is checked for: ``DELETE /productOffering/mobile-data-plan`` answered 204 while
inventory products were bought from it and the roaming rule sets named it (a prerequisite,
a discount's target), and ``DELETE /billingAccount/ba-a`` 204 while its bill named it.

The reviewer's setup: examples/roaming and examples/devices, party cust-a, account ba-a.
Both tiers."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
CATALOG = "/tmf-api/productCatalogManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4/product"
BILLS = "/tmf-api/customerBillManagement/v4"
MERGE = {"content-type": "application/merge-patch+json"}


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal) if response.content else None


def _line(line: str, account: str, payer: str | None = None) -> dict[str, Any]:
    return {"id": line, "status": "active", "startDate": "2026-01-01T00:00:00Z",
            "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": account},
            "productPrice": [{"name": "mobile-data-monthly", "priceType": "recurring", "recurringChargePeriod": "month",
                              "billingAccount": {"id": payer or account},
                              "price": {"taxIncludedAmount": {"unit": "EUR", "value": 20}}}],
            "relatedParty": [{"id": "cust-a", "role": "customer", "@referredType": "Individual"}]}


def _account(client: TestClient, account: str) -> None:
    _ok(client.post(f"{ACCOUNT}/billingAccount", json={"id": account, "name": account, "relatedParty": [
        {"id": "cust-a", "name": "A", "role": "owner", "@referredType": "Individual"}]}))


@pytest.fixture
def http(engine: Engine, app_for: Any) -> Iterator[TestClient]:
    for example in ("roaming", "devices"):
        with UnitOfWork(engine) as uow:
            services.load_project(uow, load_project(ROOT / "examples" / example), example)
    with app_for(engine) as app, TestClient(app) as client:
        _ok(client.post(f"{PARTY}/individual", json={"id": "cust-a", "givenName": "A", "familyName": "S"}))
        _account(client, "ba-a")
        yield client


def _conflict(response: Any) -> str:
    assert response.status_code == 409, response.text
    message: str = response.json()["message"]
    return message


def test_an_offering_of_inventory_products_and_rule_sets_is_not_deleted(http: TestClient) -> None:
    for line in ("line-1", "line-2"):
        _ok(http.post(INVENTORY, json=_line(line, "ba-a")))
    message = _conflict(http.delete(f"{CATALOG}/productOffering/mobile-data-plan"))
    assert message.startswith("ProductOffering 'mobile-data-plan' is still referred to by ")
    assert "Product 'line-1', Product 'line-2'" in message
    assert "rule set 'mobile-discounts' v1 at $.rules[0].target.offering" in message
    assert "rule set 'mobile-usage' v1 at $.prerequisites[0]" in message
    _ok(http.get(f"{CATALOG}/productOffering/mobile-data-plan"), 200)


def test_an_offering_only_rule_sets_name_is_not_deleted(http: TestClient) -> None:
    message = _conflict(http.delete(f"{CATALOG}/productOffering/mobile-data-plan"))
    assert "Product '" not in message and "rule set 'mobile-discounts'" in message
    _ok(http.get(f"{CATALOG}/productOffering/mobile-data-plan"), 200)


def test_the_products_named_are_a_few_then_counted(http: TestClient) -> None:
    for n in range(7):
        _ok(http.post(INVENTORY, json=_line(f"line-{n}", "ba-a")))
    message = _conflict(http.delete(f"{CATALOG}/productOffering/mobile-data-plan"))
    assert "Product 'line-4' … (7 in all)" in message and "line-5" not in message


def test_an_offering_nothing_names_is_deleted(http: TestClient) -> None:
    created = _ok(http.post(f"{CATALOG}/productOffering", json={
        "id": "spare", "name": "Spare", "lifecycleStatus": "Active", "productSpecification": {"id": "mobile-data"}}))
    assert created["id"] == "spare"
    _ok(http.delete(f"{CATALOG}/productOffering/spare"), 204)
    assert http.get(f"{CATALOG}/productOffering/spare").status_code == 404


def test_a_billing_account_a_bill_names_is_not_deleted(http: TestClient) -> None:
    _ok(http.post(INVENTORY, json=_line("line-1", "ba-a")))
    assert _ok(http.post(f"{BILLS}/billRun", json={"period": "2026-06"}))["billsMade"] == ["ba-a-2026-06-EUR"]
    _ok(http.delete(f"{INVENTORY}/line-1"), 204)  # the product gone, its bill stays
    message = _conflict(http.delete(f"{ACCOUNT}/billingAccount/ba-a"))
    assert message.startswith("BillingAccount 'ba-a' is still referred to by ")
    assert "CustomerBill 'ba-a-2026-06-EUR'" in message
    assert "AppliedCustomerBillingRate 'ba-a-2026-06-EUR-0001'" in message
    _ok(http.get(f"{ACCOUNT}/billingAccount/ba-a"), 200)
    _ok(http.get(f"{BILLS}/customerBill/ba-a-2026-06-EUR"), 200)


def test_a_billing_account_that_pays_a_products_price_is_not_deleted(http: TestClient) -> None:
    _account(http, "ba-payer")
    _ok(http.post(INVENTORY, json=_line("line-1", "ba-a", payer="ba-payer")))
    assert "Product 'line-1'" in _conflict(http.delete(f"{ACCOUNT}/billingAccount/ba-payer"))
    _ok(http.get(f"{ACCOUNT}/billingAccount/ba-payer"), 200)


def test_a_billing_account_nothing_names_is_deleted(http: TestClient) -> None:
    _account(http, "ba-spare")
    _ok(http.delete(f"{ACCOUNT}/billingAccount/ba-spare"), 204)
    assert http.get(f"{ACCOUNT}/billingAccount/ba-spare").status_code == 404


def test_a_billing_account_with_rated_charges_is_not_deleted(http: TestClient) -> None:
    _ok(http.post(INVENTORY, json=_line("line-1", "ba-a")))
    usage = _ok(http.post("/tmf-api/usageManagement/v4/usage", json={
        "id": "u-1", "usageDate": "2026-06-10T10:00:00Z", "usageType": "data", "usageCharacteristic": [
            {"name": "productId", "value": "line-1"}, {"name": "service", "value": "data"},
            {"name": "volume", "value": 1}, {"name": "unit", "value": "GB"}, {"name": "roaming", "value": False}]}))
    assert usage["status"] == "rated", usage
    _ok(http.delete(f"{INVENTORY}/line-1"), 204)  # the product gone, its charge (not billed yet) stays
    assert _conflict(http.delete(f"{ACCOUNT}/billingAccount/ba-a")) == \
        "BillingAccount 'ba-a' is still referred to by 1 rated charge"
    _ok(http.get(f"{ACCOUNT}/billingAccount/ba-a"), 200)
